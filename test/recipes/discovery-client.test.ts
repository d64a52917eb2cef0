// The discovery client helpers and cairnctl's `service` argument checks, against an
// in-process member (FakeMember) through a stand-in client: registerService re-registers
// with its current data after the key lapsed or after its calls failed for a while (a lost
// connection), stops for good on deregister, close or abort; heartbeat timing is pure.
import t from 'tap';
import type { Test } from 'tap';
import type { CairnClient } from '../../clients/client.js';
import { parseCommand } from '../../clients/cairnctl/parse.js';
import { parseServiceMeta } from '../../clients/cairnctl/recipes/discovery.js';
import { CairnError, ClientErrorCodes } from '../../clients/errors.js';
import { listServiceInstances, registerService, serviceHeartbeatDelayMs } from '../../clients/recipes/discovery.js';
import type { ServiceRegistration } from '../../clients/recipes/discovery.js';
import { FakeConnection, FakeMember } from '../server/fake-member.js';

type Caller = Pick<CairnClient, 'call'>;

/** A client whose calls go to `conn`; while `down` is set every call fails as on a lost connection. */
function fakeClient(t: Test): { m: FakeMember; client: Caller; calls: string[]; net: { down: boolean } } {
  const m = new FakeMember();
  const conn = new FakeConnection(m);
  t.teardown(() => conn.close());
  const calls: string[] = [];
  const net = { down: false };
  const call = async (method: string, params: object = {}): Promise<unknown> => {
    calls.push(method);
    if (net.down) throw new CairnError(ClientErrorCodes.ConnectionLost, `${method}: connection lost`, undefined, true);
    const reply = await conn.rpc(method, params as Record<string, unknown>);
    if (reply.error !== undefined) throw CairnError.fromWire(reply.error);
    return reply.result;
  };
  return { m, client: { call } as Caller, calls, net };
}

/** Polls `probe` every 20 ms for at most `ms`. */
async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const keep = (t: Test, r: ServiceRegistration): ServiceRegistration => {
  t.teardown(() => r.close());
  return r;
};

t.test('heartbeats come every ttl/3, and at most 1 s after a failure', async (t) => {
  t.equal(serviceHeartbeatDelayMs(10, true), 3333);
  t.equal(serviceHeartbeatDelayMs(10, false), 1000);
  t.equal(serviceHeartbeatDelayMs(1, false), 333);
  t.equal(serviceHeartbeatDelayMs(0.1, true), 100, 'never a busy loop');
});

t.test('a registration that lapsed is registered again with its current data', async (t) => {
  const { m, client } = fakeClient(t);
  const reg = keep(t, await registerService(client, { service: 'web', instance: 'a1', endpoint: 'a1:80', meta: { v: '2' }, ttl: 1 }));
  t.equal(reg.registrations, 1);
  const first = reg.instance.registeredIndex;
  await reg.setStatus('warning');
  m.apply({ requestId: 'x', op: 'kv', at: m.nowMs, write: { method: 'delete', params: { key: '/cairn/services/web/a1' } } });
  await until('a re-registration', 3000, () => reg.registrations === 2);
  const { instances } = await listServiceInstances(client, 'web');
  t.same(instances, [{ instance: 'a1', endpoint: 'a1:80', meta: { v: '2' }, status: 'warning', registeredIndex: reg.instance.registeredIndex }]);
  t.ok(reg.instance.registeredIndex > first, 'a new registration: a new registeredIndex');
});

t.test('after calls failed for longer than the TTL (a lost connection), it registers again', async (t) => {
  const { m, client, net } = fakeClient(t);
  const errors: unknown[] = [];
  const reg = keep(t, await registerService(client, { service: 'web', instance: 'a1', endpoint: 'a1:80', ttl: 1, onError: (e) => errors.push(e) }));
  net.down = true;
  await until('a failed heartbeat', 3000, () => errors.length > 0);
  m.tickClock(m.nowMs + 1001); // the TTL passes while the connection is down
  t.same(m.store.get('/cairn/services/web', {}, m.nowMs).node.nodes ?? [], [], 'it lapsed');
  net.down = false;
  await until('a re-registration', 3000, () => reg.registrations === 2);
  t.equal((errors[0] as CairnError).code, ClientErrorCodes.ConnectionLost);
  t.equal((await listServiceInstances(client, 'web')).instances.length, 1);
});

t.test('deregister removes it and nothing registers it again', async (t) => {
  const { m, client, calls } = fakeClient(t);
  const reg = keep(t, await registerService(client, { service: 'web', instance: 'a1', endpoint: 'a1:80', ttl: 1 }));
  await until('a heartbeat', 3000, () => calls.includes('service.heartbeat'));
  await reg.deregister();
  t.equal(reg.isClosed, true);
  const count = calls.length;
  await new Promise((r) => setTimeout(r, 800)); // more than two heartbeat periods
  t.equal(calls.length, count, 'no call after deregister');
  t.same(m.store.get('/cairn/services/web', {}, m.nowMs).node.nodes ?? [], []);
});

t.test('aborting the signal deregisters', async (t) => {
  const { m, client } = fakeClient(t);
  const abort = new AbortController();
  const reg = keep(t, await registerService(client, { service: 'web', instance: 'a1', endpoint: 'a1:80', signal: abort.signal }));
  abort.abort();
  await until('the key gone', 3000, () => (m.store.get('/cairn/services/web', {}, m.nowMs).node.nodes ?? []).length === 0);
  t.equal(reg.isClosed, true);
});

t.test('a refused first registration rejects and leaves nothing running', async (t) => {
  const { client, calls } = fakeClient(t);
  await t.rejects(registerService(client, { service: 'web', instance: 'a1', endpoint: 'no port' }), { code: -32602 });
  await new Promise((r) => setTimeout(r, 50));
  t.same(calls, ['service.register']);
});

t.test('cairnctl service: usage errors are found before connecting', async (t) => {
  const usage = (argv: string[]): string => {
    const plan = parseCommand(argv, {});
    return plan.kind === 'usage-error' ? plan.message : `not a usage error: ${plan.kind}`;
  };
  t.equal(usage(['service']), 'service takes a subcommand: register, list, watch');
  t.equal(usage(['service', 'register', 'web', 'a1']), 'service register takes <service> <instance> <endpoint>');
  t.equal(usage(['service', 'watch']), 'service watch takes <service>');
  t.match(usage(['service', 'list', 'web', '--status', 'down']), /--status must be one of passing, warning, critical, maintenance/);
  t.match(usage(['service', 'register', 'web', 'a1', 'a1:80', '--ttl', '0']), /--ttl must be a whole number/);
  t.match(usage(['service', 'register', 'web', 'a1', 'a1:80', '--meta', 'zone']), /"zone" has no key=/);
  t.equal(parseCommand(['service', 'list'], {}).kind, 'run');
  t.same(parseServiceMeta('zone=a,rack=7,empty='), { zone: 'a', rack: '7', empty: '' });
});
