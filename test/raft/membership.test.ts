// Single-server membership changes (thesis §4.1-4.2; etcd-io/raft confchange_v1_*.txt,
// campaign_learner_must_vote.txt, TestLearnerPromotion, TestLearnerCanVote,
// TestCommitAfterRemoveNode, TestNewLeaderPendingConfig, TestConfChangeCheckBeforeCampaign).
// In cairn a change takes effect when its entry is appended (docs/divergence.md).
import t from 'tap';
import { bytes, cluster, confChangeOf, elect } from './harness.js';
import type { Network } from './harness.js';

const ABC = ['a', 'b', 'c'];

function confEntriesAfter(net: Network, id: string, index: number): string[] {
  const view = net.node(id).logView();
  return view.entries(index + 1, view.lastIndex + 1).flatMap((e) => {
    const cc = confChangeOf(e);
    return cc === undefined ? [] : [`${cc.type}:${cc.nodeId}`];
  });
}

t.test('§4.2.1 add a learner, it catches up without voting, then promote it (TestLearnerPromotion, confchange_v1_add_single)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined);
  t.same(net.confState('a'), { voters: ABC, learners: ['d'] }, 'effective on append at the leader');
  net.addEmptyNode('d');
  net.stabilize();
  net.tick('a');
  net.stabilize();
  t.same(net.state('d'), ['x'], 'the learner caught up');
  t.same(net.confState('d'), { voters: ABC, learners: ['d'] });
  t.equal(net.node('a').status().progress!['d']!.match, net.node('a').status().lastIndex);
  // While a learner, d does not count towards commitment.
  net.isolate('b');
  net.isolate('c');
  net.propose('a', 'needs-a-voter');
  t.equal(net.node('a').status().commit, net.node('a').status().lastIndex - 1, 'a + learner d is not a quorum');
  net.heal();
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').proposeConfChange({ type: 'addVoter', nodeId: 'd' }), undefined);
  net.stabilize();
  for (const id of ['a', 'b', 'c', 'd']) t.same(net.confState(id), { voters: ['a', 'b', 'c', 'd'], learners: [] }, `${id} sees d promoted`);
  // Now d counts: a + b + d commit without c.
  net.isolate('c');
  net.propose('a', 'with-d');
  t.equal(net.state('d').at(-1), 'with-d');
});

t.test('§4.1 adding a voter changes the quorum as soon as the entry is appended', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  const before = net.node('a').status().commit;
  t.equal(net.node('a').proposeConfChange({ type: 'addVoter', nodeId: 'd' }), undefined);
  net.stabilize();
  t.equal(net.node('a').status().commit, before, 'a + b is 2 of 4: the change itself is not committed');
  net.addEmptyNode('d');
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').status().commit, net.node('a').status().lastIndex, 'with d caught up, 3 of 4 commit it');
  t.same(net.confState('d'), { voters: ['a', 'b', 'c', 'd'], learners: [] });
});

t.test('§4.1 removing a voter: it stops receiving and the quorum shrinks (TestCommitAfterRemoveNode)', async (t) => {
  const net = cluster(['a', 'b']);
  elect(net, 'a');
  net.cut('a', 'b'); // b is gone for good
  t.equal(net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'b' }), undefined);
  net.stabilize();
  t.same(net.confState('a'), { voters: ['a'], learners: [] });
  t.equal(net.node('a').status().commit, net.node('a').status().lastIndex, 'the removal commits with a alone');
  net.propose('a', 'solo');
  t.same(net.state('a'), ['solo'], 'and so does everything after it');
  t.notOk('b' in (net.node('a').status().progress ?? {}), 'no progress kept for b');
});

t.test('§4.1 one change at a time: a second change is refused while the first is uncommitted', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.hold((m) => m.type === 'appendResponse');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined);
  net.stabilize();
  const err = net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' });
  t.equal(err?.code, 'RAFT_CONF_CHANGE_REJECTED');
  net.heal();
  net.deliverHeld();
  net.stabilize();
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' }), undefined, 'accepted after the commit');
});

t.test('§4.1 one change at a time also for changes forwarded by a follower', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  const start = net.node('a').status().lastIndex;
  net.hold((m) => m.type === 'appendResponse');
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined);
  net.stabilize();
  t.equal(net.node('b').proposeConfChange({ type: 'addLearner', nodeId: 'e' }), undefined, 'b forwards it');
  net.stabilize();
  t.same(confEntriesAfter(net, 'a', start), ['addLearner:d'], 'the leader must not append a second pending change');
  t.same(net.confState('a').learners, ['d']);
});

t.test('§4.1 a valid change proposed at a follower is forwarded and takes effect', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.node('b').proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined);
  net.stabilize();
  for (const id of ABC) t.same(net.confState(id), { voters: ABC, learners: ['d'] }, `${id}`);
  t.equal(net.node('a').status().commit, net.node('a').status().lastIndex, 'committed');
});

t.test('§4.1 a forwarded invalid change is not appended', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  const start = net.node('a').status().lastIndex;
  net.node('b').proposeConfChange({ type: 'removeNode', nodeId: 'zz' });
  net.node('b').proposeConfChange({ type: 'addVoter', nodeId: 'c' });
  net.stabilize();
  t.same(confEntriesAfter(net, 'a', start), [], 'neither a non-member removal nor a duplicate voter reached the log');
  t.same(net.confState('a'), { voters: ABC, learners: [] });
});

t.test('§4.1 no membership change before the leader commits an entry of its term (Ongaro 2015 single-server bug)', async (t) => {
  const net = cluster(ABC);
  net.dropType('append');
  elect(net, 'a');
  const err = net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
  t.equal(err?.code, 'RAFT_CONF_CHANGE_REJECTED');
  t.same(net.confState('a'), { voters: ABC, learners: [] });
  net.heal();
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined);
});

t.test('transient conf change refusals are marked retryable (errors.ts: the same request may succeed later)', async (t) => {
  const net = cluster(ABC);
  net.dropType('append');
  elect(net, 'a');
  const early = net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
  t.equal(early?.retryable, true, 'before the first commit in the term');
  net.heal();
  net.tick('a');
  net.stabilize();
  net.hold((m) => m.type === 'appendResponse');
  net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
  net.stabilize();
  const pending = net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' });
  t.equal(pending?.retryable, true, 'while another change is pending');
  const invalid = net.node('a').proposeConfChange({ type: 'addVoter', nodeId: 'b' });
  t.equal(invalid?.retryable, false, 'an invalid change stays invalid');
});

t.test('§4.1 a new leader with an uncommitted change in its log accepts no other until it commits (TestNewLeaderPendingConfig)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.hold((m) => m.type === 'appendResponse');
  net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
  net.stabilize();
  t.same(net.confState('b').learners, ['d'], 'b holds the uncommitted change');
  net.heal();
  net.held = [];
  net.isolate('a');
  net.dropType('append');
  net.tickUntil(() => net.leaders().some((id) => id !== 'a'), 100);
  const leader = net.leaders().find((id) => id !== 'a')!;
  t.equal(net.node(leader).proposeConfChange({ type: 'addLearner', nodeId: 'e' })?.code, 'RAFT_CONF_CHANGE_REJECTED');
  net.heal();
  net.isolate('a');
  net.tick(leader);
  net.stabilize();
  t.equal(net.node(leader).proposeConfChange({ type: 'addLearner', nodeId: 'e' }), undefined, 'after its no-op commits (and the pending change with it)');
});

t.test('§4.1 invalid changes are refused with a typed error', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  const cases = [
    { type: 'addVoter', nodeId: 'b' },
    { type: 'removeNode', nodeId: 'zz' },
    { type: 'addLearner', nodeId: 'a' }, // the leader demoting itself
  ] as const;
  for (const cc of cases) t.equal(net.node('a').proposeConfChange(cc)?.code, 'RAFT_CONF_CHANGE_REJECTED', JSON.stringify(cc));
  const solo = cluster(['a']);
  elect(solo, 'a');
  t.equal(solo.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'a' })?.code, 'RAFT_CONF_CHANGE_REJECTED', 'cannot remove the only voter');
});

t.test('§4.2.3 a removed member cannot disrupt the cluster', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.cut('a', 'c'); // c never hears of its removal
  t.equal(net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'c' }), undefined);
  net.stabilize();
  net.heal();
  t.same(net.confState('c').voters, ABC, 'c still believes it is a voter');
  const term = net.term('a');
  for (let i = 0; i < 150; i++) {
    net.tickAll(1);
    if (i % 30 === 0) net.propose('a', `p${i}`);
  }
  t.equal(net.role('a'), 'leader', 'a keeps leading');
  t.equal(net.term('a'), term, 'the term never moved');
  t.equal(net.state('b').length, 5);
});

t.test('§4.2.2 removing the leader: it leads until the removal commits, then steps down and the rest elect (confchange_v1_remove_leader)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'a' }), undefined);
  t.equal(net.node('a').propose(bytes('late'))?.code, 'RAFT_PROPOSAL_DROPPED', 'a leader being removed takes no proposals');
  net.stabilize();
  t.same(net.confState('b'), { voters: ['b', 'c'], learners: [] });
  t.equal(net.role('a'), 'follower', 'a stepped down once the removal committed');
  t.not(net.node('a').campaign(), undefined, 'and cannot campaign any more');
  net.tickUntil(() => net.leaders().length === 1 && net.leaders()[0] !== 'a', 100);
  const leader = net.leader()!;
  net.propose(leader, 'after');
  t.same(net.state(leader === 'b' ? 'c' : 'b'), ['after']);
});

t.test('learners never campaign (TestLearnerElectionTimeout, TestNonPromotableVoterWithCheckQuorum)', async (t) => {
  const net = cluster(['a', 'b']);
  elect(net, 'a');
  net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'l' });
  net.addEmptyNode('l');
  net.stabilize();
  net.isolate('a');
  for (let i = 0; i < 100; i++) net.tick('l');
  net.stabilize();
  t.equal(net.role('l'), 'follower', 'a learner that hears nothing does not campaign');
  t.same(net.sent.filter((m) => m.from === 'l' && (m.type === 'vote' || m.type === 'preVote')), []);
  t.not(net.node('l').campaign(), undefined, 'campaign() is refused');
});

t.test('learners vote when asked (campaign_learner_must_vote.txt, TestLearnerCanVote)', async (t) => {
  const net = cluster(['a', 'b']);
  elect(net, 'a');
  net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'l' });
  net.addEmptyNode('l');
  net.stabilize();
  net.tick('a');
  net.stabilize();
  net.isolate('a');
  for (let i = 0; i < 20; i++) net.tick('l'); // its lease with a runs out
  const last = net.node('b').status().lastIndex;
  net.deliver({ type: 'vote', from: 'b', to: 'l', term: 5, lastLogIndex: last, lastLogTerm: net.node('b').logView().term(last)!, transfer: false });
  net.flush('l');
  t.same(net.take((m) => m.from === 'l').map((m) => m.type === 'voteResponse' && [m.term, m.reject]), [[5, false]], 'the learner grants');
});
