// Paper-sentence tests, log replication and commitment (etcd-io/raft raft_paper_test.go,
// paper §5.3 and §5.4.2, Figures 7 and 8). Each test names the section it checks. A
// bootstrapped cluster of n members starts at term 1 with the n membership entries committed
// at indexes 1..n.
import t from 'tap';
import type { AppendMessage, Message, PersistedState } from '../../core/raft/index.js';
import { Network, appendMsg as append, bytes, cluster, elect, ent, stateWithLog } from './harness.js';

const ABC = ['a', 'b', 'c'];

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
