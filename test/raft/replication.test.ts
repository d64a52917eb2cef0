// Log replication beyond the paper sentences (etcd-io/raft raft_test.go and testdata): fast
// log rejection, reordered messages, proposal forwarding, the uncommitted-bytes limit, flow
// control in the Replicate state, recovery of lost appends, and the Log Matching property
// under random message loss (paper §5.3).
import t from 'tap';
import type { Test } from 'tap';
import type { AppendMessage } from '../../core/raft/index.js';
import { seededRandom } from '../../core/raft/index.js';
import { Network, bytes, cluster, elect, stateWithLog } from './harness.js';

const ABC = ['a', 'b', 'c'];

function rejectionsFrom(net: Network, from: string, since: number): number {
  return net.sent.slice(since).filter((m) => m.type === 'appendResponse' && m.from === from && m.reject).length;
}

t.test('§5.3 fast log rejection: a diverged follower is repaired in at most two rejected round trips (TestFastLogRejection)', async (t) => {
  const ones = (n: number, term: number) => Array.from({ length: n }, () => term);
  const cases: { name: string; leader: number[]; follower: number[] }[] = [
    { name: 'follower has a long suffix of an older term', leader: [1, ...ones(20, 3)], follower: [1, ...ones(20, 2)] },
    { name: 'follower is longer, with a newer uncommitted term', leader: [1, ...ones(5, 2), ...ones(5, 4)], follower: [1, ...ones(5, 2), ...ones(25, 3)] },
    { name: 'follower only has the prefix', leader: [1, ...ones(30, 2)], follower: [] },
    { name: 'follower shorter with a different term', leader: [1, 1, ...ones(20, 5)], follower: [1, 1, ...ones(3, 4)] },
  ];
  for (const c of cases) {
    const voters = ['f', 'l', 'x'];
    const net = Network.restart({
      l: stateWithLog(voters, c.leader, 5), f: stateWithLog(voters, c.follower, 5), x: stateWithLog(voters, [], 5),
    });
    const since = net.sent.length;
    elect(net, 'l');
    const rejections = rejectionsFrom(net, 'f', since);
    t.ok(rejections <= 2, `${c.name}: ${rejections} rejections`);
    t.same(net.logTerms('f'), net.logTerms('l'), `${c.name}: logs match`);
  }
});

t.test('§5.3 reordered appends and replies do not corrupt progress (TestLogReplicationWithReorderedMessage)', async (t) => {
  for (const order of ['replies reversed', 'replies in order'] as const) {
    const net = cluster(ABC);
    elect(net, 'a');
    const apps: AppendMessage[] = [];
    for (const data of ['p1', 'p2']) {
      net.node('a').propose(bytes(data));
      net.flush('a');
      apps.push(...(net.takeType('append', 'a', 'b') as AppendMessage[]));
    }
    t.equal(apps.length, 2, 'two pipelined appends to b');
    // b receives them in the wrong order: the second fails the consistency check first.
    net.deliver(apps[1]!);
    net.flush('b');
    const r2 = net.take((m) => m.from === 'b');
    net.deliver(apps[0]!);
    net.flush('b');
    const r1 = net.take((m) => m.from === 'b');
    t.ok(r2.some((m) => m.type === 'appendResponse' && m.reject), 'the early second append is rejected');
    const replies = order === 'replies reversed' ? [...r1, ...r2] : [...r2, ...r1];
    for (const m of replies) net.deliver(m);
    net.stabilize();
    net.tick('a');
    net.stabilize();
    for (const id of ABC) t.same(net.state(id), ['p1', 'p2'], `${order}: ${id} applied both`);
    const pr = net.node('a').status().progress!['b']!;
    t.same([pr.match, pr.state], [net.node('a').status().lastIndex, 'replicate'], `${order}: b's progress recovered`);
  }
});

t.test('proposals at a follower are forwarded to the leader (TestProposalByProxy)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  t.equal(net.propose('b', 'via b'), undefined);
  const fwd = net.sent.filter((m) => m.type === 'propose');
  t.same(fwd.map((m) => [m.from, m.to, m.term]), [['b', 'a', 0]], 'forwarded once, without a term');
  for (const id of ABC) t.same(net.state(id), ['via b'], `${id} applied`);

  const fresh = cluster(ABC);
  const err = fresh.node('b').propose(bytes('x'));
  t.equal(err?.code, 'RAFT_NO_LEADER', 'no known leader: a typed, retryable error');
  t.equal(err?.retryable, true);
});

t.test('a forwarded proposal reaching a non-leader is dropped, not bounced on', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.deliver({ type: 'propose', from: 'b', to: 'c', term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: bytes('lost') }] });
  net.stabilize();
  t.same(net.sent.filter((m) => m.type === 'propose'), [], 'c did not forward it');
  for (const id of ABC) t.same(net.state(id), [], `${id} applied nothing`);
});

t.test('the uncommitted-bytes limit refuses proposals with a typed error, and lifts once entries commit (TestUncommittedEntryLimit)', async (t) => {
  const net = cluster(ABC, { config: { maxUncommittedBytes: 10 } });
  elect(net, 'a');
  net.isolate('a');
  const results = [1, 2, 3, 4].map((i) => net.node('a').propose(bytes(`ab${i}`))); // 3 bytes each
  t.same(results.map((e) => e?.code), [undefined, undefined, undefined, 'RAFT_UNCOMMITTED_LIMIT'], '9 bytes fit, 12 would not');
  t.equal(results[3]?.retryable, true);
  t.equal(results[3]?.leaderHint, 'a');
  // A forwarded proposal over the limit is dropped too.
  net.deliver({ type: 'propose', from: 'b', to: 'a', term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: bytes('fwd') }] });
  net.flush('a');
  t.equal(net.node('a').status().lastIndex, 7, 'only the no-op and three proposals are in the log');
  net.heal();
  net.tick('a');
  net.stabilize();
  t.same(net.state('b'), ['ab1', 'ab2', 'ab3']);
  t.equal(net.propose('a', 'ab5'), undefined, 'after the commit the budget is free again');
  // One entry larger than the whole budget is still accepted when nothing is uncommitted.
  t.equal(net.propose('a', 'x'.repeat(50)), undefined);
});

t.test('a partitioned leader does not grow its log without bound (TestRawNodeBoundedLogGrowthWithPartition)', async (t) => {
  const net = cluster(ABC, { config: { maxUncommittedBytes: 100 } });
  elect(net, 'a');
  net.isolate('a');
  const before = net.node('a').status().lastIndex;
  let refused = 0;
  for (let i = 0; i < 1000; i++) if (net.node('a').propose(bytes('0123456789')) !== undefined) refused++;
  net.flush('a');
  t.equal(net.node('a').status().lastIndex - before, 10, 'ten 10-byte entries, then refusals');
  t.equal(refused, 990);
});

t.test('flow control: the Replicate stream pauses at maxInflightMsgs and resumes on acknowledgements (replicate_pause.txt, TestMsgAppFlowControlFull)', async (t) => {
  const net = cluster(ABC, { config: { maxInflightMsgs: 3 } });
  elect(net, 'a');
  net.hold((m) => m.type === 'appendResponse' && m.from === 'b');
  const since = net.sent.length;
  const first = net.node('a').status().lastIndex;
  for (let i = 0; i < 10; i++) net.propose('a', `e${i}`);
  const toB = net.sent.slice(since).filter((m): m is AppendMessage => m.type === 'append' && m.to === 'b' && m.entries.length > 0);
  t.equal(toB.length, 3, 'three appends in flight to b, then the stream pauses');
  t.equal(net.node('a').status().commit, net.node('a').status().lastIndex, 'c keeps committing meanwhile');
  t.equal(net.node('b').status().lastIndex, first + 3, 'b holds only the three entries sent');
  net.heal();
  net.deliverHeld();
  net.stabilize();
  t.equal(net.state('b').length, 10, 'acknowledgements free the window; b catches up');
  const later = net.sent.slice(since).filter((m): m is AppendMessage => m.type === 'append' && m.to === 'b');
  t.ok(later.some((m) => m.entries.length > 1), 'the backlog goes out batched');
});

t.test('flow control by bytes: maxInflightBytes and maxSizePerMsgBytes bound what is sent', async (t) => {
  const net = cluster(ABC, { config: { maxInflightBytes: 250, maxSizePerMsgBytes: 100, maxInflightMsgs: 100 } });
  elect(net, 'a');
  net.hold((m) => m.type === 'appendResponse' && m.from === 'b');
  const since = net.sent.length;
  for (let i = 0; i < 10; i++) net.propose('a', 'x'.repeat(60));
  const toB = net.sent.slice(since).filter((m): m is AppendMessage => m.type === 'append' && m.to === 'b' && m.entries.length > 0);
  const sentBytes = toB.reduce((sum, m) => sum + m.entries.reduce((s, e) => s + e.data.byteLength, 0), 0);
  t.ok(sentBytes >= 250 && sentBytes < 250 + 60, `b's window holds ${sentBytes} bytes (limit 250, one message may cross it)`);
  net.heal();
  net.deliverHeld();
  net.stabilize();
  t.equal(net.state('b').length, 10);
  const all = net.sent.filter((m): m is AppendMessage => m.type === 'append');
  for (const m of all) {
    const size = m.entries.reduce((s, e) => s + e.data.byteLength, 0);
    if (m.entries.length > 1 && size > 100) t.fail(`append of ${m.entries.length} entries, ${size} bytes > maxSizePerMsgBytes`);
  }
  t.pass('no multi-entry append exceeded maxSizePerMsgBytes');
});

t.test('a lost append is retried on the next heartbeat reply, with no new proposal (etcd #13951)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.drop((m) => m.type === 'append' && m.to === 'b');
  net.propose('a', 'once'); // committed with c; every append to b (and its retry) is lost
  net.heal();
  t.same(net.state('b'), [], 'b missed the entry');
  t.same(net.queue, [], 'nothing else is under way');
  net.tick('a');
  net.stabilize();
  t.same(net.state('b'), ['once'], 'the heartbeat round repaired b');
});

t.test('a follower whose whole in-flight window was lost recovers on the next heartbeat reply (etcd #14633 window stall)', async (t) => {
  const net = cluster(ABC, { config: { maxInflightMsgs: 2 } });
  elect(net, 'a');
  net.drop((m) => m.type === 'append' && m.to === 'b');
  for (let i = 0; i < 5; i++) net.propose('a', `w${i}`);
  net.heal();
  t.same(net.state('b'), [], 'every append to b was lost while its window filled');
  t.equal(net.node('a').status().progress!['b']!.state, 'replicate');
  for (let i = 0; i < 3; i++) {
    net.tick('a');
    net.stabilize();
  }
  t.same(net.state('b'), ['w0', 'w1', 'w2', 'w3', 'w4'], 'b was not stalled by a full window of lost appends');
});

t.test('§5.3 a follower whose commit news was lost learns the commit from the next heartbeat (lagging_commit.txt)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.drop((m) => m.type === 'append' && m.to === 'b' && m.entries.length === 0);
  net.propose('a', 'x');
  net.heal();
  const leaderCommit = net.node('a').status().commit;
  t.equal(net.node('b').status().lastIndex, leaderCommit, 'b holds the entry');
  t.ok(net.node('b').status().commit < leaderCommit, 'but not its commit');
  net.tick('a');
  net.stabilize();
  t.equal(net.node('b').status().commit, leaderCommit);
  t.same(net.state('b'), ['x']);
});

t.test('an unreachable follower drops from Replicate to Probe; the heartbeat reply brings it back (TestRecvMsgUnreachable, heartbeat_resp_recovers_from_probing.txt)', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.propose('a', 'x');
  t.equal(net.node('a').status().progress!['b']!.state, 'replicate');
  net.node('a').reportUnreachable('b');
  const pr = net.node('a').status().progress!['b']!;
  t.equal(pr.state, 'probe', 'reportUnreachable: replicate -> probe');
  t.equal(pr.next, pr.match + 1, 'probing restarts right after match');
  net.tick('a');
  net.stabilize();
  t.equal(net.node('a').status().progress!['b']!.state, 'replicate', 'a caught-up follower does not stay in Probe after a heartbeat round');
});

t.test('a caught-up probing follower returns to Replicate on the next proposal at the latest', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  net.node('a').reportUnreachable('b');
  net.propose('a', 'y');
  t.equal(net.node('a').status().progress!['b']!.state, 'replicate');
  t.same(net.state('b'), ['y']);
});

t.test('committed entries are handed out in pages of maxCommittedBytesPerReady', async (t) => {
  const net = cluster(['a'], { config: { maxCommittedBytesPerReady: 10 } });
  elect(net, 'a');
  for (let i = 0; i < 6; i++) net.node('a').propose(bytes(`abcd${i}`)); // 5 bytes each
  const pages: number[][] = [];
  for (let i = 0; i < 20; i++) {
    const rd = net.processReady('a');
    if (rd === undefined) break;
    if (rd.committedEntries.length > 0) pages.push(rd.committedEntries.map((e) => e.data.byteLength));
  }
  t.ok(pages.length >= 3, `${pages.length} pages`);
  for (const page of pages) t.ok(page.length === 1 || page.reduce((a, b) => a + b, 0) <= 10, `page ${page}`);
  t.equal(net.state('a').length, 6, 'everything is applied in the end');
});

t.test('§5.3 Log Matching and progress invariants hold under random loss, delay, isolation and leader changes', async (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const rand = seededRandom(seed);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const net = cluster(ids, { seed });
    let proposals = 0;
    net.drop(() => rand() < 0.1); // lose 10%
    net.hold(() => rand() < 0.05); // delay 5%, released out of order later
    for (let step = 0; step < 300; step++) {
      if (step % 40 === 0) {
        net.healLinks();
        if (rand() < 0.7) net.isolate(ids[Math.floor(rand() * ids.length)]!); // often the leader
        if (rand() < 0.3) net.isolate(net.leader() ?? 'a');
      }
      for (const id of ids) net.tick(id);
      if (rand() < 0.1) net.release();
      const leader = net.leader();
      if (leader !== undefined && rand() < 0.5) {
        if (net.node(leader).propose(bytes(`s${seed}p${proposals}`)) === undefined) proposals++;
      }
      net.stabilize();
      checkInvariants(t, net, seed, step);
    }
    net.heal();
    net.release();
    net.held = [];
    net.tickAll(60);
    const leader = net.leader();
    t.ok(leader !== undefined, `seed ${seed}: a leader after healing`);
    const ref = net.state(leader!);
    for (const id of ids) t.same(net.state(id), ref, `seed ${seed}: ${id} converged (${ref.length} of ${proposals} proposals committed)`);
  }
});

function checkInvariants(t: Test, net: Network, seed: number, step: number): void {
  const ids = net.ids();
  const where = `seed ${seed} step ${step}`;
  // Log Matching: same index and term => identical prefixes.
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const x = net.node(ids[i]!).logView();
      const y = net.node(ids[j]!).logView();
      const hi = Math.min(x.lastIndex, y.lastIndex);
      const lo = Math.max(x.firstIndex, y.firstIndex);
      let matchedAt = 0;
      for (let k = hi; k >= lo; k--) {
        if (x.term(k) === y.term(k)) {
          matchedAt = k;
          break;
        }
      }
      for (let k = lo; k <= matchedAt; k++) {
        if (x.term(k) !== y.term(k)) {
          t.fail(`${where}: ${ids[i]} and ${ids[j]} agree at ${matchedAt} but differ at ${k}`);
          return;
        }
      }
    }
  }
  const leader = net.leader();
  if (leader === undefined) return;
  const st = net.node(leader).status();
  for (const [id, pr] of Object.entries(st.progress ?? {})) {
    if (!(pr.match >= 0 && pr.match < pr.next)) t.fail(`${where}: progress ${id} match ${pr.match} next ${pr.next}`);
    if (pr.next > st.lastIndex + 1) t.fail(`${where}: progress ${id} next ${pr.next} beyond leader last ${st.lastIndex}`);
    const view = net.nodes.get(id)?.logView();
    if (view !== undefined && net.term(id) === st.term && pr.match > 0 && pr.match >= view.firstIndex) {
      const lt = net.node(leader).logView().term(pr.match);
      if (lt !== undefined && view.term(pr.match) !== lt) t.fail(`${where}: ${id} match ${pr.match} but its term differs from the leader's`);
    }
  }
  for (const id of ids) {
    const s = net.node(id).status();
    if (s.commit > s.lastIndex) t.fail(`${where}: ${id} commit ${s.commit} beyond last ${s.lastIndex}`);
  }
}

t.test('proposals and acknowledgements between two Readies reach each follower as one append', async (t) => {
  const net = cluster(ABC);
  elect(net, 'a');
  for (let i = 0; i < 10; i++) net.node('a').propose(bytes(`p${i}`));
  net.flush('a');
  for (const follower of ['b', 'c']) {
    const apps = net.takeType('append', 'a', follower) as AppendMessage[];
    t.equal(apps.length, 1, `one append to ${follower}`);
    t.same(apps[0]!.entries.map((e) => new TextDecoder().decode(e.data)), Array.from({ length: 10 }, (_, i) => `p${i}`), 'carrying all ten entries in order');
    net.deliver(apps[0]!);
  }
  net.flush('b', 'c');
  // Both acknowledgements commit the entries; the commit goes out once per follower, not per ack.
  for (const m of net.take((m) => m.type === 'appendResponse')) net.deliver(m);
  net.flush('a');
  const commits = net.takeType('append', 'a') as AppendMessage[];
  t.same(commits.map((m) => m.to).sort(), ['b', 'c'], 'one commit append per follower');
  t.ok(commits.every((m) => m.commit === commits[0]!.commit && m.entries.length === 0), 'empty appends carrying the commit index');
  net.stabilize();
  t.same(net.logTerms('b'), net.logTerms('a'));
});
