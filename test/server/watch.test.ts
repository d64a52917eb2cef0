// kv.watch and kv.wait through the JSON-RPC layer on an in-process member: history replay
// then live events with nothing skipped or repeated, the reply before the first
// notification, hidden keys, ancestor deletions, unsubscribe, slow consumers and snapshots.
import t from 'tap';
import { FakeConnection, FakeMember } from './fake-member.js';

interface Notice { method: string; params: { subscription: string; result?: { index?: number; action?: string; node?: { key: string }; progress?: number }; error?: { code: number; data?: { index?: number } } } }

const setup = (history = 1000): FakeConnection => new FakeConnection(new FakeMember(history));
const notices = (c: FakeConnection): Notice[] => c.sent as Notice[];
const set = (c: FakeConnection, key: string, value = 'v'): Promise<unknown> => c.rpc('kv.set', { key, value });

t.test('a watch replays history from waitIndex, then streams live events, in index order', async (t) => {
  const c = setup();
  for (let i = 1; i <= 5; i++) await set(c, `/w/k${i}`);
  const started = await c.rpc('kv.watch', { key: '/w', recursive: true, waitIndex: 2 }) as { result: { subscription: string; index: number } };
  t.equal(started.result.index, 5);
  await set(c, '/w/k6');
  await set(c, '/other');
  await set(c, '/w/deep/k7');
  const indexes = notices(c).map((n) => n.params.result?.index);
  t.same(indexes, [2, 3, 4, 5, 6, 8], 'each matching event once, in order, other keys left out');
  t.ok(notices(c).every((n) => n.method === 'subscription' && n.params.subscription === started.result.subscription));
});

t.test('without waitIndex a watch starts after the current index', async (t) => {
  const c = setup();
  await set(c, '/a');
  await c.rpc('kv.watch', { key: '/a' });
  t.equal(notices(c).length, 0);
  await set(c, '/a', 'again');
  t.same(notices(c).map((n) => n.params.result?.index), [2]);
});

t.test('a stream holds its notifications until the reply naming it has been sent', async (t) => {
  const c = setup();
  const sub = c.subscriptions.open();
  const events: unknown[] = [];
  sub.push({ index: 1 });
  t.equal(c.sent.length, 0, 'held back');
  sub.activate();
  events.push(...c.sent);
  t.same(events, [{ jsonrpc: '2.0', method: 'subscription', params: { subscription: sub.id, result: { index: 1 } } }]);
});

t.test('a waitIndex older than the event history is refused with 401 and the current index', async (t) => {
  const c = setup(3);
  for (let i = 1; i <= 6; i++) await set(c, '/k');
  const reply = await c.rpc('kv.watch', { key: '/k', waitIndex: 2 });
  t.equal(reply.error?.code, 401);
  t.equal(reply.error?.data?.['index'], 6);
  t.equal(c.subscriptions.size, 0, 'no stream is left behind');
  const wait = await c.rpc('kv.wait', { key: '/k', waitIndex: 1 });
  t.equal(wait.error?.code, 401);
});

t.test('a recursive watch does not hear about hidden keys below it; a direct watch does', async (t) => {
  const c = setup();
  await c.rpc('kv.watch', { key: '/d', recursive: true });
  await c.rpc('kv.watch', { key: '/d/_h' });
  await set(c, '/d/_h');
  await set(c, '/d/x');
  const keys = notices(c).map((n) => n.params.result?.node?.key);
  t.same(keys, ['/d/_h', '/d/x'], 'the hidden key reached only its own watcher, once');
});

t.test('deleting a directory is delivered to watchers of keys below it', async (t) => {
  const c = setup();
  await set(c, '/dir/sub/key');
  await c.rpc('kv.watch', { key: '/dir/sub/key' });
  await c.rpc('kv.delete', { key: '/dir', recursive: true });
  t.same(notices(c).map((n) => [n.params.result?.action, n.params.result?.node?.key]), [['delete', '/dir']]);
});

t.test('a refresh takes an index but is never delivered', async (t) => {
  const c = setup();
  await c.rpc('kv.set', { key: '/r', value: 'v', ttl: 10 });
  await c.rpc('kv.watch', { key: '/r' });
  const refreshed = await c.rpc('kv.set', { key: '/r', ttl: 20, refresh: true }) as { result: { index: number; node: { value: string } } };
  t.equal(refreshed.result.index, 2);
  t.equal(refreshed.result.node.value, 'v', 'the value is kept');
  await set(c, '/r', 'changed');
  t.same(notices(c).map((n) => n.params.result?.index), [3]);
});

t.test('unsubscribe ends a stream; unknown ids are refused', async (t) => {
  const c = setup();
  const started = await c.rpc('kv.watch', { key: '/u' }) as { result: { subscription: string } };
  t.same((await c.rpc('unsubscribe', { subscription: started.result.subscription })).result, { unsubscribed: true });
  await set(c, '/u');
  t.equal(notices(c).length, 0);
  t.equal(c.member.watchHub.size, 0, 'the watcher is gone from the hub');
  t.equal((await c.rpc('unsubscribe', { subscription: started.result.subscription })).error?.code, -32602);
});

t.test('a slow consumer ends with 401 naming the current index, and the hub forgets it', async (t) => {
  const c = setup();
  await c.rpc('kv.watch', { key: '/s' });
  await set(c, '/s');
  c.buffered = 10_000; // the socket is backed up beyond the 1,000-byte limit of FakeConnection
  await set(c, '/s');
  await set(c, '/s');
  const last = notices(c).at(-1)!;
  t.equal(notices(c).length, 2, 'one event, then the end');
  t.equal(last.params.error?.code, 401);
  t.equal(last.params.error?.data?.index, 2);
  t.equal(c.member.watchHub.size, 0);
});

t.test('kv.wait answers from history, waits for a live event, or times out with null', async (t) => {
  const c = setup();
  await set(c, '/k', 'one');
  await set(c, '/k', 'two');
  t.match((await c.rpc('kv.wait', { key: '/k', waitIndex: 2 })).result, { action: 'set', index: 2 });
  const live = c.rpc('kv.wait', { key: '/k' });
  await set(c, '/k', 'three');
  t.match((await live).result, { index: 3, node: { value: 'three' } });
  const timedOut = await c.rpc('kv.wait', { key: '/nothing', timeoutMs: 20 });
  t.equal(timedOut.result, null);
  t.equal(c.member.watchHub.size, 0, 'neither wait is left in the hub');
});

t.test('a wait ends with null when its connection closes', async (t) => {
  const c = setup();
  const pending = c.rpc('kv.wait', { key: '/x' });
  c.close();
  t.equal((await pending).result, null);
  t.equal(c.member.watchHub.size, 0);
});

t.test('a snapshot replacing the store ends streams with 401', async (t) => {
  const c = setup();
  await c.rpc('kv.watch', { key: '/z' });
  for (const w of c.member.watchHub.all()) w.reset();
  t.equal(notices(c)[0]?.params.error?.code, 401);
  t.equal(c.member.watchHub.size, 0);
});

t.test('expiry from the log clock is delivered as an expire event', async (t) => {
  const c = setup();
  await c.rpc('kv.set', { key: '/ttl', value: 'x', ttl: 2 });
  await c.rpc('kv.watch', { key: '/ttl' });
  c.member.tickClock(c.member.nowMs + 1999);
  t.equal(notices(c).length, 0, 'not yet due');
  c.member.tickClock(c.member.nowMs + 2000);
  t.match(notices(c)[0]?.params.result, { action: 'expire', index: 2, node: { key: '/ttl' } });
});

t.test('per-connection subscription limit is a -32000 error naming the flag', async (t) => {
  const c = setup();
  for (let i = 0; i < 100; i++) await c.rpc('kv.watch', { key: `/l${i}` });
  const over = await c.rpc('kv.watch', { key: '/one-too-many' });
  t.equal(over.error?.code, -32000);
  t.match(over.error?.message, /--max-subscriptions-per-connection/);
});
