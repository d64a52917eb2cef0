// Black-box tests of API.md's kv methods and their error codes over a real 3-member cluster,
// each request sent through the leader or a follower: the action a write's conditions pick,
// every kv error with its cause, directories and listings, deletes, in-order keys, kv.txn,
// read-your-writes on a follower with minIndex, cluster.status/members, and concurrent
// in-order creates from several clients through different members.
import t from 'tap';
import { failure, rpcError, startCluster, storeIndex, waitFor } from './kv-helpers.js';
import type { ClusterStatus, KvResult, RpcClient } from './kv-helpers.js';

interface TxnResult { succeeded: boolean; results: KvResult[]; index: number }
interface MembersResult { members: { id: string; name: string; peerUrls: string[]; clientUrls: string[]; isLeader: boolean }[] }

const kv = await startCluster(t);
const lead = await kv.connect(kv.leader);
const [f1, f2] = await Promise.all(kv.followers().map((m) => kv.connect(m))) as [RpcClient, RpcClient];

const set = (c: RpcClient, params: Record<string, unknown>): Promise<KvResult> => c.call<KvResult>('kv.set', params);
const get = (c: RpcClient, params: Record<string, unknown>): Promise<KvResult> => c.call<KvResult>('kv.get', params);
const del = (c: RpcClient, params: Record<string, unknown>): Promise<KvResult> => c.call<KvResult>('kv.delete', params);

t.test('kv.set picks set, create, update or compareAndSwap from its conditions', async (t) => {
  const first = await set(f1, { key: '/kv/set/a', value: '1' });
  t.same(first.node, { key: '/kv/set/a', value: '1', createdIndex: first.index, modifiedIndex: first.index });
  t.same([first.action, first.prevNode], ['set', undefined], 'a new key: set, no prevNode');
  t.ok(Number.isInteger(first.raftIndex) && first.raftIndex > 0 && first.raftTerm >= 1, 'raftIndex and raftTerm');

  const again = await set(lead, { key: '/kv/set/a', value: '2' });
  t.same([again.action, again.index], ['set', first.index + 1], 'nothing else writes: the next index');
  t.same(again.node, { key: '/kv/set/a', value: '2', createdIndex: again.index, modifiedIndex: again.index }, 'a set re-creates the key');
  t.same(again.prevNode, first.node);

  t.same(await failure(set(f2, { key: '/kv/set/a', value: '3', prevExist: false })), { code: 105, cause: '/kv/set/a' });
  const created = await set(f2, { key: '/kv/set/b', value: 'b', prevExist: false, prevValue: 'ignored', prevIndex: 999 });
  t.same([created.action, created.node.value, created.prevNode], ['create', 'b', undefined], 'prevExist false ignores prevValue and prevIndex');

  const updated = await set(f1, { key: '/kv/set/a', value: '3', prevExist: true });
  t.same([updated.action, updated.node.createdIndex, updated.node.modifiedIndex], ['update', again.index, updated.index], 'update keeps createdIndex');
  t.same(await failure(set(f1, { key: '/kv/set/none/x', value: '1', prevExist: true })), { code: 100, cause: '/kv/set/none' });

  const byValue = await set(lead, { key: '/kv/set/a', value: '4', prevValue: '3' });
  const byIndex = await set(f2, { key: '/kv/set/a', value: '5', prevIndex: byValue.index });
  const byBoth = await set(f1, { key: '/kv/set/a', value: '6', prevExist: true, prevValue: '5', prevIndex: byIndex.index });
  t.same([byValue, byIndex, byBoth].map((r) => r.action), ['compareAndSwap', 'compareAndSwap', 'compareAndSwap']);
  t.same([byBoth.node.value, byBoth.node.createdIndex, byBoth.prevNode?.value], ['6', again.index, '5'], 'CAS keeps createdIndex');

  const before = (await get(lead, { key: '/kv/set/a' })).index;
  t.same(await failure(set(f2, { key: '/kv/set/a', value: 'x', prevValue: 'nope' })), { code: 101, cause: '[nope != 6]' });
  t.same(await failure(set(lead, { key: '/kv/set/a', value: 'x', prevIndex: 1 })), { code: 101, cause: `[1 != ${byBoth.index}]` });
  t.same(await failure(set(f1, { key: '/kv/set/a', value: 'x', prevValue: 'nope', prevIndex: 1 }), true),
    { code: 101, cause: `[nope != 6] [1 != ${byBoth.index}]`, index: before }, 'both parts, value first; index is the store index');
  t.same(await failure(set(f1, { key: '/kv/set/gone', value: 'x', prevValue: 'v' })), { code: 100, cause: '/kv/set/gone' });
  t.equal((await get(f2, { key: '/kv/set/a' })).index, before, 'failed writes consume no index');

  const cleaned = await set(f2, { key: 'kv//set/./clean/', value: 'c' });
  t.equal(cleaned.node.key, '/kv/set/clean', 'keys are cleaned as etcd cleans them');
});

t.test('the kv error codes: 102, 104, 107, 108 and 100, each with its cause', async (t) => {
  await set(lead, { key: '/kv/err/dir', dir: true });
  await set(lead, { key: '/kv/err/full/k', value: 'v' });
  await set(lead, { key: '/kv/err/file', value: 'f' });
  const cases: [string, () => Promise<unknown>, { code: number; cause: string }][] = [
    ['a value onto a dir', () => set(f1, { key: '/kv/err/dir', value: 'x' }), { code: 102, cause: '/kv/err/dir' }],
    ['dir: true onto an existing dir', () => set(f2, { key: '/kv/err/dir', dir: true }), { code: 102, cause: '/kv/err/dir' }],
    ['CAS on a dir', () => set(lead, { key: '/kv/err/dir', value: 'x', prevValue: 'y' }), { code: 102, cause: '/kv/err/dir' }],
    ['delete a dir without dir: true', () => del(f1, { key: '/kv/err/dir' }), { code: 102, cause: '/kv/err/dir' }],
    ['compareAndDelete on a dir', () => del(f2, { key: '/kv/err/dir', prevValue: 'x' }), { code: 102, cause: '/kv/err/dir' }],
    ['get below a file', () => get(f1, { key: '/kv/err/file/x' }), { code: 104, cause: '/kv/err/file' }],
    ['set below a file', () => set(f2, { key: '/kv/err/file/x/y', value: 'v' }), { code: 104, cause: '/kv/err/file' }],
    ['create below a file', () => f1.call('kv.create', { key: '/kv/err/file', value: 'v' }), { code: 104, cause: '/kv/err/file' }],
    ['set the root', () => set(lead, { key: '/', value: 'x' }), { code: 107, cause: '/' }],
    ['delete the root', () => del(f1, { key: '/', recursive: true }), { code: 107, cause: '/' }],
    ['delete a non-empty dir', () => del(f2, { key: '/kv/err/full', dir: true }), { code: 108, cause: '/kv/err/full' }],
    ['get a missing key', () => get(lead, { key: '/kv/err/nope/deeper/x' }), { code: 100, cause: '/kv/err/nope' }],
    ['delete a missing key', () => del(f1, { key: '/kv/err/nope' }), { code: 100, cause: '/kv/err/nope' }],
  ];
  for (const [what, call, expected] of cases) t.same(await failure(call()), expected, what);
});

t.test('directories: dir: true, recursive and sorted listings, hidden keys left out', async (t) => {
  const dir = await set(f1, { key: '/kv/ls', dir: true });
  t.same(dir.node, { key: '/kv/ls', dir: true, createdIndex: dir.index, modifiedIndex: dir.index }, 'a dir has no value');
  const empty = await get(f2, { key: '/kv/ls' });
  t.same(empty.node, dir.node, 'an empty dir lists no nodes');
  const written = new Map<string, KvResult>();
  for (const key of ['c', 'a', 'b/y', '_hidden', 'b/x', 'b/_h2', 'b/z/deep']) {
    written.set(key, await set(key.length % 2 === 0 ? lead : f1, { key: `/kv/ls/${key}`, value: key }));
  }
  const leaf = (k: string): object => ({ key: `/kv/ls/${k}`, value: k, createdIndex: written.get(k)!.index, modifiedIndex: written.get(k)!.index });
  // b was made implicitly by the write of b/y, with that write's index.
  const bIndex = written.get('b/y')!.index;
  const zIndex = written.get('b/z/deep')!.index;
  const flat = await get(f2, { key: '/kv/ls', sorted: true });
  t.same(flat.node.nodes, [leaf('a'), { key: '/kv/ls/b', dir: true, createdIndex: bIndex, modifiedIndex: bIndex }, leaf('c')],
    'sorted, one level, sub-directories without their nodes, _hidden left out');
  const deep = await get(lead, { key: '/kv/ls', recursive: true, sorted: true });
  t.same(deep.node.nodes, [leaf('a'), {
    key: '/kv/ls/b', dir: true, createdIndex: bIndex, modifiedIndex: bIndex, nodes: [leaf('b/x'), leaf('b/y'), {
      key: '/kv/ls/b/z', dir: true, createdIndex: zIndex, modifiedIndex: zIndex, nodes: [leaf('b/z/deep')],
    }],
  }, leaf('c')], 'sorted at every level, hidden keys left out at every level');
  const unsorted = await get(f1, { key: '/kv/ls', consistency: 'serializable', minIndex: zIndex });
  t.same(unsorted.node.nodes?.map((n) => n.key).sort(), ['/kv/ls/a', '/kv/ls/b', '/kv/ls/c'], 'unsorted: the same set');
  t.same((await get(f2, { key: '/kv/ls/_hidden' })).node.value, '_hidden', 'a hidden key is read directly');
});

t.test('delete and compareAndDelete of keys and directories', async (t) => {
  const k = await set(lead, { key: '/kv/del/k', value: 'v' });
  const deleted = await del(f1, { key: '/kv/del/k' });
  t.same([deleted.action, deleted.node, deleted.prevNode], ['delete', { key: '/kv/del/k', createdIndex: k.index, modifiedIndex: deleted.index }, k.node],
    'the deleted node has no value; modifiedIndex is the delete');
  const emptyDir = await set(f2, { key: '/kv/del/empty', dir: true });
  const dirGone = await del(lead, { key: '/kv/del/empty', dir: true });
  t.same(dirGone.node, { key: '/kv/del/empty', dir: true, createdIndex: emptyDir.index, modifiedIndex: dirGone.index });
  await set(f1, { key: '/kv/del/file', value: 'f' });
  t.equal((await del(f2, { key: '/kv/del/file', dir: true })).action, 'delete', 'dir: true deletes a file too');

  for (const key of ['/kv/del/tree/a', '/kv/del/tree/b/c', '/kv/del/tree/b/d']) await set(lead, { key, value: 'x' });
  const tree = await del(f1, { key: '/kv/del/tree', recursive: true });
  t.same([tree.action, tree.node.key, tree.node.dir], ['delete', '/kv/del/tree', true]);
  t.same(await failure(get(f2, { key: '/kv/del/tree/b/c' })), { code: 100, cause: '/kv/del/tree' }, 'the subtree is gone');

  const c = await set(lead, { key: '/kv/del/cad', value: 'v' });
  t.same(await failure(del(f1, { key: '/kv/del/cad', prevValue: 'w' })), { code: 101, cause: '[w != v]' });
  t.same(await failure(del(f2, { key: '/kv/del/cad', prevIndex: 1 })), { code: 101, cause: `[1 != ${c.index}]` });
  const cad = await del(f2, { key: '/kv/del/cad', prevValue: 'v', prevIndex: c.index });
  t.same([cad.action, cad.node.modifiedIndex, cad.prevNode?.value], ['compareAndDelete', cad.index, 'v']);
  t.same(await failure(del(f1, { key: '/kv/del/cad', prevValue: 'v' })), { code: 100, cause: '/kv/del/cad' });
});

t.test('kv.create makes in-order keys: the directory plus the index, 20 digits', async (t) => {
  const one = await f1.call<KvResult>('kv.create', { key: '/kv/queue', value: 'job1' });
  t.same([one.action, one.node], ['create', { key: `/kv/queue/${String(one.index).padStart(20, '0')}`, value: 'job1', createdIndex: one.index, modifiedIndex: one.index }],
    'the directory is created on the way');
  const two = await lead.call<KvResult>('kv.create', { key: 'kv/queue/', value: 'job2' });
  t.equal(two.node.key, `/kv/queue/${String(two.index).padStart(20, '0')}`);
  t.ok(two.node.key > one.node.key, 'later keys sort later');
  const list = await get(f2, { key: '/kv/queue', sorted: true });
  t.same(list.node.nodes?.map((n) => n.value), ['job1', 'job2']);
});

t.test('kv.txn: compares pick a branch, applied atomically in one entry', async (t) => {
  const a = await set(lead, { key: '/kv/txn/a', value: '1' });
  const yes = await f1.call<TxnResult>('kv.txn', {
    compare: [{ key: '/kv/txn/a', value: '1' }, { key: '/kv/txn/a', index: a.index }, { key: '/kv/txn/b', exists: false }],
    success: [{ set: { key: '/kv/txn/b', value: '2' } }, { get: { key: '/kv/txn/a' } }, { create: { key: '/kv/txn/q', value: 'q' } }, { delete: { key: '/kv/txn/a' } }],
    failure: [{ set: { key: '/kv/txn/never', value: 'x' } }],
  });
  t.same([yes.succeeded, yes.results.map((r) => r.action)], [true, ['set', 'get', 'create', 'delete']]);
  t.same(yes.results.map((r) => r.index), [a.index + 1, a.index + 1, a.index + 2, a.index + 3], 'each op in turn; a get sees the txn so far');
  t.equal(yes.index, a.index + 3, 'index: the store index after the txn');
  t.equal(new Set(yes.results.map((r) => r.raftIndex)).size, 1, 'one log entry');
  t.same(await failure(get(f2, { key: '/kv/txn/never' })), { code: 100, cause: '/kv/txn/never' }, 'the failure branch did not run');

  const no = await f2.call<TxnResult>('kv.txn', {
    compare: [{ key: '/kv/txn/b', value: '2' }, { key: '/kv/txn/a' }],
    success: [{ set: { key: '/kv/txn/never', value: 'x' } }],
    failure: [{ set: { key: '/kv/txn/c', value: '3' } }],
  });
  t.same([no.succeeded, no.results.map((r) => [r.action, r.node.key]), no.index], [false, [['set', '/kv/txn/c']], yes.index + 1],
    'a compare on a missing key is false: the failure branch ran');
  const none = await lead.call<TxnResult>('kv.txn', { compare: [{ key: '/kv/txn/c', exists: false }], success: [{ delete: { key: '/kv/txn/c' } }] });
  t.same(none, { succeeded: false, results: [], index: no.index }, 'no failure branch: nothing runs, nothing changes');
});

t.test('kv.txn: an op that fails rolls back every op before it, on every member', async (t) => {
  await set(lead, { key: '/kv/atomic/file', value: 'f' });
  const before = await storeIndex(lead);
  const error = await rpcError(f1.call('kv.txn', {
    compare: [], success: [{ set: { key: '/kv/atomic/one', value: '1' } }, { delete: { key: '/kv/atomic/file' } }, { set: { key: '/kv/atomic/one/x', value: '2' } }],
  }));
  t.same([error.code, error.data?.['cause']], [104, '/kv/atomic/one'], 'the third op fails: it writes below the file the first made');
  for (const c of [lead, f1, f2]) {
    t.same(await failure(get(c, { key: '/kv/atomic/one' })), { code: 100, cause: '/kv/atomic/one' }, 'the first op was rolled back');
    t.equal((await get(c, { key: '/kv/atomic/file' })).node.value, 'f', 'the second op was rolled back');
    t.equal(await storeIndex(c), before, 'no index consumed');
  }
  t.equal(error.data?.['index'], before, 'the error index is the store index the txn left');
});

t.test('kv.get: serializable reads with minIndex read your writes on a follower', async (t) => {
  for (let i = 0; i < 20; i++) {
    const w = await set(lead, { key: '/kv/ryw', value: `v${i}` });
    const follower = i % 2 === 0 ? f1 : f2;
    const r = await get(follower, { key: '/kv/ryw', consistency: 'serializable', minIndex: w.index });
    if (r.node.value !== `v${i}` || r.index < w.index) t.fail(`read ${i} on a follower missed its write: ${JSON.stringify(r)}`);
  }
  t.pass('20 serializable reads with minIndex on followers each saw the write before them');

  const next = (await storeIndex(lead)) + 1;
  const pending = get(f1, { key: '/kv/ryw', consistency: 'serializable', minIndex: next });
  const w = await set(f2, { key: '/kv/ryw', value: 'later' });
  t.equal(w.index, next);
  const r = await pending;
  t.same([r.node.value, r.index >= next], ['later', true], 'a read waits for its minIndex to be applied');
  t.equal((await get(f1, { key: '/kv/ryw' })).node.value, 'later', 'the default (linearizable) read on a follower');
  const bad = await rpcError(get(f2, { key: '/kv/ryw', minIndex: 1 }));
  t.same([bad.code, (bad.data?.['errors'] as { field: string }[] | undefined)?.map((e) => e.field)], [-32602, ['minIndex']],
    'minIndex is for serializable reads only');
});

t.test('cluster.status and cluster.members: shapes, one leader, the same cluster from every member', async (t) => {
  const clients = [lead, f1, f2];
  const statuses = await Promise.all(clients.map((c) => c.call<ClusterStatus>('cluster.status')));
  const fields = ['appliedIndex', 'clusterId', 'commitIndex', 'index', 'leaderId', 'memberId', 'name', 'term', 'version'];
  for (const s of statuses) {
    t.same(Object.keys(s).sort(), fields, `${s.name}: the fields of API.md`);
    t.ok([s.term, s.commitIndex, s.appliedIndex, s.index].every((n) => Number.isInteger(n) && n >= 0), `${s.name}: integer positions`);
    t.ok(s.commitIndex >= s.appliedIndex, `${s.name}: commit ≥ applied`);
  }
  t.equal(new Set(statuses.map((s) => s.clusterId)).size, 1, 'one cluster id');
  t.equal(new Set(statuses.map((s) => s.leaderId)).size, 1, 'one leader');
  t.equal(new Set(statuses.map((s) => s.memberId)).size, 3, 'three member ids');
  t.equal(statuses[0]!.leaderId, statuses[0]!.memberId, 'the leader says it leads');
  t.same(statuses.map((s) => s.name), [kv.leader, ...kv.followers()].map((m) => m.name));

  // Members publish their client URLs through the log once a leader is known.
  const members = await waitFor('every member to publish its client URLs', 10_000, async () => {
    const r = await f2.call<MembersResult>('cluster.members');
    return r.members.every((m) => m.clientUrls.length > 0) ? r.members : undefined;
  });
  t.same(members.map((m) => Object.keys(m).sort()), Array(3).fill(['clientUrls', 'id', 'isLeader', 'name', 'peerUrls']));
  const byName = new Map(members.map((m) => [m.name, m]));
  for (const p of kv.members) {
    const m = byName.get(p.name);
    t.same([m?.clientUrls.map((u) => new URL(u).origin), m?.peerUrls.map((u) => new URL(u).origin)],
      [[new URL(p.clientUrl).origin], [new URL(p.peerUrl).origin]], `${p.name}: its URLs`);
  }
  t.same(members.filter((m) => m.isLeader).map((m) => m.id), [statuses[0]!.leaderId], 'exactly one isLeader, the leader');
  t.same(members.map((m) => m.id).sort(), statuses.map((s) => s.memberId).sort(), 'the ids cluster.status reports');
});

t.test('5 clients × 40 kv.create on one dir through different members: distinct, ordered, exact', async (t) => {
  const clients = await Promise.all([0, 1, 2, 3, 4].map((i) => kv.connect(kv.members[i % 3]!)));
  const made = await Promise.all(clients.map(async (c, ci) => {
    const mine: KvResult[] = [];
    for (let i = 0; i < 40; i++) mine.push(await c.call<KvResult>('kv.create', { key: '/kv/inorder', value: `${ci}-${i}` }));
    return mine;
  }));
  const all = made.flat();
  t.equal(new Set(all.map((r) => r.node.key)).size, 200, '200 distinct keys');
  t.ok(all.every((r) => r.action === 'create' && r.node.key === `/kv/inorder/${String(r.node.createdIndex).padStart(20, '0')}`),
    'each key is the dir plus its createdIndex in 20 digits');
  t.ok(made.every((mine) => mine.every((r, i) => i === 0 || r.index > mine[i - 1]!.index)), 'each client sees its own creates in order');
  const listing = (await get(f1, { key: '/kv/inorder', sorted: true })).node.nodes ?? [];
  t.equal(listing.length, 200, 'the listing holds exactly 200 keys');
  const byIndex = [...listing].sort((x, y) => x.createdIndex - y.createdIndex);
  t.same(listing.map((n) => n.key), byIndex.map((n) => n.key), 'sorted by key = sorted by createdIndex');
  const written = new Map(all.map((r) => [r.node.key, r.node.value]));
  t.ok(listing.every((n) => written.get(n.key) === n.value), 'every listed value is the one its creator was told');
});
