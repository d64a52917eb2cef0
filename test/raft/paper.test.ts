// Paper-sentence tests, terms and elections (etcd-io/raft raft_paper_test.go, paper §5.1,
// §5.2 and the election restriction of §5.4.1); log replication and commitment are in
// paper-log.test.ts. Each test names the section it checks. A bootstrapped cluster of n
// members starts at term 1 with the n membership entries committed at indexes 1..n.
import t from 'tap';
import type { PersistedState, VoteMessage } from '../../core/raft/index.js';
import {
  Network, appendMsg as append, cluster, elect, ent, logWithTerms, stateWithLog, voteMsg as voteReq,
} from './harness.js';

const ABC = ['a', 'b', 'c'];

/** Puts `a` of a fresh 3-member cluster into the given role (term 2 for candidate/leader). */
function inRole(role: 'follower' | 'preCandidate' | 'candidate' | 'leader'): Network {
  const net = cluster(ABC);
  if (role === 'follower') return net;
  net.node('a').campaign();
  net.flush('a');
  if (role === 'preCandidate') return net;
  net.take();
  net.deliver({ type: 'preVoteResponse', from: 'b', to: 'a', term: 2, reject: false });
  net.flush('a');
  if (role === 'candidate') return net;
  net.take();
  net.deliver({ type: 'voteResponse', from: 'b', to: 'a', term: 2, reject: false });
  net.flush('a');
  return net;
}

t.test('§5.1 a member of any role adopts a higher term from a message and becomes follower (TestFollower/Candidate/LeaderUpdateTermFromMessage)', async (t) => {
  for (const role of ['follower', 'preCandidate', 'candidate', 'leader'] as const) {
    const net = inRole(role);
    t.equal(net.role('a'), role, `${role}: setup`);
    net.deliver(append('b', 'a', 7, 0, 0));
    t.equal(net.term('a'), 7, `${role}: term updated`);
    t.equal(net.role('a'), 'follower', `${role}: back to follower`);
    t.equal(net.node('a').status().leader, 'b', `${role}: the sender of an append is the leader`);
  }
});

t.test('§5.1 a message with a stale term is ignored (TestRejectStaleTermMessage)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'b'); // term 2
  net.deliver(append('b', 'a', 5, 0, 0)); // a moves to term 5 with leader b
  net.flush();
  net.take();
  const before = net.logIds('a');
  const commit = net.node('a').status().commit;
  net.deliver(append('c', 'a', 4, 3, 1, [ent(4, 4)], 4));
  t.equal(net.term('a'), 5, 'term unchanged');
  t.equal(net.node('a').status().leader, 'b', 'leader unchanged');
  t.same(net.logIds('a'), before, 'the stale append did not touch the log');
  t.equal(net.node('a').status().commit, commit, 'nor the commit index');
  net.flush('a');
  const replies = net.take((m) => m.to === 'c');
  t.ok(replies.every((m) => m.term === 5 && !(m.type === 'appendResponse' && m.reject === false && m.index > commit)),
    'any reply only tells the stale leader the newer term');
});

t.test('§5.2 members start as followers (TestStartAsFollower)', async (t) => {
  const net = Network.bootstrap(ABC);
  for (const id of ABC) {
    const st = net.node(id).status();
    t.equal(st.role, 'follower');
    t.equal(st.leader, '');
    t.equal(st.term, 1);
  }
  const restarted = Network.restart({ a: stateWithLog(ABC, [2, 3], 3) });
  t.equal(restarted.role('a'), 'follower', 'a restarted member too');
  t.equal(restarted.term('a'), 3);
});

t.test('§5.2 leader heartbeats carry no entries and never a commit beyond the follower match (TestLeaderBcastBeat)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.cut('a', 'c');
  for (let i = 0; i < 3; i++) t.equal(net.propose('a', `x${i}`), undefined);
  net.heal();
  const st = net.node('a').status();
  t.equal(st.commit, 7, 'the three proposals committed with b');
  net.tick('a', 1);
  net.flush('a');
  const beats = net.take();
  t.same(beats.map((m) => [m.type, m.to]).sort(), [['heartbeat', 'b'], ['heartbeat', 'c']]);
  for (const m of beats) {
    if (m.type !== 'heartbeat') continue;
    t.notOk('entries' in m, 'a heartbeat has no entries field');
    t.equal(m.term, st.term);
    t.equal(m.commit, m.to === 'b' ? 7 : Math.min(st.progress!['c']!.match, 7), `commit for ${m.to}`);
  }
  t.ok(st.progress!['c']!.match < 7, 'c lags');
});

t.test('§5.2 a follower that hears nothing starts an election after its timeout (TestFollowerStartElection)', async (t) => {
  // With PreVote (the default) the first phase changes no term and asks for pre-votes.
  const net = cluster(ABC);
  for (let i = 0; i < 20 && net.role('a') === 'follower'; i++) net.tick('a');
  net.flush('a');
  t.equal(net.role('a'), 'preCandidate');
  t.equal(net.term('a'), 1, 'a pre-election does not bump the term');
  const pre = net.take() as VoteMessage[];
  t.same(pre.map((m) => [m.type, m.to, m.term, m.lastLogIndex, m.lastLogTerm]).sort(),
    [['preVote', 'b', 2, 3, 1], ['preVote', 'c', 2, 3, 1]]);

  // Without PreVote: term+1, vote for itself (durably), ask everyone for a vote.
  const plain = cluster(ABC, { config: { preVote: false } });
  for (let i = 0; i < 20 && plain.role('a') === 'follower'; i++) plain.tick('a');
  const rd = plain.processReady('a')!;
  t.equal(plain.role('a'), 'candidate');
  t.same(rd.hardState && { term: rd.hardState.term, vote: rd.hardState.vote }, { term: 2, vote: 'a' }, 'self-vote is persisted');
  t.same(rd.messages, [], 'vote requests wait until the self-vote is durable');
  t.same(rd.messagesAfterPersist.map((m) => [m.type, m.to, m.term]).sort(), [['vote', 'b', 2], ['vote', 'c', 2]]);
});

t.test('§5.2 a candidate that neither wins nor loses starts a new election (TestCandidateStartNewElection)', async (t) => {
  const net = cluster(ABC, { config: { preVote: false } });
  net.node('a').campaign();
  net.flush('a');
  net.take();
  t.equal(net.term('a'), 2);
  for (let i = 0; i < 20 && net.term('a') === 2; i++) net.tick('a');
  net.flush('a');
  t.equal(net.role('a'), 'candidate');
  t.equal(net.term('a'), 3, 'a new term for the new election');
  t.same(net.take().map((m) => [m.type, m.to, m.term]).sort(), [['vote', 'b', 3], ['vote', 'c', 3]]);
});

t.test('§5.2 election in one round: win, lose or stay candidate by vote pattern, 1/3/5 members (TestLeaderElectionInOneRoundRPC)', async (t) => {
  const cases: { size: number; votes: Record<string, boolean>; want: string }[] = [
    { size: 1, votes: {}, want: 'leader' },
    { size: 3, votes: { b: true, c: true }, want: 'leader' },
    { size: 3, votes: { b: true }, want: 'leader' },
    { size: 5, votes: { b: true, c: true, d: true, e: true }, want: 'leader' },
    { size: 5, votes: { b: true, c: true, d: true }, want: 'leader' },
    { size: 5, votes: { b: true, c: true }, want: 'leader' },
    { size: 3, votes: { b: false, c: false }, want: 'follower' },
    { size: 5, votes: { b: false, c: false, d: false, e: false }, want: 'follower' },
    { size: 5, votes: { b: true, c: false, d: false, e: false }, want: 'follower' },
    { size: 3, votes: {}, want: 'candidate' },
    { size: 5, votes: { b: true }, want: 'candidate' },
    { size: 5, votes: { b: false, c: false }, want: 'candidate' },
    { size: 5, votes: { b: true, c: true, d: false, e: false }, want: 'leader' },
  ];
  for (const pre of [false, true]) {
    for (const c of cases) {
      const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, c.size);
      const net = cluster(ids, { config: { preVote: pre } });
      net.node('a').campaign();
      net.flush('a');
      net.take();
      if (pre && c.size > 1) {
        // Phase one with the same pattern; a pending or lost pre-election is final here.
        for (const [from, granted] of Object.entries(c.votes)) {
          // A grant echoes the pre-vote term; a rejection carries the voter's own term (1).
          net.deliver({ type: 'preVoteResponse', from, to: 'a', term: granted ? 2 : 1, reject: !granted });
        }
        net.flush('a');
        net.take();
        const wantPre = c.want === 'leader' ? 'candidate' : c.want === 'candidate' ? 'preCandidate' : 'follower';
        t.equal(net.role('a'), wantPre, `prevote ${c.size} ${JSON.stringify(c.votes)}`);
        t.equal(net.term('a'), wantPre === 'candidate' ? 2 : 1, 'term moves only after the pre-election');
        continue;
      }
      for (const [from, granted] of Object.entries(c.votes)) {
        net.deliver({ type: 'voteResponse', from, to: 'a', term: 2, reject: !granted });
      }
      net.flush('a');
      t.equal(net.role('a'), c.want, `vote ${c.size} ${JSON.stringify(c.votes)}`);
      t.equal(net.term('a'), 2);
    }
  }
});

t.test('§5.2 one vote per term, first come first served (TestFollowerVote)', async (t) => {
  const cases: { vote: string; from: string; reject: boolean }[] = [
    { vote: '', from: 'b', reject: false },
    { vote: '', from: 'c', reject: false },
    { vote: 'b', from: 'b', reject: false },
    { vote: 'c', from: 'c', reject: false },
    { vote: 'b', from: 'c', reject: true },
    { vote: 'c', from: 'b', reject: true },
  ];
  for (const c of cases) {
    const state: PersistedState = { hardState: { term: 2, vote: c.vote, commit: 3 }, entries: logWithTerms(ABC, []) };
    const net = Network.restart({ a: state });
    net.deliver(voteReq(c.from, 'a', 2, 3, 1));
    const rd = net.processReady('a')!;
    const resp = rd.messagesAfterPersist.filter((m) => m.type === 'voteResponse');
    t.same(resp.map((m) => [m.to, m.term, m.type === 'voteResponse' && m.reject]), [[c.from, 2, c.reject]], JSON.stringify(c));
    t.same(rd.messages, [], 'the vote reply never leaves before the Ready is durable');
    if (!c.reject && c.vote === '') t.equal(rd.hardState?.vote, c.from, 'a new vote is in the same Ready as its reply');
  }
  // Two candidates in one term: only the first gets the vote.
  const net = Network.restart({ a: { hardState: { term: 2, vote: '', commit: 3 }, entries: logWithTerms(ABC, []) } });
  net.deliver(voteReq('b', 'a', 3, 3, 1));
  net.deliver(voteReq('c', 'a', 3, 3, 1));
  net.flush('a');
  t.same(net.takeType('voteResponse').map((m) => [m.to, m.reject]), [['b', false], ['c', true]]);
  t.equal(net.node('a').status().vote, 'b');
});

t.test('§5.2 a candidate concedes to an AppendEntries of its own term or newer (TestCandidateFallback)', async (t) => {
  for (const term of [2, 3]) {
    const net = inRole('candidate');
    t.equal(net.term('a'), 2);
    net.deliver(append('b', 'a', term, 3, 1));
    t.equal(net.role('a'), 'follower', `term ${term}`);
    t.equal(net.term('a'), term);
    t.equal(net.node('a').status().leader, 'b');
  }
});

/** Ticks one member until it starts a (pre-)election; returns the ticks it took. */
function ticksToElection(seed: number, fromCandidate: boolean): number {
  const net = cluster(ABC, { seed, config: { preVote: false } });
  if (fromCandidate) {
    net.node('a').campaign();
    net.flush('a');
    net.take();
  }
  const term = net.term('a');
  for (let ticks = 1; ticks <= 100; ticks++) {
    net.tick('a');
    if (net.term('a') !== term) return ticks;
  }
  throw new Error('no election within 100 ticks');
}

t.test('§5.2 election timeouts are randomized in [electionTicks, 2*electionTicks) (TestFollower/CandidateElectionTimeoutRandomized)', async (t) => {
  for (const fromCandidate of [false, true]) {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const n = ticksToElection(seed, fromCandidate);
      if (n < 10 || n >= 20) t.fail(`seed ${seed}: timeout ${n} outside [10, 20)`);
      seen.add(n);
    }
    t.ok(seen.size >= 9, `${fromCandidate ? 'candidate' : 'follower'}: ${seen.size} distinct timeouts over 200 seeds`);
  }
});

t.test('§5.2 randomized timeouts rarely collide, so split votes are rare (TestFollowersElectionTimeoutNonconflict)', async (t) => {
  const rounds = 300;
  let conflicts = 0;
  for (let round = 0; round < rounds; round++) {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const net = cluster(ids, { seed: 10_000 + round });
    for (let tick = 0; tick < 100; tick++) {
      for (const id of ids) net.tick(id);
      const started = ids.filter((id) => net.role(id) !== 'follower').length;
      if (started > 0) {
        if (started > 1) conflicts++;
        break;
      }
    }
  }
  t.ok(conflicts / rounds <= 0.3, `${conflicts} of ${rounds} rounds had simultaneous timeouts`);
});

t.test('§5.4.1 a vote is granted only to a candidate at least as up to date, by last term then index (TestVoter)', async (t) => {
  // log: the terms after the 3 membership entries; (index, term): the candidate's last entry.
  const cases: { log: number[]; index: number; term: number; grant: boolean }[] = [
    { log: [1], index: 4, term: 1, grant: true },
    { log: [1], index: 5, term: 1, grant: true },
    { log: [1, 1], index: 4, term: 1, grant: false },
    { log: [1], index: 4, term: 2, grant: true },
    { log: [1], index: 5, term: 2, grant: true },
    { log: [1, 1], index: 4, term: 2, grant: true },
    { log: [2], index: 4, term: 1, grant: false },
    { log: [2], index: 5, term: 1, grant: false },
    { log: [2, 1], index: 4, term: 1, grant: false },
  ];
  for (const type of ['vote', 'preVote'] as const) {
    for (const c of cases) {
      const net = Network.restart({ a: stateWithLog(ABC, c.log, 2) });
      net.deliver(voteReq('b', 'a', 3, c.index, c.term, type));
      net.flush('a');
      const resp = net.take();
      t.same(resp.map((m) => [m.type, m.type.endsWith('Response') && 'reject' in m ? !m.reject : undefined]),
        [[`${type}Response`, c.grant]], `${type} ${JSON.stringify(c)}`);
    }
  }
});

t.test('§5.4.1 a vote request carries the candidate last log index and term (TestVoteRequest)', async (t) => {
  for (const terms of [[2], [2, 3], [1, 1, 4]]) {
    const state = stateWithLog(ABC, terms, 4);
    const net = Network.restart({ a: state, b: stateWithLog(ABC, [], 4), c: stateWithLog(ABC, [], 4) }, { config: { preVote: false } });
    net.node('a').campaign();
    net.flush('a');
    const reqs = net.takeType('vote', 'a');
    t.same(reqs.map((m) => [m.to, m.term, m.lastLogIndex, m.lastLogTerm]).sort(),
      [['b', 5, 3 + terms.length, terms.at(-1)], ['c', 5, 3 + terms.length, terms.at(-1)]], `log ${terms}`);
  }
});

t.test('§5.4.1 a longer log of an older last term cannot win; an up-to-date member wins and repairs it', async (t) => {
  // A member with an older last term cannot win even with a longer log.
  const net = Network.restart({
    a: stateWithLog(ABC, [1, 1, 1, 1], 2),
    b: stateWithLog(ABC, [2], 2),
    c: stateWithLog(ABC, [2], 2),
  });
  net.campaign('a');
  t.not(net.role('a'), 'leader', 'a longer log of an older term loses');
  elect(net, 'b');
  t.same(net.logTerms('a'), net.logTerms('b'), 'b then repairs a');
});
