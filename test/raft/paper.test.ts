// Paper-sentence tests (etcd-io/raft raft_paper_test.go): each test names the Raft paper
// section it checks. Terms and indexes below: a bootstrapped cluster of n members starts at
// term 1 with the n membership entries committed at indexes 1..n.
import t from 'tap';
import type { AppendMessage, Message, PersistedState, VoteMessage } from '../../core/raft/index.js';
import { Network, bytes, cluster, elect, ent, logWithTerms, stateWithLog } from './harness.js';

const ABC = ['a', 'b', 'c'];

function append(from: string, to: string, term: number, prevLogIndex: number, prevLogTerm: number, entries = [] as ReturnType<typeof ent>[], commit = 0): AppendMessage {
  return { type: 'append', from, to, term, prevLogIndex, prevLogTerm, entries, commit };
}

function voteReq(from: string, to: string, term: number, lastLogIndex: number, lastLogTerm: number, type: 'vote' | 'preVote' = 'vote'): VoteMessage {
  return { type, from, to, term, lastLogIndex, lastLogTerm, transfer: false };
}

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

/** Sends a raw message list to the target; returns its replies after persisting. */
function replies(net: Network, m: Message): Message[] {
  net.deliver(m);
  net.flush(m.to);
  return net.take((r) => r.from === m.to);
}

t.test('§5.3 AppendEntries consistency check on prevLogIndex/prevLogTerm (TestFollowerCheckMsgApp)', async (t) => {
  // Follower log after the prefix: 4@1, 5@2; commit 4.
  const cases: { prev: [number, number]; reject: boolean; index: number; hint?: [number, number] }[] = [
    { prev: [3, 1], reject: false, index: 4 }, // below commit: the reply says "I have 4"
    { prev: [4, 1], reject: false, index: 4 },
    { prev: [5, 2], reject: false, index: 5 },
    { prev: [5, 3], reject: true, index: 5, hint: [5, 2] }, // term mismatch at 5
    { prev: [6, 3], reject: true, index: 6, hint: [5, 2] }, // beyond the log
    { prev: [6, 1], reject: true, index: 6, hint: [4, 1] }, // hint skips the term-2 entry
  ];
  for (const c of cases) {
    const net = Network.restart({ a: stateWithLog(ABC, [1, 2], 3, 4) });
    const out = replies(net, append('b', 'a', 3, c.prev[0], c.prev[1], [], 4));
    t.equal(out.length, 1, JSON.stringify(c));
    const r = out[0]!;
    if (r.type !== 'appendResponse') {
      t.fail(`expected appendResponse, got ${r.type}`);
      continue;
    }
    t.same([r.reject, r.index], [c.reject, c.index], `${JSON.stringify(c)}: reject, index`);
    if (c.hint !== undefined) t.same([r.hintIndex, r.hintTerm], c.hint, `${JSON.stringify(c)}: hint`);
  }
});

t.test('§5.3 a follower appends new entries and truncates a conflicting suffix (TestFollowerAppendEntries)', async (t) => {
  // Follower log after the prefix (indexes 4, 5): terms [1, 2].
  const cases: { prev: [number, number]; entries: [number, number][]; want: number[] }[] = [
    { prev: [5, 2], entries: [[6, 3]], want: [1, 2, 3] },
    { prev: [4, 1], entries: [[5, 3], [6, 4]], want: [1, 3, 4] },
    { prev: [3, 1], entries: [[4, 1]], want: [1, 2] }, // matching prefix: nothing cut
    { prev: [3, 1], entries: [[4, 3]], want: [3] },
  ];
  for (const c of cases) {
    const net = Network.restart({ a: stateWithLog(ABC, [1, 2], 2) });
    net.deliver(append('b', 'a', 4, c.prev[0], c.prev[1], c.entries.map(([i, term]) => ent(i, term)), 3));
    net.flush('a');
    t.same(net.logTerms('a').slice(3), c.want, `in memory: ${JSON.stringify(c)}`);
    t.same(net.store('a').entries.slice(3).map((e) => e.term), c.want, `durable: ${JSON.stringify(c)}`);
  }
});

t.test('§5.3 a follower commits up to min(leaderCommit, last new entry) and applies in order (TestFollowerCommitEntry)', async (t) => {
  const cases: { entries: number; commit: number; want: number }[] = [
    { entries: 1, commit: 4, want: 4 },
    { entries: 2, commit: 5, want: 5 },
    { entries: 2, commit: 4, want: 4 },
    { entries: 1, commit: 9, want: 4 }, // never beyond what this append proved
  ];
  for (const c of cases) {
    const net = Network.restart({ a: stateWithLog(ABC, [], 1) });
    const entries = Array.from({ length: c.entries }, (_, k) => ent(4 + k, 2, `d${k}`));
    net.deliver(append('b', 'a', 2, 3, 1, entries, c.commit));
    const rd = net.processReady('a')!;
    t.equal(net.node('a').status().commit, c.want, JSON.stringify(c));
    t.same(rd.committedEntries.map((e) => e.index), [1, 2, 3, 4, 5].slice(0, c.want), 'committed entries handed in order');
  }
});

t.test('§5.3 the leader sends new entries to every follower with the right prev position (TestLeaderStartReplication)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  const last = net.node('a').status().lastIndex;
  t.equal(net.node('a').propose(bytes('some data')), undefined);
  const rd = net.processReady('a')!;
  t.same(rd.entries.map((e) => [e.index, e.term]), [[last + 1, 2]], 'the entry is handed to disk');
  const apps = rd.messages.filter((m): m is AppendMessage => m.type === 'append');
  t.same(apps.map((m) => [m.to, m.prevLogIndex, m.prevLogTerm, m.entries.map((e) => e.index), m.commit]).sort(),
    [['b', last, 2, [last + 1], last], ['c', last, 2, [last + 1], last]]);
  t.equal(net.node('a').status().commit, last, 'not committed before a quorum acknowledges');
});

t.test('§5.3 the leader commits once a quorum holds the entry, counting itself only when durable (TestLeaderCommitEntry / TestLeaderAcknowledgeCommit)', async (t) => {
  const cases: { size: number; acks: string[]; commit: boolean }[] = [
    { size: 1, acks: [], commit: true },
    { size: 3, acks: [], commit: false },
    { size: 3, acks: ['b'], commit: true },
    { size: 3, acks: ['b', 'c'], commit: true },
    { size: 5, acks: ['b'], commit: false },
    { size: 5, acks: ['b', 'c'], commit: true },
    { size: 5, acks: ['b', 'c', 'd', 'e'], commit: true },
  ];
  for (const c of cases) {
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, c.size);
    const net = cluster(ids);
    elect(net, 'a');
    const last = net.node('a').status().lastIndex + 1;
    net.node('a').propose(bytes('x'));
    net.flush('a');
    net.take();
    for (const from of c.acks) {
      net.deliver({ type: 'appendResponse', from, to: 'a', term: 2, index: last, reject: false, hintIndex: 0, hintTerm: 0 });
    }
    net.flush('a');
    t.equal(net.node('a').status().commit === last, c.commit, JSON.stringify(c));
    if (c.commit) t.same(net.state('a'), ['x'], 'and applies it');
  }
  // The leader's own acknowledgement counts only after its Ready is durable.
  const net = cluster(ABC);
  elect(net, 'a');
  const last = net.node('a').status().lastIndex + 1;
  net.node('a').propose(bytes('y'));
  const rd = net.node('a').ready(); // taken, not yet advanced
  net.deliver({ type: 'appendResponse', from: 'b', to: 'a', term: 2, index: last, reject: false, hintIndex: 0, hintTerm: 0 });
  t.equal(net.node('a').status().commit, last - 1, 'b alone is not a quorum while the leader has not persisted');
  net.store('a').persist(rd);
  net.store('a').apply(rd);
  net.node('a').advance(rd);
  t.equal(net.node('a').status().commit, last, 'advance makes the leader count itself');
});

t.test('§5.3 committing a current-term entry commits every preceding entry (TestLeaderCommitPrecedingEntries)', async (t) => {
  for (const terms of [[], [2], [1, 1], [1, 2, 2]]) {
    const net = Network.restart({
      a: stateWithLog(ABC, terms, 2), b: stateWithLog(ABC, [], 2), c: stateWithLog(ABC, [], 2),
    });
    elect(net, 'a');
    const last = 3 + terms.length + 1;
    t.equal(net.node('a').status().commit, last, `log ${terms}: the no-op commits`);
    t.same(net.store('a').appliedEntries.slice(3).map((e) => e.term), [...terms, 3], 'older entries applied first');
  }
});

t.test('§5.3 Figure 7: whatever the follower log shape, the leader makes it match (TestLeaderSyncFollowerLog)', async (t) => {
  const voters = ['f', 'l', 'x'];
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const shapes: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, shape] of Object.entries(shapes)) {
    const net = Network.restart({
      l: stateWithLog(voters, leaderLog, 8),
      f: stateWithLog(voters, shape, 7),
      x: stateWithLog(voters, [], 7),
    });
    elect(net, 'l');
    const want = [1, 1, 1, ...leaderLog, net.term('l')];
    t.same(net.logTerms('l'), want, `(${name}) leader keeps its log plus its no-op`);
    t.same(net.logTerms('f'), want, `(${name}) follower converged in memory`);
    t.same(net.store('f').entries.map((e) => e.term), want, `(${name}) and on disk`);
    t.equal(net.node('f').status().commit, want.length, `(${name}) and committed`);
  }
});

t.test('§5.4.2 Figure 8: the leader commits by counting only current-term entries (TestLeaderOnlyCommitsLogFromCurrentTerm)', async (t) => {
  for (const [ackIndex, wantCommit] of [[4, 3], [5, 3], [6, 6]] as const) {
    // a holds 4@1 and 5@2 and becomes leader of term 3, appending its no-op at 6.
    const net = Network.restart({
      a: stateWithLog(ABC, [1, 2], 2), b: stateWithLog(ABC, [], 2), c: stateWithLog(ABC, [], 2),
    });
    net.dropType('append');
    elect(net, 'a');
    t.equal(net.term('a'), 3);
    net.deliver({ type: 'appendResponse', from: 'b', to: 'a', term: 3, index: ackIndex, reject: false, hintIndex: 0, hintTerm: 0 });
    net.flush('a');
    t.equal(net.node('a').status().commit, wantCommit, `b acknowledges up to ${ackIndex}`);
  }
});

t.test('§5.4.2 Figure 8 scenario: an old-term entry on a majority is not committed and may be overwritten', async (t) => {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  // (b)->(c): s1 led term 2 and put 6@2 on s2; s5 led term 3 and wrote 6@3 only locally.
  const states: Record<string, PersistedState> = {
    s1: stateWithLog(ids, [2], 3), s2: stateWithLog(ids, [2], 3), s3: stateWithLog(ids, [], 3),
    s4: stateWithLog(ids, [], 3), s5: stateWithLog(ids, [3], 3),
  };
  const options = { config: { checkQuorum: false, maxSizePerMsgBytes: 1 } };
  const net = Network.restart(states, options);
  net.isolate('s5');
  // (c): s1 leads term 4; its no-op (7@4) is held back, but 6@2 reaches s3: a majority.
  net.hold((m) => m.type === 'append' && m.entries.some((e) => e.term === 4));
  elect(net, 's1');
  t.equal(net.term('s1'), 4);
  // The first append to s3 (7@4 after 6@2) fails the consistency check; the retry carries
  // only 6@2 (one entry per message), and the following 7@4 is held again.
  net.deliverHeld((m) => m.to === 's3');
  net.stabilize();
  t.same(['s1', 's2', 's3'].map((id) => net.node(id).logView().term(6)), [2, 2, 2], '6@2 is on s1, s2, s3');
  t.equal(net.node('s1').status().commit, 5, '(c) s1 must not commit 6@2 by counting replicas');
  // (d): s1 crashes; s5 wins term 5 with s2, s3, s4 and overwrites 6@2 with 6@3.
  net.heal();
  net.held = [];
  net.isolate('s1');
  net.campaign('s5'); // the first pre-election only teaches s5 the current term (4)
  elect(net, 's5');
  t.same(['s2', 's3', 's4', 's5'].map((id) => net.node(id).logView().term(6)), [3, 3, 3, 3], '(d) 6@2 overwritten');
  t.ok(net.node('s5').status().commit >= 6, 'and s5 commits 6@3 with its own term entry');

  // (e): had s1 replicated 7@4 to a majority first, 6@2 would be committed and s5 could not win.
  const alt = Network.restart(states, options);
  alt.isolate('s5');
  elect(alt, 's1');
  t.equal(alt.node('s1').status().commit, 7, '(e) the term-4 entry commits and 6@2 with it');
  alt.heal();
  alt.isolate('s1');
  alt.campaign('s5');
  alt.campaign('s5'); // a second try, once it has learned the current term
  t.not(alt.role('s5'), 'leader', 's5 (last term 3) cannot win against logs ending in term 4');
});

t.test('§5.4.2 a new leader cannot commit old-term entries until its own entry replicates (TestCannotCommitWithoutNewTermEntry / TestCommitWithoutNewTermEntry)', async (t) => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const net = cluster(ids, { config: { checkQuorum: false } });
  elect(net, 'a'); // term 2, no-op at 6
  for (const id of ['c', 'd', 'e']) net.cut('a', id);
  net.propose('a', 'p1');
  net.propose('a', 'p2');
  t.equal(net.node('a').status().commit, 6, 'entries 7, 8 only reach b');
  net.heal();
  net.dropType('append');
  elect(net, 'b'); // term 3, its no-op 9@3 cannot leave
  t.equal(net.node('b').status().commit, 6, 'b does not commit 7@2 and 8@2 without a term-3 entry on a quorum');
  net.heal();
  net.tick('b');
  net.stabilize();
  for (const id of ids) {
    t.equal(net.node(id).status().commit, 9, `${id}: the no-op replicates and commits everything`);
    t.same(net.state(id), ['p1', 'p2'], `${id}: applied`);
  }
});
