// The service.* methods on an in-process member (FakeMember): registration keys and their
// values, re-registration keeping registeredIndex, heartbeats that refresh without a watch
// event or change the status with one, 530 once a registration lapsed, idempotent
// deregistration, list and services, the watch stream, and actionable -32602 refusals.
import t from 'tap';
import type { Test } from 'tap';
import type { Instance } from '../../recipes/discovery/instance.js';
import { FakeConnection, FakeMember } from '../server/fake-member.js';

interface Reply { result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }

function setup(t: Test): { m: FakeMember; conn: FakeConnection } {
  const m = new FakeMember();
  const conn = new FakeConnection(m);
  t.teardown(() => conn.close());
  return { m, conn };
}

async function ok<T>(conn: FakeConnection, method: string, params: Record<string, unknown>): Promise<T> {
  const reply: Reply = await conn.rpc(method, params);
  if (reply.error !== undefined) throw new Error(`${method}: ${reply.error.code} ${reply.error.message}`);
  return reply.result as T;
}

const web = (instance: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ service: 'web', instance, endpoint: `http://10.0.0.1:80${instance.slice(-1)}`, ...extra });

const listOf = async (conn: FakeConnection, params: Record<string, unknown> = { service: 'web' }): Promise<Instance[]> =>
  (await ok<{ instances: Instance[] }>(conn, 'service.list', params)).instances;

/** The notifications of subscription `id` so far. */
const notes = (conn: FakeConnection, id: string): { instances: Instance[]; index: number }[] =>
  (conn.sent as { params?: { subscription: string; result: { instances: Instance[]; index: number } } }[])
    .filter((f) => f.params?.subscription === id).map((f) => f.params!.result);

t.test('register writes one TTL key and list reports it', async (t) => {
  const { m, conn } = setup(t);
  const r = await ok<{ instance: Instance }>(conn, 'service.register', web('a1', { meta: { zone: 'z1' }, ttl: 5 }));
  const node = m.store.get('/cairn/services/web/a1', {}, m.nowMs).node;
  t.same(r.instance, { instance: 'a1', endpoint: 'http://10.0.0.1:801', meta: { zone: 'z1' }, status: 'passing', registeredIndex: node.createdIndex });
  t.equal(node.ttl, 5);
  t.same(JSON.parse(node.value!), { instance: 'a1', endpoint: 'http://10.0.0.1:801', meta: { zone: 'z1' }, status: 'passing', ttl: 5 });
  const listed = await ok<{ instances: Instance[]; index: number }>(conn, 'service.list', { service: 'web' });
  t.same(listed, { instances: [r.instance], index: m.store.index });
});

t.test('re-registering updates the instance in place: same registeredIndex, new data', async (t) => {
  const { conn } = setup(t);
  const first = await ok<{ instance: Instance }>(conn, 'service.register', web('a1'));
  const again = await ok<{ instance: Instance }>(conn, 'service.register', web('a1', { endpoint: '10.0.0.9:9000', status: 'warning' }));
  t.equal(again.instance.registeredIndex, first.instance.registeredIndex);
  t.same(await listOf(conn), [{ ...again.instance, endpoint: '10.0.0.9:9000', status: 'warning' }]);
});

t.test('a heartbeat renews the TTL; without one the registration expires and heartbeat says 530', async (t) => {
  const { m, conn } = setup(t);
  const start = m.nowMs;
  await ok(conn, 'service.register', web('a1', { ttl: 2 }));
  m.nowMs = start + 1500;
  t.same(await ok(conn, 'service.heartbeat', { service: 'web', instance: 'a1' }), { ttl: 2 });
  m.tickClock(start + 2500);
  t.equal((await listOf(conn)).length, 1, 'alive past its first deadline thanks to the heartbeat');
  m.tickClock(start + 3600);
  t.same(await listOf(conn), [], 'expired 2 s after the last heartbeat');
  const lapsed: Reply = await conn.rpc('service.heartbeat', { service: 'web', instance: 'a1' });
  t.equal(lapsed.error?.code, 530);
  t.match(lapsed.error?.message, /not registered.*service\.register again/);
});

t.test('heartbeat of an instance never registered is 530', async (t) => {
  const { conn } = setup(t);
  t.equal((await conn.rpc('service.heartbeat', { service: 'web', instance: 'nope' })).error?.code, 530);
});

t.test('a heartbeat with a new status is a write watchers see; the same status is a silent refresh', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn, 'service.register', web('a1'));
  const events: string[] = [];
  const remove = m.watchHub.add({ key: '/cairn/services/web', recursive: true, deliver: (e) => events.push(e.action), reset: () => {} });
  t.teardown(remove);
  await ok(conn, 'service.heartbeat', { service: 'web', instance: 'a1' });
  await ok(conn, 'service.heartbeat', { service: 'web', instance: 'a1', status: 'passing' });
  t.same(events, [], 'refreshes emit nothing');
  await ok(conn, 'service.heartbeat', { service: 'web', instance: 'a1', status: 'maintenance' });
  t.same(events, ['compareAndSwap']);
  t.equal((await listOf(conn))[0]?.status, 'maintenance');
});

t.test('deregister deletes the key and is idempotent', async (t) => {
  const { conn } = setup(t);
  await ok(conn, 'service.register', web('a1'));
  t.same(await ok(conn, 'service.deregister', { service: 'web', instance: 'a1' }), {});
  t.same(await listOf(conn), []);
  t.same(await ok(conn, 'service.deregister', { service: 'web', instance: 'a1' }), {}, 'again: still {}');
  t.equal((await conn.rpc('service.heartbeat', { service: 'web', instance: 'a1' })).error?.code, 530);
});

t.test('list filters by status, sorts by instance and skips values that are not registrations', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn, 'service.register', web('b2', { status: 'critical' }));
  await ok(conn, 'service.register', web('a1'));
  await ok(conn, 'service.register', web('c3'));
  m.apply({ requestId: 'x', op: 'kv', at: m.nowMs, write: { method: 'set', params: { key: '/cairn/services/web/junk', value: 'not json' } } });
  t.same((await listOf(conn)).map((i) => i.instance), ['a1', 'b2', 'c3']);
  t.same((await listOf(conn, { service: 'web', status: 'critical' })).map((i) => i.instance), ['b2']);
  t.same(await listOf(conn, { service: 'none' }), [], 'an unknown service has no instances');
});

t.test('services lists names with at least one instance', async (t) => {
  const { m, conn } = setup(t);
  t.same(await ok(conn, 'service.services', {}), { services: [] }, 'nothing registered yet');
  await ok(conn, 'service.register', web('a1', { ttl: 1 }));
  await ok(conn, 'service.register', { service: 'db', instance: 'p', endpoint: 'db-1:5432', ttl: 60 });
  t.same(await ok(conn, 'service.services', {}), { services: ['db', 'web'] });
  m.tickClock(m.nowMs + 1001);
  t.same(await ok(conn, 'service.services', {}), { services: ['db'] }, 'web has only an empty directory left');
});

t.test('watch sends the list first and after each change, never for a refresh', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn, 'service.register', web('a1', { ttl: 1 }));
  const { subscription, index } = await ok<{ subscription: string; index: number }>(conn, 'service.watch', { service: 'web' });
  t.same(notes(conn, subscription).map((n) => n.instances.map((i) => i.instance)), [['a1']]);
  t.equal(notes(conn, subscription)[0]?.index, index);
  await ok(conn, 'service.heartbeat', { service: 'web', instance: 'a1' });
  t.equal(notes(conn, subscription).length, 1, 'a refresh sends nothing');
  await ok(conn, 'service.register', web('b2', { ttl: 60 }));
  await ok(conn, 'service.heartbeat', { service: 'web', instance: 'b2', status: 'warning' });
  m.tickClock(m.nowMs + 1001);
  await ok(conn, 'service.deregister', { service: 'web', instance: 'b2' });
  await ok(conn, 'service.register', { service: 'other', instance: 'x', endpoint: 'x:1' });
  const seen = notes(conn, subscription).map((n) => n.instances.map((i) => `${i.instance}:${i.status}`));
  t.same(seen, [['a1:passing'], ['a1:passing', 'b2:passing'], ['a1:passing', 'b2:warning'], ['b2:warning'], []]);
  const indexes = notes(conn, subscription).map((n) => n.index);
  t.same(indexes, [...indexes].sort((a, b) => a - b), 'indexes increase');
  t.equal(indexes.at(-1), m.store.index - 1, 'the last one is the deregistration (the other service sent nothing)');
});

t.test('a watch that ends (unsubscribe or closed connection) leaves no watcher behind', async (t) => {
  const { m, conn } = setup(t);
  const { subscription } = await ok<{ subscription: string }>(conn, 'service.watch', { service: 'web' });
  await ok(conn, 'service.watch', { service: 'db' });
  t.equal(m.watchHub.size, 2);
  await ok(conn, 'unsubscribe', { subscription });
  t.equal(m.watchHub.size, 1);
  conn.close();
  t.equal(m.watchHub.size, 0);
});

t.test('the whole service directory going away empties the watched list', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn, 'service.register', web('a1'));
  const { subscription } = await ok<{ subscription: string }>(conn, 'service.watch', { service: 'web' });
  m.apply({ requestId: 'x', op: 'kv', at: m.nowMs, write: { method: 'delete', params: { key: '/cairn/services', recursive: true } } });
  t.same(notes(conn, subscription).map((n) => n.instances.length), [1, 0]);
});

t.test('bad params are refused with -32602 naming the field and what to send', async (t) => {
  const { conn } = setup(t);
  const problems = async (method: string, params: Record<string, unknown>): Promise<string[]> => {
    const reply: Reply = await conn.rpc(method, params);
    t.equal(reply.error?.code, -32602, `${method} ${JSON.stringify(params)}`);
    return ((reply.error?.data?.['errors'] ?? []) as { field: string; problem: string }[]).map((e) => `${e.field} ${e.problem}`);
  };
  for (const bad of ['..', '_hidden', 'a/b', '', 'x'.repeat(129)]) {
    t.match(await problems('service.register', web('a1', { instance: bad })), [/^instance must be 1 to 128 letters, digits.*\(an? instance name is one key segment\)$/]);
  }
  t.match(await problems('service.list', { service: '.' }), [/^service must be 1 to 128 letters/]);
  for (const endpoint of ['10.0.0.1', 'http://', 'a b:80', 'host:port']) {
    t.match(await problems('service.register', web('a1', { endpoint })), [/^endpoint must be a URL with a scheme .* or host:port/]);
  }
  t.match(await problems('service.heartbeat', { service: 'web', instance: 'a1', status: 'down' }), [/^status must be one of: "passing", "warning", "critical", "maintenance"/]);
  t.match(await problems('service.register', web('a1', { ttl: 0 })), ['ttl must be at least 1']);
  t.match(await problems('service.register', web('a1', { meta: { n: 1 } })), ['meta/n must be a string']);
  const meta = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  t.match(await problems('service.register', web('a1', { meta })), [/^meta must have at most 64 entries \(it has 65\)/]);
  t.match(await problems('service.watch', { service: 'web', status: 'passing' }), [/^status is not a known parameter of service.watch; known: service/]);
});

t.test('endpoints: URLs with a scheme and host:port forms are accepted', async (t) => {
  const { conn } = setup(t);
  for (const endpoint of ['http://10.0.0.1:8080', 'grpc://db-1/path', 'db-1.internal:5432', '[::1]:8080', 'https://example.com']) {
    t.equal((await conn.rpc('service.register', web('a1', { endpoint }))).error, undefined, endpoint);
  }
});
