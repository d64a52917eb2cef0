// Log compaction and snapshots (paper §7; etcd-io/raft raft_snap_test.go, TestRestore*,
// TestSlowNodeRestore, TestProvideSnap, TestLearnerReceiveSnapshot, and the testdata
// snapshot_succeed_via_app_resp*.txt and slow_follower_after_compaction.txt).
import t from 'tap';
import type { SnapshotMessage } from '../../core/raft/index.js';
import { bytes, cluster, elect } from './harness.js';
import type { Network } from './harness.js';

const ABC = ['a', 'b', 'c'];

/** a leads; c misses `n` proposals; a compacts its log at its applied index. */
function laggingAfterCompaction(n = 10): Network {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'early');
  net.isolate('c');
  for (let i = 0; i < n; i++) net.propose('a', `v${i}`);
  net.compact('a');
  net.heal();
  return net;
}

function snapshotsTo(net: Network, to: string): SnapshotMessage[] {
  return net.sent.filter((m): m is SnapshotMessage => m.type === 'snapshot' && m.to === to);
}

t.test('§7 a follower behind the compacted log receives a snapshot and catches up (TestProvideSnap, TestSlowNodeRestore)', async (t) => {
  const net = laggingAfterCompaction();
  const snapIndex = net.node('a').logView().snapshotIndex;
  t.equal(snapIndex, net.store('a').applied, 'a compacted at its applied index');
  t.equal(net.node('a').logView().firstIndex, snapIndex + 1);
  net.tick('a');
  net.stabilize();
  const snaps = snapshotsTo(net, 'c');
  t.equal(snaps.length, 1, 'exactly one snapshot sent');
  t.equal(snaps[0]!.snapshot.metadata.index, snapIndex);
  t.same(snaps[0]!.snapshot.metadata.confState, { voters: ABC, learners: [] });
  t.same(net.state('c'), net.state('a'), 'c restored the state machine from the snapshot');
  t.equal(net.node('c').logView().snapshotIndex, snapIndex, 'c now starts its log at the snapshot');
  t.equal(net.store('c').snapshot?.metadata.index, snapIndex, 'and persisted it');
  net.propose('a', 'after');
  t.same(net.state('c').at(-1), 'after', 'replication continues with entries');
  t.equal(net.node('a').status().progress!['c']!.state, 'replicate');
});

t.test('§7 a pending snapshot pauses replication to that follower (TestPendingSnapshotPauseReplication, TestSendingSnapshotSetPendingSnapshot)', async (t) => {
  const net = laggingAfterCompaction();
  net.hold((m) => m.type === 'snapshot');
  net.tick('a');
  net.stabilize();
  t.equal(net.held.length, 1, 'the snapshot is on its way');
  t.equal(net.node('a').status().progress!['c']!.state, 'snapshot');
  const since = net.sent.length;
  for (let i = 0; i < 3; i++) net.propose('a', `w${i}`);
  net.tick('a');
  net.stabilize();
  t.same(net.sent.slice(since).filter((m) => m.type === 'append' && m.to === 'c'), [], 'no appends to c meanwhile');
  t.equal(net.state('b').length, 14, 'b keeps up');
  net.heal();
  net.deliverHeld();
  net.stabilize();
  net.tick('a');
  net.stabilize();
  t.same(net.state('c'), net.state('a'), 'once it lands, c catches up');
});

t.test('§7 a failed snapshot goes back to probe and is retried (TestSnapshotFailure)', async (t) => {
  const net = laggingAfterCompaction();
  net.hold((m) => m.type === 'snapshot');
  net.tick('a');
  net.stabilize();
  net.held = []; // the transport lost it
  const before = net.node('a').status().progress!['c']!;
  net.node('a').reportSnapshot('c', false);
  const pr = net.node('a').status().progress!['c']!;
  t.equal(pr.state, 'probe');
  t.equal(pr.next, before.match + 1, 'next falls back to match + 1');
  net.heal();
  net.tick('a');
  net.stabilize();
  t.equal(snapshotsTo(net, 'c').length, 2, 'the next heartbeat round sends a new snapshot');
  t.same(net.state('c'), net.state('a'));
});

t.test('§7 a reported success waits for the follower reply, then replicates (TestSnapshotSucceed, snapshot_succeed_via_app_resp)', async (t) => {
  const net = laggingAfterCompaction();
  net.hold((m) => m.type === 'snapshot');
  net.tick('a');
  net.stabilize();
  const snapIndex = net.held[0]?.type === 'snapshot' ? net.held[0].snapshot.metadata.index : -1;
  net.node('a').reportSnapshot('c', true);
  const pr = net.node('a').status().progress!['c']!;
  t.equal(pr.state, 'probe');
  t.equal(pr.next, snapIndex + 1, 'resumes after the snapshot');
  net.heal();
  net.deliverHeld();
  net.stabilize();
  t.equal(net.node('a').status().progress!['c']!.state, 'replicate', "the follower's reply moves it to replicate");
  t.same(net.state('c'), net.state('a'));
});

t.test('§7 a snapshot the transport never reports on is resent after a few election timeouts', async (t) => {
  const net = laggingAfterCompaction();
  net.hold((m) => m.type === 'snapshot');
  net.tick('a');
  net.stabilize();
  net.held = [];
  net.heal();
  let ticks = 0;
  while (snapshotsTo(net, 'c').length < 2 && ticks < 100) {
    net.tick('a');
    net.stabilize();
    ticks++;
  }
  t.equal(snapshotsTo(net, 'c').length, 2, `resent after ${ticks} ticks`);
  t.ok(ticks >= 10, 'not before an election timeout');
  t.same(net.state('c'), net.state('a'));
});

t.test('§7 a slow follower whose in-flight entries were compacted away gets a snapshot (slow_follower_after_compaction.txt)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  net.hold((m) => m.type === 'append' && m.to === 'c');
  for (let i = 0; i < 5; i++) net.propose('a', `y${i}`);
  t.equal(net.node('a').status().progress!['c']!.state, 'replicate', 'c was pipelining');
  net.compact('a');
  net.held = []; // those appends never arrive
  net.heal();
  net.tick('a');
  net.stabilize();
  net.tick('a');
  net.stabilize();
  t.equal(snapshotsTo(net, 'c').length, 1, 'the leader falls back to a snapshot instead of failing');
  t.same(net.state('c'), net.state('a'));
});

t.test('§7 a snapshot at or below the commit index is ignored (TestRestoreIgnoreSnapshot)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  const commit = net.node('b').status().commit;
  const before = net.logIds('b');
  net.deliver({
    type: 'snapshot', from: 'a', to: 'b', term: 2,
    snapshot: { metadata: { index: commit - 1, term: 2, confState: { voters: ABC, learners: [] } }, data: bytes('[]') },
  });
  t.same(net.logIds('b'), before, 'the log is untouched');
  const rd = net.processReady('b')!;
  t.equal(rd.snapshot, undefined, 'nothing to install');
  t.same(rd.messagesAfterPersist.map((m) => m.type === 'appendResponse' && [m.index, m.reject]), [[commit, false]], 'the reply tells the leader where b is');
});

t.test('§7 a snapshot whose last entry the follower already holds only moves the commit index', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.dropType('heartbeat');
  net.drop((m) => m.type === 'append' && m.to === 'b' && m.entries.length === 0); // b never hears the commit
  net.propose('a', 'x');
  net.propose('a', 'y');
  const last = net.node('a').status().lastIndex;
  t.ok(net.node('b').status().commit < last, 'b holds the entries but not their commit');
  net.deliver({
    type: 'snapshot', from: 'a', to: 'b', term: 2,
    snapshot: { metadata: { index: last, term: 2, confState: { voters: ABC, learners: [] } }, data: bytes('["x","y"]') },
  });
  net.flush('b');
  t.equal(net.node('b').status().commit, last);
  t.equal(net.store('b').snapshot, undefined, 'no snapshot installed: the entries were enough');
  t.same(net.state('b'), ['x', 'y'], 'the entries were applied normally');
});

t.test('§7 restart from a snapshot plus the entries after it (TestRawNodeRestartFromSnapshot, TestRestore)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  const compactAt = net.store('b').applied - 2;
  net.compact('b', compactAt);
  const persisted = net.store('b').persistedState();
  t.equal(persisted.snapshot?.metadata.index, compactAt);
  const applied = net.store('b').applied;
  const node = net.restartNode('b');
  const view = node.logView();
  t.equal(view.firstIndex, compactAt + 1);
  t.equal(view.snapshotIndex, compactAt);
  t.equal(view.committed, applied);
  t.equal(node.status().applied, applied);
  const rd = net.processReady('b');
  t.same(rd?.committedEntries ?? [], [], 'nothing applied twice after the restart');
  net.tick('a');
  net.stabilize();
  net.propose('a', 'after-restart');
  t.same(net.state('b'), [...['v0', 'v1', 'v2', 'v3', 'v4'], 'after-restart']);
});

t.test('§7 a member restarted from a snapshot it received keeps working', async (t) => {
  const net = laggingAfterCompaction(4);
  net.tick('a');
  net.stabilize();
  t.ok(net.store('c').snapshot !== undefined, 'c installed a snapshot');
  net.restartNode('c');
  net.tick('a');
  net.stabilize();
  net.propose('a', 'z');
  t.same(net.state('c'), net.state('a'));
  t.equal(net.state('c').at(-1), 'z');
});

t.test('§7 compaction rejects indexes above applied or at/below the current snapshot', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  const applied = net.store('a').applied;
  t.equal(net.node('a').compact(applied + 1, bytes('[]'))?.code, 'RAFT_COMPACTION_REJECTED');
  net.compact('a', applied - 1);
  t.equal(net.node('a').compact(applied - 1, bytes('[]'))?.code, 'RAFT_COMPACTION_REJECTED', 'same index again');
  t.equal(net.node('a').compact(applied - 2, bytes('[]'))?.code, 'RAFT_COMPACTION_REJECTED', 'going back');
  t.equal(net.node('a').compact(applied, bytes('["x"]')), undefined);
});

t.test('§7 a learner added after compaction is brought up by snapshot (TestLearnerReceiveSnapshot)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
  net.compact('a');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'l' }), undefined);
  net.stabilize();
  net.addEmptyNode('l');
  net.tick('a');
  net.stabilize();
  t.equal(snapshotsTo(net, 'l').length, 1);
  t.same(net.state('l'), net.state('a'));
  t.same(net.confState('l'), { voters: ABC, learners: ['l'] }, 'the learner learns its own addition from the log after the snapshot');
  net.propose('a', 'more');
  t.equal(net.state('l').at(-1), 'more');
});
