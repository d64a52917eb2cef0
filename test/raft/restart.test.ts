// Restarting from durable state (etcd-io/raft rawnode_test.go TestRawNodeRestart,
// TestRawNodeCommitPaginationAfterRestart, node_test.go TestNodeRestart, rafttest TestRestart):
// what survives a crash (term, vote, log, commit) and what a restarted member hands back.
import t from 'tap';
import type { PersistedState } from '../../core/raft/index.js';
import { Network, bytes, cluster, elect, logWithTerms } from './harness.js';

const ABC = ['a', 'b', 'c'];

t.test('restart hands back committed-but-unapplied entries, nothing to persist (TestRawNodeRestart)', async (t) => {
  const entries = logWithTerms(ABC, [1, 2, 2]); // indexes 1..6
  const net = Network.restart({ a: { hardState: { term: 2, vote: 'b', commit: 5 }, entries, applied: 3 } });
  const st = net.node('a').status();
  t.same([st.term, st.vote, st.commit, st.applied, st.role], [2, 'b', 5, 3, 'follower']);
  const rd = net.node('a').ready();
  t.same(rd.committedEntries.map((e) => e.index), [4, 5], 'applied+1 .. commit');
  t.same(rd.entries, [], 'everything given at restart is already durable');
  t.equal(rd.hardState, undefined, 'the hard state did not change');
  t.equal(rd.mustSync, false);
});

t.test('commit pagination after a restart: every committed entry once, in order, within the budget (TestRawNodeCommitPaginationAfterRestart)', async (t) => {
  const entries = logWithTerms(ABC, Array.from({ length: 20 }, () => 1));
  const state: PersistedState = { hardState: { term: 1, vote: '', commit: 23 }, entries, applied: 3 };
  const net = Network.restart({ a: state }, { config: { maxCommittedBytesPerReady: 12 } });
  const seen: number[] = [];
  for (let i = 0; i < 50 && net.node('a').hasReady(); i++) {
    const rd = net.processReady('a')!;
    const size = rd.committedEntries.reduce((s, e) => s + e.data.byteLength, 0);
    if (rd.committedEntries.length > 1 && size > 12) t.fail(`page of ${size} bytes`);
    seen.push(...rd.committedEntries.map((e) => e.index));
  }
  t.same(seen, Array.from({ length: 20 }, (_, k) => 4 + k));
});

t.test('§5.2 a vote survives a crash: a restarted member does not vote twice in one term', async (t) => {
  const net = cluster(ABC, { config: { preVote: false } });
  net.node('a').campaign();
  net.flush('a');
  net.deliverQueued((m) => m.to === 'b');
  net.flush('b');
  t.equal(net.store('b').hardState.vote, 'a', 'the vote is durable before the reply leaves');
  net.queue = [];
  net.restartNode('b');
  t.same([net.term('b'), net.node('b').status().vote], [2, 'a']);
  net.deliver({ type: 'vote', from: 'c', to: 'b', term: 2, lastLogIndex: 9, lastLogTerm: 1, transfer: false });
  net.flush('b');
  t.same(net.take((m) => m.from === 'b').map((m) => m.type === 'voteResponse' && m.reject), [true], 'c is refused');
});

t.test('a follower restarted mid-stream rejoins without re-applying or losing entries', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
  net.restartNode('b');
  net.propose('a', 'v3');
  net.tick('a');
  net.stabilize();
  t.same(net.state('b'), ['v0', 'v1', 'v2', 'v3']);
});

t.test('the whole cluster crashes and restarts: it elects again and keeps its history (rafttest TestRestart)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
  const terms = ABC.map((id) => net.term(id));
  for (const id of ABC) net.restartNode(id);
  t.same(ABC.map((id) => net.role(id)), ['follower', 'follower', 'follower']);
  t.same(ABC.map((id) => net.term(id)), terms, 'terms survive');
  net.tickUntil(() => net.leader() !== undefined, 100);
  const leader = net.leader()!;
  net.propose(leader, 'after');
  net.tickAll(2);
  for (const id of ABC) t.same(net.state(id), ['v0', 'v1', 'v2', 'after'], `${id}`);
});

t.test('a restarted leader that lost unpersisted entries does not count them (its own ack needs durability)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.isolate('a');
  net.node('a').propose(bytes('never-durable'));
  net.node('a').ready(); // taken but never persisted: the crash comes first
  net.restartNode('a');
  t.equal(net.node('a').status().lastIndex, 4, 'the entry is gone after the crash');
  net.heal();
  net.tickUntil(() => net.leader() !== undefined, 100);
  net.propose(net.leader()!, 'ok');
  net.tickAll(2);
  for (const id of ABC) t.same(net.state(id), ['ok'], `${id}`);
});
