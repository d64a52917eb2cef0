// Black-box tests of kv.watch and kv.wait over a real 3-member cluster started with
// --event-history 20: streams deliver every matching event in index order (writes made
// through every member at once), a key's watch sees its parent's deletion and expiry,
// waitIndex replays history inclusively, an index older than the history answers 401,
// unsubscribe and progress notices, kv.wait's answers and timeout, and one write seen by
// 1,000 watchers spread over 10 connections.
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { Notifications, asEvent, failure, httpGet, metricSample, rpcError, startCluster, storeIndex, waitFor } from './kv-helpers.js';
import type { KvEvent, KvResult, RpcClient, WatchStarted } from './kv-helpers.js';

const HISTORY = 20;
const kv = await startCluster(t, ['--event-history', String(HISTORY)]);
const lead = await kv.connect(kv.leader);
const [f1, f2] = await Promise.all(kv.followers().map((m) => kv.connect(m))) as [RpcClient, RpcClient];
const seen = new Map([lead, f1, f2].map((c) => [c, new Notifications(c)]));
const notices = (c: RpcClient): Notifications => seen.get(c)!;

const set = (c: RpcClient, params: Record<string, unknown>): Promise<KvResult> => c.call<KvResult>('kv.set', params);
const watch = (c: RpcClient, params: Record<string, unknown>): Promise<WatchStarted> => c.call<WatchStarted>('kv.watch', params);
const wait = (c: RpcClient, params: Record<string, unknown>): Promise<KvEvent | null> => c.call<KvEvent | null>('kv.wait', params);

/** Waits until `sub` on `c` has `count` notifications; returns their results. */
async function events(c: RpcClient, sub: string, count: number, timeoutMs?: number): Promise<KvEvent[]> {
  return (await notices(c).atLeast(sub, count, timeoutMs)).map((p) => p.result as KvEvent);
}

t.test('a recursive watch streams every matching event in index order, writes coming through every member', async (t) => {
  const started = await watch(f1, { key: '/w/all', recursive: true });
  const writer = async (c: RpcClient, ci: number): Promise<KvResult[]> => {
    const dir = `/w/all/c${ci}`;
    const out: KvResult[] = [];
    for (let i = 0; i < 6; i++) out.push(await set(c, { key: `${dir}/k${i}`, value: `${ci}-${i}` }));
    out.push(await set(c, { key: `${dir}/k0`, value: 'u', prevExist: true }));
    out.push(await set(c, { key: `${dir}/k1`, value: 'cas', prevValue: `${ci}-1` }));
    out.push(await c.call<KvResult>('kv.delete', { key: `${dir}/k2` }));
    out.push(await c.call<KvResult>('kv.create', { key: `${dir}/q`, value: 'job' }));
    await set(c, { key: `/w/elsewhere/c${ci}`, value: 'not watched' });
    await set(c, { key: `${dir}/_hidden`, value: 'a live recursive watch skips hidden keys' });
    return out;
  };
  const written = (await Promise.all([lead, f1, f2].map(writer))).flat();
  const sentinel = await set(f2, { key: '/w/all/end', value: 'end' });
  const expected = [...written, sentinel].sort((a, b) => a.index - b.index).map(asEvent);
  const got = await events(f1, started.subscription, expected.length);
  t.same(got, expected, `${expected.length} events, each as its write answered, in index order, nothing else`);
  t.equal(notices(f1).of(started.subscription).length, expected.length, 'and nothing after the last write');
  t.ok(started.index < expected[0]!.index, 'the watch started before the first write');
});

t.test('a watch opened from a past waitIndex while writes go on misses nothing and repeats nothing', async (t) => {
  const acked: KvResult[] = [];
  let opened: Promise<WatchStarted> | undefined;
  let from = 0;
  await Promise.all([lead, f1, f2].map(async (c, ci) => {
    for (let i = 0; i < 25; i++) {
      acked.push(await set(c, { key: `/w/race/c${ci}`, value: String(i) }));
      // Once some writes are in, open the watch from the newest acknowledged index: part of
      // the stream comes from history, the rest live, while the other writers keep going.
      if (opened === undefined && acked.length >= 10) {
        from = acked[acked.length - 1]!.index;
        opened = watch(f2, { key: '/w/race', recursive: true, waitIndex: from });
        opened.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
      }
    }
  }));
  const started = await opened!;
  const sentinel = await set(lead, { key: '/w/race/end', value: 'end' });
  const expected = [...acked, sentinel].filter((r) => r.index >= from).sort((a, b) => a.index - b.index).map(asEvent);
  t.same(await events(f2, started.subscription, expected.length), expected, `${expected.length} events from index ${from}, in order`);
  t.equal(notices(f2).of(started.subscription).length, expected.length, 'no event twice');
});

t.test('a watch on a key sees its parent directory deleted, and expire', async (t) => {
  // A follower may not have applied a write the leader acknowledged: waitIndex says where to start.
  const k = await set(lead, { key: '/w/parent/dir/k', value: 'v' });
  const onDelete = await watch(f2, { key: '/w/parent/dir/k', waitIndex: k.index + 1 });
  const deleted = await f1.call<KvResult>('kv.delete', { key: '/w/parent/dir', recursive: true });
  t.same(await events(f2, onDelete.subscription, 1), [asEvent(deleted)], 'the directory\'s delete event');
  t.same([deleted.node.key, deleted.node.dir], ['/w/parent/dir', true]);

  const dir = await set(f1, { key: '/w/parent/tdir', dir: true, ttl: 1 });
  const child = await set(lead, { key: '/w/parent/tdir/k', value: 'v' });
  const onExpire = await watch(f2, { key: '/w/parent/tdir/k', waitIndex: child.index + 1 });
  const [expired] = await events(f2, onExpire.subscription, 1, 10_000);
  t.same([expired?.action, expired?.node, expired?.index], ['expire', { key: '/w/parent/tdir', dir: true, createdIndex: dir.index, modifiedIndex: expired?.index }, expired?.index]);
  t.same(await wait(lead, { key: '/w/parent/tdir/k', waitIndex: child.index + 1 }), expired, 'kv.wait on the key finds the same event in history');
});

t.test('waitIndex replays history inclusively, then the stream goes live', async (t) => {
  const k: KvResult[] = [];
  const other: KvResult[] = [];
  for (let i = 0; i < 3; i++) {
    k.push(await set(lead, { key: '/w/replay/k', value: `v${i}` }));
    other.push(await set(f1, { key: '/w/replay/other', value: `o${i}` }));
  }
  const started = await watch(f2, { key: '/w/replay/k', waitIndex: k[1]!.index });
  t.same(await events(f2, started.subscription, 2), [k[1], k[2]].map((r) => asEvent(r!)), 'from waitIndex inclusive, other keys skipped');
  k.push(await set(f1, { key: '/w/replay/k', value: 'live' }));
  t.same(await events(f2, started.subscription, 3), k.slice(1).map(asEvent), 'then live');

  t.same(await wait(f1, { key: '/w/replay/k', waitIndex: k[0]!.index }), asEvent(k[0]!), 'kv.wait: inclusive');
  t.same(await wait(lead, { key: '/w/replay/k', waitIndex: k[0]!.index + 1 }), asEvent(k[1]!), 'kv.wait: the first match after it');
  t.same(await wait(f2, { key: '/w/replay', recursive: true, waitIndex: other[2]!.index }), asEvent(other[2]!), 'kv.wait recursive');
});

t.test(`a waitIndex older than --event-history ${HISTORY} answers 401 with data.index`, async (t) => {
  let last: KvResult | undefined;
  for (let i = 0; i < HISTORY + 5; i++) last = await set(lead, { key: `/w/old/${i}`, value: String(i) });
  const now = last!.index;
  const oldest = now - HISTORY + 1;
  // Through the leader: it applied each write before answering, so its store index is `now`.
  const cleared = (requested: number): object => ({ code: 401, cause: `the requested history has been cleared [${oldest}/${requested}]`, index: now });
  t.same(await failure(watch(lead, { key: '/w/old', recursive: true, waitIndex: 1 }), true), cleared(1), 'kv.watch');
  t.same(await failure(wait(lead, { key: '/w/old/3', waitIndex: oldest - 1 }), true), cleared(oldest - 1), 'kv.wait, one before the oldest');
  const first = await wait(lead, { key: '/w/old', recursive: true, waitIndex: oldest });
  t.same([first?.index, first?.node.key], [oldest, '/w/old/5'], 'the oldest retained event is still served');
});

t.test('unsubscribe stops a stream and answers {unsubscribed: true}', async (t) => {
  const a = await watch(f1, { key: '/w/unsub/k' });
  const one = await set(lead, { key: '/w/unsub/k', value: '1' });
  t.same(await events(f1, a.subscription, 1), [asEvent(one)]);
  t.same(await f1.call('unsubscribe', { subscription: a.subscription }), { unsubscribed: true });
  const b = await watch(f1, { key: '/w/unsub/k' });
  const two = await set(f2, { key: '/w/unsub/k', value: '2' });
  // Both streams live on one socket and are fed in one step: once b has the event, a would have too.
  t.same(await events(f1, b.subscription, 1), [asEvent(two)], 'a stream opened after it gets the write');
  t.equal(notices(f1).of(a.subscription).length, 1, 'the unsubscribed stream got nothing more');
  const again = await rpcError(f1.call('unsubscribe', { subscription: a.subscription }));
  t.same([again.code, (again.data?.['errors'] as { field: string }[])?.map((e) => e.field)], [-32602, ['subscription']], 'a second unsubscribe');
  t.same(await f1.call('unsubscribe', { subscription: b.subscription }), { unsubscribed: true });
});

t.test('progressMs: an idle stream gets {progress: index}', async (t) => {
  const started = await watch(f2, { key: '/w/idle', progressMs: 200 });
  const idle = await notices(f2).atLeast(started.subscription, 2, 5000);
  const index = await storeIndex(f2);
  t.same(idle.slice(0, 2).map((p) => p.result), [{ progress: index }, { progress: index }], 'the store index, while nothing changes');
  const write = await set(lead, { key: '/w/idle', value: 'x' });
  const after = await notices(f2).atLeast(started.subscription, idle.length + 2, 5000);
  const fromWrite = after.slice(after.findIndex((p) => (p.result as KvEvent).action !== undefined));
  t.same(fromWrite.slice(0, 2).map((p) => p.result), [asEvent(write), { progress: write.index }], 'then the event, then progress at its index');
  t.same(await f2.call('unsubscribe', { subscription: started.subscription }), { unsubscribed: true });
});

t.test('kv.wait: the first event at or after waitIndex, or null once timeoutMs passed', async (t) => {
  const past = await set(lead, { key: '/w/wait/k', value: 'past' });
  const started = Date.now();
  // Through the leader, which applied the write before answering it ("now" is a member's own index).
  t.equal(await wait(lead, { key: '/w/wait/k', timeoutMs: 300 }), null, 'without waitIndex only a future event counts');
  t.ok(Date.now() - started >= 295, `null no sooner than timeoutMs (${Date.now() - started} ms)`);
  const pending = wait(f2, { key: '/w/wait/k', waitIndex: past.index + 2, timeoutMs: 10_000 });
  const next = await set(f1, { key: '/w/wait/k', value: 'next' });
  const target = await set(lead, { key: '/w/wait/k', value: 'target' });
  t.same([next.index, target.index], [past.index + 1, past.index + 2]);
  t.same(await pending, asEvent(target), 'a future waitIndex waits for that index');
  t.same(await wait(f1, { key: '/w/wait/k', waitIndex: past.index }), asEvent(past), 'a past waitIndex answers from history');
});

/** Each member's cairn_watchers gauge (live streams and waits), in cluster.members order. */
const watchers = (): Promise<(number | undefined)[]> =>
  Promise.all(kv.members.map(async (m) => metricSample((await httpGet(m, '/metrics')).body, 'cairn_watchers')));

t.test('1,000 watchers on one key over 10 connections are all told of one change', async (t) => {
  const baseline = await watchers();
  const arrival = new Map<string, { at: number; result: unknown }[]>();
  const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => kv.connect(kv.members[i % 3]!)));
  for (const c of clients) {
    c.onNotification = (p) => {
      const list = arrival.get(p.subscription) ?? [];
      list.push({ at: performance.now(), result: p.result });
      arrival.set(p.subscription, list);
    };
  }
  const subs = (await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 100 }, () => watch(c, { key: '/w/fan' })))))).flat();
  t.equal(new Set(subs.map((s) => s.subscription)).size, 1000, '1000 distinct subscriptions');
  const sent = performance.now();
  const write = await set(lead, { key: '/w/fan', value: 'go' });
  const acked = performance.now();
  await waitFor('every watcher to be notified', 30_000, async () => (arrival.size === 1000 ? true : undefined), 5);
  const last = Math.max(...[...arrival.values()].map((l) => l[0]!.at));
  t.comment(`1,000 watchers: last notified ${(last - acked).toFixed(1)} ms after the write's acknowledgement (${(last - sent).toFixed(1)} ms after it was sent; the write took ${(acked - sent).toFixed(1)} ms)`);
  const event = asEvent(write);
  const wrong = subs.filter((s) => !isDeepStrictEqual(arrival.get(s.subscription)?.map((a) => a.result), [event]));
  t.same(wrong.length, 0, 'every one of the 1000 got exactly the one event');

  // Connections 0, 3, 6 and 9 went to the first member, and so on: 400, 300, 300 streams.
  t.same(await watchers(), baseline.map((b, i) => (b ?? 0) + [400, 300, 300][i]!), 'every member counts its streams');
  for (const c of clients) c.close();
  const after = await waitFor('closed sockets to end their streams', 10_000, async () => {
    const now = await watchers();
    return now.every((n, i) => n === baseline[i]) ? now : undefined;
  });
  t.same(after, baseline, 'closing a socket ends all of its streams, on every member');
});
