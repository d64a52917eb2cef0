// Linearizable reads by ReadIndex (thesis §6.4; etcd-io/raft TestReadOnlyOptionSafe,
// TestReadOnlyForNewLeader, TestReadOnlyWithLearner, TestNodeReadIndexToOldLeader and the
// etcd #20418 late-heartbeat bug). A read is served once the leader has confirmed, with a
// heartbeat round started after the read arrived, that it still leads.
import t from 'tap';
import type { ReadState } from '../../core/raft/index.js';
import { Network, cluster, elect } from './harness.js';

const ABC = ['a', 'b', 'c'];

function readsOf(net: Network, id: string): ReadState[] {
  return net.store(id).readStates;
}

t.test('§6.4 a read at the leader is confirmed by a heartbeat round and returns the commit index (TestReadOnlyOptionSafe)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  const commit = net.node('a').status().commit;
  t.equal(net.node('a').readIndex('r1'), undefined);
  net.flush('a');
  const beats = net.take();
  t.same(beats.map((m) => m.type), ['heartbeat', 'heartbeat'], 'the read starts a heartbeat round');
  t.ok(beats.every((m) => m.type === 'heartbeat' && m.context > 0), 'with a leader-generated context');
  t.same(readsOf(net, 'a'), [], 'not served before a quorum answers');
  for (const m of beats) net.deliver(m);
  net.stabilize();
  t.same(readsOf(net, 'a'), [{ index: commit, context: 'r1' }]);
  t.ok(net.store('a').applied >= commit, 'the application can serve it once applied');

  // Several reads, several rounds: each gets its own answer, in order.
  for (const ctx of ['r2', 'r3', 'r4']) net.node('a').readIndex(ctx);
  net.stabilize();
  t.same(readsOf(net, 'a').map((r) => r.context), ['r1', 'r2', 'r3', 'r4']);
});

t.test('§6.4 a read at a follower is forwarded to the leader and answered with its commit index', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  t.equal(net.node('b').readIndex('from-b'), undefined);
  net.stabilize();
  t.same(net.sent.filter((m) => m.type === 'readIndex').map((m) => [m.from, m.to, m.term]), [['b', 'a', 0]]);
  t.same(readsOf(net, 'b'), [{ index: net.node('a').status().commit, context: 'from-b' }]);
  t.same(readsOf(net, 'a'), [], 'the leader does not serve it itself');

  const fresh = cluster(ABC);
  t.equal(fresh.node('b').readIndex('r')?.code, 'RAFT_NO_LEADER', 'no leader known: typed error');
});

t.test('§6.4 a new leader serves no read before it commits an entry of its term, then serves the postponed ones (TestReadOnlyForNewLeader)', async (t) => {
  const net = cluster(ABC);
  net.dropType('append');
  elect(net, 'a');
  const noop = net.node('a').status().lastIndex;
  t.ok(net.node('a').status().commit < noop, 'the no-op is not committed yet');
  net.tick('a'); // a heartbeat tells b who leads; the appends that follow are still lost
  net.stabilize();
  t.equal(net.node('b').status().leader, 'a');
  t.ok(net.node('a').status().commit < noop, 'still not committed');
  t.equal(net.node('a').readIndex('early'), undefined);
  t.equal(net.node('b').readIndex('early-b'), undefined);
  net.stabilize();
  t.same(readsOf(net, 'a'), [], 'no read served before the first commit in the term');
  t.same(readsOf(net, 'b'), []);
  t.same(net.sent.filter((m) => m.type === 'heartbeat' && m.context > 0), [], 'not even a confirmation round');
  net.heal();
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').status().commit, noop);
  t.same(readsOf(net, 'a'), [{ index: noop, context: 'early' }], 'postponed read served at an index >= the no-op');
  t.same(readsOf(net, 'b'), [{ index: noop, context: 'early-b' }]);
});

t.test('§6.4 a late heartbeat reply from an earlier round cannot confirm a newer read (etcd #20418)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.hold((m) => m.type === 'heartbeatResponse');
  net.node('a').readIndex('old');
  net.stabilize();
  const oldReplies = net.held.splice(0);
  t.equal(oldReplies.length, 2, 'the replies to the first round are delayed');
  net.propose('a', 'w'); // a write commits between the two reads
  net.node('a').readIndex('new');
  net.stabilize();
  const newReplies = net.held.splice(0);
  net.heal();
  for (const m of oldReplies) net.deliver(m);
  net.flush('a');
  t.same(readsOf(net, 'a').map((r) => r.context), ['old'], 'the old round confirms the old read only');
  t.ok(readsOf(net, 'a')[0]!.index < net.node('a').status().commit, 'at the index from before the write');
  for (const m of newReplies) net.deliver(m);
  net.flush('a');
  t.same(readsOf(net, 'a').map((r) => [r.context, r.index]),
    [['old', readsOf(net, 'a')[0]!.index], ['new', net.node('a').status().commit]], 'the new read waits for its own round');
});

t.test('§6.4 a periodic heartbeat sent before a read cannot confirm it', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.tick('a');
  net.flush('a');
  const early = net.take(); // heartbeats sent before the read
  t.same(early.map((m) => m.type), ['heartbeat', 'heartbeat']);
  net.node('a').readIndex('r');
  net.flush('a');
  const round = net.take();
  for (const m of early) net.deliver(m);
  net.flush('b', 'c');
  for (const m of net.take((m) => m.type === 'heartbeatResponse')) net.deliver(m);
  net.flush('a');
  t.same(readsOf(net, 'a'), [], 'replies to the earlier heartbeats do not count');
  for (const m of round) net.deliver(m);
  net.stabilize();
  t.same(readsOf(net, 'a').map((r) => r.context), ['r']);
});

t.test('§6.4 the same client context used twice yields two answers, each after its own round', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.node('a').readIndex('dup');
  net.stabilize();
  net.propose('a', 'x');
  net.node('a').readIndex('dup');
  net.stabilize();
  const reads = readsOf(net, 'a');
  t.equal(reads.length, 2);
  t.ok(reads[1]!.index > reads[0]!.index, 'the second answer reflects the write in between');
});

t.test('§6.4 learner acknowledgements do not confirm a read; a learner can read through the leader (TestReadOnlyWithLearner)', async (t) => {
  const net = cluster(['a', 'b']);
  elect(net, 'a');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'l' }), undefined);
  net.addEmptyNode('l');
  net.stabilize();
  net.tick('a');
  net.stabilize();
  t.same(net.confState('a'), { voters: ['a', 'b'], learners: ['l'] });
  net.hold((m) => m.type === 'heartbeatResponse' && m.from === 'b');
  net.node('a').readIndex('r');
  net.stabilize();
  t.ok(net.sent.some((m) => m.type === 'heartbeatResponse' && m.from === 'l' && m.context > 0), 'the learner answered');
  t.same(readsOf(net, 'a'), [], 'but a learner is not part of the quorum');
  net.heal();
  net.deliverHeld();
  net.stabilize();
  t.same(readsOf(net, 'a').map((r) => r.context), ['r']);
  net.node('l').readIndex('from-l');
  net.stabilize();
  t.same(readsOf(net, 'l').map((r) => r.context), ['from-l']);
});

t.test('a single-voter leader answers reads at once', async (t) => {
  const net = cluster(['a']);
  elect(net, 'a');
  net.node('a').readIndex('solo');
  net.flush('a');
  t.same(readsOf(net, 'a'), [{ index: net.node('a').status().commit, context: 'solo' }]);
});

t.test('§6.4 reads pending when the leader is deposed are never answered', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.hold((m) => m.type === 'heartbeatResponse');
  net.node('a').readIndex('doomed');
  net.stabilize();
  const replies = net.held.splice(0);
  net.heal();
  net.isolate('a');
  net.tickUntil(() => net.leaders().some((id) => id !== 'a'), 100);
  net.heal();
  net.tickAll(2);
  t.equal(net.role('a'), 'follower');
  for (const m of replies) net.deliver(m); // from the old term: must be ignored
  net.stabilize();
  t.same(readsOf(net, 'a'), [], 'the old leader never confirms the read');
});

t.test('a forwarded read reaching a member that is no longer leader is dropped (TestNodeReadIndexToOldLeader)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.node('a').transferLeadership('b');
  net.stabilize();
  t.equal(net.role('b'), 'leader', 'setup: b took over, a is a follower');
  net.deliver({ type: 'readIndex', from: 'c', to: 'a', term: 0, context: 'stale' });
  net.stabilize();
  t.same(net.sent.filter((m) => m.type === 'readIndexResponse'), [], 'no answer from the old leader');
  t.same(readsOf(net, 'c'), []);
  net.node('c').readIndex('fresh');
  net.stabilize();
  t.same(readsOf(net, 'c').map((r) => r.context), ['fresh'], 'a retry through the current leader works');
});
