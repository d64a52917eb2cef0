// Black-box tests of TTL keys over a real 3-member cluster: expiry is decided in the log, so
// every member reports the same `expire` event (same index, same nodes) and then the same
// absence; a dir's TTL takes its children; a write without ttl makes a key permanent; a
// refresh keeps the value, renews the TTL and tells no watcher. Every wait is kv.wait or a
// watch notification with a bound, never a sleep.
import t from 'tap';
import { Notifications, failure, rpcError, startCluster } from './kv-helpers.js';
import type { KvEvent, KvResult, RpcClient, WatchStarted } from './kv-helpers.js';

const kv = await startCluster(t);
const clients = await kv.connectAll();
const [lead, f1, f2] = [kv.leader, ...kv.followers()].map((m) => clients[kv.members.indexOf(m)]!) as [RpcClient, RpcClient, RpcClient];

const set = (c: RpcClient, params: Record<string, unknown>): Promise<KvResult> => c.call<KvResult>('kv.set', params);
const serializable = (c: RpcClient, key: string): Promise<KvResult> => c.call<KvResult>('kv.get', { key, consistency: 'serializable' });
/** The first event on `key` from `waitIndex` as each member reports it (bounded by timeoutMs). */
const eachMember = (key: string, waitIndex: number): Promise<(KvEvent | null)[]> =>
  Promise.all(clients.map((c) => c.call<KvEvent | null>('kv.wait', { key, waitIndex, timeoutMs: 15_000 }, 20_000)));

t.test('TTL keys expire once, at the same index, seen identically through every member', async (t) => {
  const keys: { key: string; ttl: number; sent: number; acked: number; result: KvResult }[] = [];
  for (let i = 0; i < 6; i++) {
    const key = `/ttl/same/k${i}`;
    const ttl = 1 + (i % 2);
    const sent = Date.now();
    const result = await set(clients[i % 3]!, { key, value: `v${i}`, ttl });
    keys.push({ key, ttl, sent, acked: Date.now(), result });
  }
  for (const { key, ttl, sent, acked, result } of keys) {
    const expiresAt = Date.parse(result.node.expiration ?? '');
    t.equal(result.node.ttl, ttl, `${key}: ttl is the seconds left`);
    t.ok(expiresAt >= sent + ttl * 1000 && expiresAt <= acked + ttl * 1000, `${key}: expiration ${result.node.expiration} is ttl after the write`);
  }
  const dir = await set(f1, { key: '/ttl/same/dir', dir: true, ttl: 1 });
  const child = await set(f2, { key: '/ttl/same/dir/child', value: 'c' });
  const lastWrite = child.index;

  const seen = await Promise.all(keys.map((k) => eachMember(k.key, k.result.index + 1)));
  const expireIndexes: number[] = [];
  keys.forEach(({ key, result }, i) => {
    const [first, ...others] = seen[i]!;
    t.same(others, [first, first], `${key}: all three members report the same event`);
    t.same([first?.action, first?.node, first?.prevNode?.value], ['expire', { key, createdIndex: result.index, modifiedIndex: first?.index }, `v${i}`],
      `${key}: one expire event, its node without a value`);
    expireIndexes.push(first?.index ?? 0);
  });
  t.equal(new Set(expireIndexes).size, keys.length, 'one index per expired key');
  t.ok(expireIndexes.every((i) => i > lastWrite), 'each expiry took an index of its own after the writes');

  const [dirSeen, childSeen] = await Promise.all([eachMember('/ttl/same/dir', child.index + 1), eachMember('/ttl/same/dir/child', child.index + 1)]);
  t.same(childSeen, dirSeen, 'a key below an expiring dir gets the dir\'s expire event, on every member');
  t.same([dirSeen[0]?.action, dirSeen[0]?.node], ['expire', { key: '/ttl/same/dir', dir: true, createdIndex: dir.index, modifiedIndex: dirSeen[0]?.index }]);
  t.same(dirSeen.slice(1), [dirSeen[0], dirSeen[0]], 'the dir\'s expiry is identical on every member');

  // Each member answered kv.wait only once it had applied the expiry, so its own read sees it.
  for (const [m, c] of clients.entries()) {
    const gone = await Promise.all([...keys.map((k) => k.key), '/ttl/same/dir/child'].map((key) => failure(serializable(c, key))));
    t.same(gone, [...keys.map((k) => ({ code: 100, cause: k.key })), { code: 100, cause: '/ttl/same/dir' }], `${kv.members[m]!.name}: every expired key is gone`);
  }
});

t.test('a write without ttl makes a key permanent; a refresh keeps the value, renews the TTL and tells no watcher', async (t) => {
  await set(lead, { key: '/ttl/keep/perm', value: 'p', ttl: 1 });
  const perm = await set(f1, { key: '/ttl/keep/perm', value: 'p2', prevExist: true });
  t.same([perm.action, perm.node.ttl, perm.node.expiration, perm.prevNode?.ttl], ['update', undefined, undefined, 1], 'the update dropped the TTL');

  const r = await set(f2, { key: '/ttl/keep/r', value: 'keep', ttl: 2 });
  const notices = new Notifications(f1);
  const started = await f1.call<WatchStarted>('kv.watch', { key: '/ttl/keep/r', waitIndex: r.index + 1 });
  const refreshSent = Date.now();
  const refreshed = await set(lead, { key: '/ttl/keep/r', ttl: 3, refresh: true });
  t.same([refreshed.node.value, refreshed.node.ttl, refreshed.prevNode?.value], ['keep', 3, 'keep'], 'the value is kept, the TTL renewed');

  const [first] = await notices.atLeast(started.subscription, 1, 10_000);
  const arrived = Date.now();
  const event = first?.result as KvEvent | undefined;
  t.same([event?.action, event?.prevNode?.value, (event?.index ?? 0) > refreshed.index], ['expire', 'keep', true],
    'the first notification is the expiry: the refresh sent none');
  t.ok(arrived >= refreshSent + 3000, `it came ${arrived - refreshSent} ms after the refresh: the renewed 3 s, not the first 2 s`);

  // The expiry of r (3 s after the refresh) also applied every deadline before it, perm's first 1 s included.
  for (const c of [lead, f1, f2]) {
    const p = await c.call<KvResult>('kv.get', { key: '/ttl/keep/perm', consistency: 'serializable', minIndex: event?.index ?? 0 });
    t.same(p.node, perm.node, 'the permanent key outlived its first TTL on every member');
  }
});

t.test('refresh refuses what it cannot do', async (t) => {
  t.same(await failure(set(f1, { key: '/ttl/none', ttl: 5, refresh: true })), { code: 100, cause: '/ttl/none' }, 'a missing key');
  for (const [params, field] of [[{ key: '/ttl/keep/perm', refresh: true }, 'ttl'], [{ key: '/ttl/keep/perm', value: 'v', ttl: 5, refresh: true }, 'value']] as const) {
    const e = await rpcError(set(f2, params));
    t.same([e.code, (e.data?.['errors'] as { field: string }[] | undefined)?.map((x) => x.field)], [-32602, [field]], `refresh needs a ttl and no value: ${field}`);
  }
});
