// Elections beyond the paper sentences (etcd-io/raft raft_test.go and testdata): dueling
// candidates, PreVote (thesis §9.6), CheckQuorum and leader stickiness (thesis §4.2.3, §6.2),
// stranded higher-term members, and liveness under partial partitions (Howard & Abraham 2020).
import t from 'tap';
import type { PersistedState } from '../../core/raft/index.js';
import { Network, cluster, elect, stateWithLog } from './harness.js';

const ABC = ['a', 'b', 'c'];
const FIVE = ['a', 'b', 'c', 'd', 'e'];
const etcdDefaults = { config: { preVote: false, checkQuorum: false } };

t.test('§5.2 dueling candidates: the one cut off loses and ends as a follower (TestDuelingCandidates)', async (t) => {
  const net = cluster(ABC, etcdDefaults);
  net.cut('a', 'c');
  net.campaign('a');
  net.campaign('c');
  t.equal(net.role('a'), 'leader', 'a wins with b');
  t.equal(net.role('c'), 'candidate', 'c cannot get a majority');
  net.heal();
  // c campaigns again at term 3; its log lacks a's no-op, so nobody votes for it, but its
  // higher term deposes a (no PreVote, no CheckQuorum: the disruption PreVote prevents).
  net.campaign('c');
  for (const id of ABC) {
    t.equal(net.role(id), 'follower', `${id} follower`);
    t.equal(net.term(id), 3, `${id} at term 3`);
  }
  t.equal(net.logTerms('c').length, 3, 'c still lacks the no-op');
});

t.test('§9.6 dueling pre-candidates: the cut-off pre-candidate cannot disrupt the leader (TestDuelingPreCandidates)', async (t) => {
  for (const checkQuorum of [false, true]) {
    const net = cluster(ABC, { config: { checkQuorum } });
    net.cut('a', 'c');
    elect(net, 'a');
    net.campaign('c');
    t.not(net.role('c'), 'leader', `checkQuorum=${checkQuorum}: c did not win`);
    net.heal();
    net.campaign('c');
    t.equal(net.role('a'), 'leader', 'a still leads');
    t.same(ABC.map((id) => net.term(id)), [2, 2, 2], 'no term was inflated');
    net.tick('a');
    net.stabilize();
    t.equal(net.role('c'), 'follower', 'c follows a after its next heartbeat');
    t.equal(net.node('c').status().leader, 'a');
  }
});

t.test('§5.2 an isolated candidate concedes to the leader it hears from after healing (TestCandidateConcede)', async (t) => {
  const net = cluster(ABC, etcdDefaults);
  net.isolate('a');
  net.campaign('a');
  t.equal(net.role('a'), 'candidate');
  elect(net, 'c');
  t.equal(net.term('c'), 2, 'c wins term 2 with b (b had not voted in term 2)');
  net.heal();
  net.tick('c');
  net.stabilize();
  t.equal(net.role('a'), 'follower');
  t.equal(net.node('a').status().leader, 'c');
  net.propose('c', 'force follower');
  for (const id of ABC) t.same(net.state(id), ['force follower'], `${id} applied`);
  t.same(net.logTerms('a'), net.logTerms('c'));
});

t.test('§5.2 a single-member cluster elects itself, by campaign and by timeout (TestSingleNodeCandidate, single_node.txt)', async (t) => {
  for (const preVote of [false, true]) {
    const net = cluster(['a'], { config: { preVote } });
    elect(net, 'a');
    t.equal(net.term('a'), 2);
    t.equal(net.node('a').status().commit, 2, 'its no-op commits alone');
    const timed = cluster(['a'], { config: { preVote } });
    const ticks = timed.tickUntil(() => timed.role('a') === 'leader', 30);
    t.ok(ticks >= 10 && ticks < 21, `elected by timeout after ${ticks} ticks (preVote=${preVote})`);
  }
});

t.test('§5.4.1 a new leader overwrites newer-term uncommitted entries it does not have (TestLeaderElectionOverwriteNewerLogs)', async (t) => {
  for (const preVote of [false, true]) {
    // a led term 1 and put 6@1 on b; c led term 2 and wrote 6@2 alone; d, e voted for c.
    const states: Record<string, PersistedState> = {
      a: stateWithLog(FIVE, [1], 1),
      b: stateWithLog(FIVE, [1], 1),
      c: { ...stateWithLog(FIVE, [2], 2), hardState: { term: 2, vote: 'c', commit: 5 } },
      d: { ...stateWithLog(FIVE, [], 2), hardState: { term: 2, vote: 'c', commit: 5 } },
      e: { ...stateWithLog(FIVE, [], 2), hardState: { term: 2, vote: 'c', commit: 5 } },
    };
    const net = Network.restart(states, { config: { preVote, checkQuorum: false } });
    net.campaign('a');
    t.equal(net.role('a'), 'follower', `preVote=${preVote}: the first try fails: d and e voted in term 2`);
    t.equal(net.term('a'), 2, 'but a learns term 2');
    elect(net, 'a');
    t.equal(net.term('a'), 3);
    for (const id of FIVE) t.same(net.logTerms(id).slice(5), [1, 3], `${id}: 6@1 and a's no-op 7@3`);
  }
});

t.test('§9.6 PreVote: a member with a stale log gets no pre-votes and bumps no term; an up-to-date one does (prevote.txt)', async (t) => {
  const net = cluster(ABC, { config: { checkQuorum: false } });
  elect(net, 'a');
  net.isolate('c');
  net.propose('a', 'x');
  net.heal();
  net.campaign('c');
  t.same(ABC.map((id) => net.term(id)), [2, 2, 2], 'c behind: its pre-election changed no term');
  t.equal(net.role('a'), 'leader');
  t.equal(net.role('c'), 'follower');
  net.tick('a');
  net.stabilize();
  t.same(net.state('c'), ['x'], 'c catches up from the undisturbed leader');
  elect(net, 'b');
  t.equal(net.term('b'), 3, 'an up-to-date member gets pre-votes and wins the next term');
  t.equal(net.role('a'), 'follower');
});

t.test('§4.2.3 PreVote with CheckQuorum: no pre-votes while voters hear from a leader (prevote_checkquorum.txt)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.campaign('b');
  t.equal(net.role('a'), 'leader', 'an up-to-date b still cannot depose a live leader');
  t.same(ABC.map((id) => net.term(id)), [2, 2, 2]);
  t.not(net.role('b'), 'leader');
  // Without the leader, the others elect one of themselves within a couple of timeouts.
  net.isolate('a');
  const ticks = net.tickUntil(() => net.leaders().some((id) => id !== 'a'), 100);
  t.ok(ticks <= 45, `new leader after ${ticks} ticks`);
  const leader = net.leaders().find((id) => id !== 'a')!;
  // Term 3 unless b and c split the real vote once (they may time out on the same tick).
  t.ok(net.term(leader) <= 4, `term ${net.term(leader)}: pre-elections did not inflate the term`);
});

t.test('§6.2 CheckQuorum: a leader that cannot hear from a quorum steps down; one that can does not (TestLeaderStepdownWhenQuorumLost, checkquorum.txt)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 50; i++) {
    net.tick('a');
    net.stabilize();
  }
  t.equal(net.role('a'), 'leader', 'with a quorum, a leads through 50 ticks');
  net.isolate('a');
  let ticks = 0;
  while (net.role('a') === 'leader' && ticks < 30) {
    net.tick('a');
    net.stabilize();
    ticks++;
  }
  t.equal(net.role('a'), 'follower', 'without acknowledgements, a steps down');
  t.ok(ticks <= 20, `within two election timeouts (${ticks} ticks)`);
  t.equal(net.term('a'), 2, 'stepping down does not change the term');
  t.equal(net.node('a').status().leader, '');
});

t.test('§4.2.3 votes are ignored while the leader is alive, even from a member without PreVote (TestLeaderSupersedingWithCheckQuorum)', async (t) => {
  const net = cluster(ABC, { perNode: { c: { preVote: false } } });
  elect(net, 'a');
  net.isolate('a');
  // Only c campaigns: b still heard from a within the election timeout and ignores it.
  net.campaign('c');
  t.equal(net.role('c'), 'candidate', 'c did not win');
  t.equal(net.term('b'), 2, 'b ignored the vote request: its term did not move');
  // Once b has gone an election timeout without hearing from a, c wins.
  for (let i = 0; i < 10; i++) net.tick('b');
  t.equal(net.role('b'), 'follower', 'setup: b has not timed out itself (seeded)');
  net.campaign('c');
  t.equal(net.role('c'), 'leader', 'b grants after its lease ran out');
});

t.test('§3.10 a leadership transfer bypasses leader stickiness (TestLeaderTransferWithCheckQuorum)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.node('a').transferLeadership('b'), undefined);
  net.stabilize();
  t.equal(net.role('b'), 'leader', 'c granted b although it had just heard from a');
  t.equal(net.term('b'), 3);
  t.equal(net.role('a'), 'follower');
});

t.test('a member stranded at a higher term is freed: the leader learns the term and the cluster re-elects (TestFreeStuckCandidateWithCheckQuorum)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  net.propose('a', 'x'); // c falls behind
  // c restarts at a much higher term (e.g. it campaigned without PreVote while cut off).
  const cState = net.store('c').persistedState();
  net.restartNode('c', { ...cState, hardState: { ...cState.hardState, term: 10 } });
  net.heal();
  net.tick('a');
  net.stabilize();
  t.equal(net.role('a'), 'follower', 'the leader steps down on the higher-term reply');
  t.equal(net.term('a'), 10);
  net.tickUntil(() => net.leader() !== undefined && ABC.every((id) => net.term(id) === net.term(net.leader()!)), 200);
  const leader = net.leader()!;
  t.not(leader, 'c', 'c, with the stale log, cannot win');
  t.ok(net.term(leader) > 10);
  net.tickAll(2);
  for (const id of ABC) t.same(net.state(id), ['x'], `${id} converged`);
});

t.test('§9.6 a rejoining follower with PreVote cannot disrupt; without PreVote it does (TestDisruptiveFollower[PreVote])', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('c');
  for (let i = 0; i < 60; i++) {
    net.tick('c');
    net.tick('a');
    net.tick('b');
    net.stabilize();
  }
  t.equal(net.role('a'), 'leader', 'a and b keep a quorum');
  t.equal(net.term('c'), 2, 'PreVote: the isolated c did not raise its term');
  net.heal();
  net.tickAll(2);
  t.equal(net.role('a'), 'leader', 'a keeps leading after c rejoins');
  t.same(ABC.map((id) => net.term(id)), [2, 2, 2]);
  t.equal(net.role('c'), 'follower');

  const plain = cluster(ABC, { perNode: { c: { preVote: false } } });
  elect(plain, 'a');
  plain.isolate('c');
  for (let i = 0; i < 60; i++) {
    for (const id of ABC) plain.tick(id);
    plain.stabilize();
  }
  t.ok(plain.term('c') > 2, 'without PreVote the isolated c inflates its term');
  plain.heal();
  plain.tick('a');
  plain.stabilize();
  t.equal(plain.role('a'), 'follower', 'and deposes a when it rejoins (the disruption PreVote avoids)');
});

t.test('five members: a leader in the minority steps down, the majority elects, the minority entries are discarded', async (t) => {
  const net = cluster(FIVE);
  elect(net, 'a');
  net.propose('a', 'before');
  net.partition(['a', 'b'], ['c', 'd', 'e']);
  t.equal(net.propose('a', 'lost'), undefined, 'the old leader still accepts the proposal');
  net.tickUntil(() => ['c', 'd', 'e'].some((id) => net.role(id) === 'leader'), 100);
  net.tickAll(20);
  t.equal(net.role('a'), 'follower', 'CheckQuorum made the minority leader step down');
  const leader = net.leader()!;
  net.propose(leader, 'after');
  net.heal();
  net.tickAll(3);
  for (const id of FIVE) t.same(net.state(id), ['before', 'after'], `${id}: 'lost' never applied`);
  t.equal(net.leaders().length, 1);
});

t.test('five members, partial connectivity: members cut off from the leader cannot depose it (Howard & Abraham 2020)', async (t) => {
  const net = cluster(FIVE);
  elect(net, 'a');
  // d and e reach b, c and each other, but not the leader.
  net.cut('a', 'd');
  net.cut('a', 'e');
  const term = net.term('a');
  for (let i = 0; i < 200; i++) {
    net.tickAll(1);
    if (i % 20 === 0) net.propose('a', `p${i}`);
  }
  t.equal(net.role('a'), 'leader', 'the leader survives 200 ticks');
  t.equal(net.term('a'), term, 'and the term never moved');
  t.same(net.leaders(), ['a']);
  t.equal(net.state('b').length, 10, 'proposals kept committing with a, b, c');
  t.equal(net.term('d'), term, 'PreVote kept d from inflating its term');
});

t.test('five members, asymmetric partition: a leader that cannot receive steps down and the rest elect', async (t) => {
  const net = cluster(FIVE);
  elect(net, 'a');
  for (const id of ['b', 'c', 'd', 'e']) net.cutOneWay(id, 'a'); // a sends, never hears back
  net.tickUntil(() => ['b', 'c', 'd', 'e'].some((id) => net.role(id) === 'leader'), 150);
  const leader = net.leaders().find((id) => id !== 'a')!;
  t.equal(net.role('a'), 'follower', 'a stepped down (CheckQuorum)');
  net.propose(leader, 'v');
  for (const id of ['b', 'c', 'd', 'e']) t.same(net.state(id), ['v'], `${id} applied`);
  net.tickAll(100);
  t.ok(net.term('a') <= net.term(leader), 'a, unable to hear anyone, did not run its term past the leader (PreVote)');
  t.equal(net.role(leader), 'leader', 'the new leader is stable');
});

t.test('after the leader fails, the rest always elect a new leader (no PreVote split-vote deadlock; etcd #8243, #8501)', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    for (const ids of [ABC, FIVE]) {
      const net = cluster(ids, { seed });
      elect(net, 'a');
      net.isolate('a');
      let ticks = -1;
      try {
        ticks = net.tickUntil(() => net.leaders().some((id) => id !== 'a'), 300);
      } catch {
        t.fail(`seed ${seed}, ${ids.length} members: no leader within 300 ticks`);
        continue;
      }
      const leader = net.leaders().find((id) => id !== 'a')!;
      if (net.term(leader) > 6) t.fail(`seed ${seed}: term ${net.term(leader)} after ${ticks} ticks`);
    }
  }
  t.pass('every run elected a leader');
});

t.test('a closed connection to the leader (reportLeaderLost): the followers elect a new leader within a few ticks, without splitting the vote', async (t) => {
  const net = cluster(FIVE);
  elect(net, 'a');
  net.isolate('a'); // killed: nothing from or to it any more
  for (const id of ['b', 'c', 'd', 'e']) net.node(id).reportLeaderLost('a');
  for (const id of ['b', 'c', 'd', 'e']) t.equal(net.node(id).status().leader, '', `${id} forgets the leader at once`);
  let ticks = 0;
  while (net.leaders().filter((id) => id !== 'a').length === 0 && ticks < 10) {
    net.tickAll();
    net.stabilize();
    ticks++;
  }
  t.same(net.leaders().filter((id) => id !== 'a'), ['b'], 'b, the lowest id among the rest, campaigned first and won');
  t.ok(ticks <= 2, `a new leader after ${ticks} tick(s), not an election timeout (10 to 20 ticks)`);
  t.same(['b', 'c', 'd', 'e'].map((id) => net.term(id)), [3, 3, 3, 3], 'one election, no split vote');
});

t.test('reportLeaderLost about a leader that is alive: the PreVote fails and the leader keeps its term', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.node('c').reportLeaderLost('a'); // c's socket to a flapped; a and b are fine
  net.node('c').reportLeaderLost('b'); // not c's leader: ignored
  for (let i = 0; i < 3; i++) {
    net.tick('c');
    net.stabilize();
  }
  t.equal(net.role('a'), 'leader', 'a still leads: b, still hearing from a, refused the PreVote');
  t.same(ABC.map((id) => net.term(id)), [2, 2, 2], 'no term was inflated');
  net.tick('a');
  net.stabilize();
  t.same([net.role('c'), net.node('c').status().leader], ['follower', 'a'], 'c follows a again after its next heartbeat');
});

t.test('reportLeaderLost does nothing without PreVote (acting on a false alarm would depose a live leader)', async (t) => {
  const net = cluster(ABC, etcdDefaults);
  elect(net, 'a');
  net.node('b').reportLeaderLost('a');
  t.equal(net.node('b').status().leader, 'a', 'b keeps its leader');
});
