// Leadership transfer (thesis §3.10; etcd-io/raft TestLeaderTransfer*): the leader brings the
// target up to date, sends it timeoutNow, drops proposals meanwhile, and gives up after an
// election timeout.
import t from 'tap';
import { bytes, cluster, elect } from './harness.js';

const ABC = ['a', 'b', 'c'];

t.test('§3.10 transfer to an up-to-date follower (TestLeaderTransferToUpToDateNode)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  t.equal(net.node('a').transferLeadership('b'), undefined);
  net.flush('a');
  t.same(net.queue.filter((m) => m.type === 'timeoutNow').map((m) => [m.from, m.to]), [['a', 'b']], 'timeoutNow sent at once');
  net.stabilize();
  t.equal(net.role('b'), 'leader');
  t.equal(net.term('b'), 3);
  t.equal(net.role('a'), 'follower');
  t.equal(net.node('a').status().leader, 'b');
  t.equal(net.node('b').status().leadTransferee, '');
  net.propose('b', 'y');
  for (const id of ABC) t.same(net.state(id), ['x', 'y'], `${id}`);
});

t.test('§3.10 transfer back to the previous leader (TestLeaderTransferBack)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.node('a').transferLeadership('b');
  net.stabilize();
  t.equal(net.node('b').transferLeadership('a'), undefined);
  net.stabilize();
  t.equal(net.role('a'), 'leader');
  t.equal(net.term('a'), 4);
});

t.test('§3.10 only the leader transfers: a follower gets a typed error with a hint (TestLeaderTransferToUpToDateNodeFromFollower)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  const err = net.node('b').transferLeadership('c');
  t.equal(err?.code, 'RAFT_NOT_LEADER');
  t.equal(err?.leaderHint, 'a');
  t.equal(net.role('a'), 'leader');
});

t.test('§3.10 transfer to a slow follower: catch it up first, then timeoutNow (TestLeaderTransferToSlowFollower)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  net.heal();
  t.ok(net.node('c').status().lastIndex < net.node('a').status().lastIndex, 'c is behind');
  t.equal(net.node('a').transferLeadership('c'), undefined);
  net.flush('a');
  t.same(net.queue.filter((m) => m.type === 'timeoutNow'), [], 'no timeoutNow while c lags');
  t.equal(net.node('a').status().leadTransferee, 'c');
  net.stabilize();
  t.equal(net.role('c'), 'leader', 'c caught up, then took over');
  t.equal(net.state('c').length, 5);
  const tn = net.sent.findIndex((m) => m.type === 'timeoutNow');
  const lastAppendToC = net.sent.slice(0, tn).filter((m) => m.type === 'appendResponse' && m.from === 'c').at(-1);
  t.ok(lastAppendToC?.type === 'appendResponse' && lastAppendToC.index === 9, 'timeoutNow only after c acknowledged the last entry');
});

t.test('§3.10 transfer to a follower that needs a snapshot (TestLeaderTransferAfterSnapshot)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  net.compact('a');
  net.heal();
  net.node('a').transferLeadership('c');
  net.stabilize();
  t.ok(net.sent.some((m) => m.type === 'snapshot' && m.to === 'c'), 'a snapshot went to c');
  t.equal(net.role('c'), 'leader');
  t.same(net.state('c'), net.state('a'));
});

t.test('§3.10 transfer to self is a no-op and cancels a pending transfer (TestLeaderTransferToSelf)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.node('a').transferLeadership('a'), undefined);
  net.stabilize();
  t.equal(net.role('a'), 'leader');
  t.equal(net.term('a'), 2);
  net.isolate('c');
  net.node('a').transferLeadership('c');
  t.equal(net.node('a').status().leadTransferee, 'c');
  net.node('a').transferLeadership('a');
  t.equal(net.node('a').status().leadTransferee, '', 'transfer to self cancels');
  t.equal(net.node('a').propose(bytes('ok')), undefined, 'proposals flow again');
});

t.test('§3.10 transfer to a non-member or a learner is refused (TestLeaderTransferToNonExistingNode)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.node('a').transferLeadership('zz')?.code, 'RAFT_CONF_CHANGE_REJECTED');
  net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'l' });
  net.addEmptyNode('l');
  net.stabilize();
  t.equal(net.node('a').transferLeadership('l')?.code, 'RAFT_CONF_CHANGE_REJECTED', 'a learner cannot lead');
  t.equal(net.node('a').status().leadTransferee, '');
  t.equal(net.role('a'), 'leader');
});

t.test('§3.10 proposals are dropped during a transfer, locally and forwarded (TestLeaderTransferIgnoreProposal)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  net.propose('a', 'x');
  net.node('a').transferLeadership('c');
  const err = net.node('a').propose(bytes('dropped'));
  t.equal(err?.code, 'RAFT_PROPOSAL_DROPPED');
  t.equal(err?.retryable, true);
  t.equal(err?.leaderHint, 'c', 'hint: the member about to lead');
  const last = net.node('a').status().lastIndex;
  net.deliver({ type: 'propose', from: 'b', to: 'a', term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: bytes('fwd') }] });
  t.equal(net.node('a').status().lastIndex, last, 'a forwarded proposal is dropped too');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' })?.code !== undefined, true, 'and a conf change');
});

t.test('§3.10 a transfer that does not complete within an election timeout is abandoned (TestLeaderTransferTimeout)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  net.node('a').transferLeadership('c');
  for (let i = 0; i < 9; i++) {
    net.tick('a');
    net.stabilize();
  }
  t.equal(net.node('a').status().leadTransferee, 'c', 'still trying after 9 ticks');
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').status().leadTransferee, '', 'abandoned after electionTicks');
  t.equal(net.role('a'), 'leader', 'the old leader resumes');
  t.equal(net.propose('a', 'resumed'), undefined);
  t.same(net.state('b'), ['resumed']);
});

t.test('§3.10 asking again for the same target does not restart the timer (TestLeaderTransferSecondTransferToSameNode)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  net.node('a').transferLeadership('c');
  for (let i = 0; i < 5; i++) net.tick('a');
  net.node('a').transferLeadership('c');
  for (let i = 0; i < 5; i++) net.tick('a');
  t.equal(net.node('a').status().leadTransferee, '', 'aborted 10 ticks after the first request');
});

t.test('§3.10 a second transfer to another member replaces the first (TestLeaderTransferSecondTransferToAnotherNode)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  net.node('a').transferLeadership('c');
  net.stabilize();
  t.equal(net.node('a').transferLeadership('b'), undefined);
  net.stabilize();
  t.equal(net.role('b'), 'leader');
  t.equal(net.role('a'), 'follower');
});

t.test('§3.10 a member whose removal is in the log cannot be the target (TestLeaderTransferRemoveNode)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.hold((m) => m.type === 'appendResponse');
  net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'c' });
  net.stabilize();
  t.equal(net.node('a').transferLeadership('c')?.code, 'RAFT_CONF_CHANGE_REJECTED');
  t.equal(net.node('a').status().leadTransferee, '');
});
