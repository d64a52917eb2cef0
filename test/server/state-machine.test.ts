// The member's state machine: the store applied from commands, time only from the log
// (leader-proposed `time` and `leader` entries), deterministic snapshots that carry the
// clock and the member directory, and the leader clock that proposes those entries.
import t from 'tap';
import { LeaderClock } from '../../server/leader-clock.js';
import type { Command } from '../../server/state-machine.js';
import { StateMachine } from '../../server/state-machine.js';

const kv = (at: number, key: string, value: string, ttl?: number): Command =>
  ({ requestId: 'r', op: 'kv', at, write: { method: 'set', params: ttl === undefined ? { key, value } : { key, value, ttl } } });

t.test('the same commands give byte-identical snapshots; restore carries clock and members', async (t) => {
  const commands: Command[] = [
    { requestId: 'p', op: 'publish', member: { id: 'a', name: 'one', peerUrls: ['http://127.0.0.1:1'], clientUrls: [] } },
    kv(100, '/x', '1', 5), kv(200, '/y', '2'), { requestId: 't', op: 'time', at: 6000 },
    { requestId: 'c', op: 'kv', at: 300, write: { method: 'create', params: { key: '/q', value: 'j' } } },
  ];
  const a = new StateMachine(100);
  const b = new StateMachine(100);
  for (const c of commands) { a.apply(c); b.apply(c); }
  t.same(a.snapshot(), b.snapshot());
  const restored = new StateMachine(100);
  restored.restore(a.snapshot());
  t.equal(restored.clockMs, 6000);
  t.same([...restored.members.keys()], ['a']);
  t.equal(restored.store.index, a.store.index);
  t.same(restored.snapshot(), a.snapshot(), 'restore then snapshot is the identity');
  t.throws(() => new StateMachine(1).restore(new TextEncoder().encode('{"version":1}\n{}')), /version 1 is not supported/);
});

t.test('a snapshot finished in slices is the state at its beginning: clock, members and store', async (t) => {
  const m = new StateMachine(100);
  m.apply({ requestId: 'p', op: 'publish', member: { id: 'a', name: 'one', peerUrls: ['http://127.0.0.1:1'], clientUrls: [] } });
  for (let i = 0; i < 20; i++) m.apply(kv(100 + i, `/k/${i}`, 'v'));
  m.beginSnapshot();
  const expected = Buffer.from(m.snapshot());
  t.throws(() => m.beginSnapshot(), /already in progress/);
  let data: Uint8Array | undefined;
  for (let i = 0; data === undefined && i < 100; i++) {
    data = m.continueSnapshot(2);
    m.apply(kv(500 + i, `/k/${i}`, 'changed'));
    m.apply({ requestId: 'p2', op: 'publish', member: { id: `b${i}`, name: 'two', peerUrls: ['http://127.0.0.1:2'], clientUrls: [] } });
    m.apply({ requestId: 't', op: 'time', at: 9000 + i });
  }
  t.ok(data !== undefined && Buffer.from(data).equals(expected), 'byte-identical to the snapshot taken when it began');
  t.notOk(m.snapshotInProgress);
  const other = new StateMachine(100);
  other.beginSnapshot();
  other.restore(expected);
  t.notOk(other.snapshotInProgress, 'a restore drops the snapshot in progress');
  t.throws(() => other.continueSnapshot(1), /no snapshot in progress/);
});

t.test('a kv write dates its TTL but never moves the log clock', async (t) => {
  const sm = new StateMachine(100);
  sm.apply(kv(50_000, '/k', 'v', 1));
  t.equal(sm.clockMs, 0, 'a proposer with a clock far ahead cannot expire anything');
  t.equal(sm.store.nextDeadline(), 51_000);
  const before = sm.apply({ requestId: 't', op: 'time', at: 50_999 });
  t.same(before.events, []);
  const due = sm.apply({ requestId: 't', op: 'time', at: 51_000 });
  t.same(due.events.map((e) => [e.action, e.node.key, e.index]), [['expire', '/k', 2]]);
});

t.test('the log clock never goes back', async (t) => {
  const sm = new StateMachine(100);
  sm.apply({ requestId: 't', op: 'time', at: 9000 });
  sm.apply({ requestId: 't', op: 'time', at: 1000 });
  t.equal(sm.clockMs, 9000);
  sm.apply(kv(0, '/k', 'v', 1));
  t.equal(sm.store.nextDeadline(), 10_000, 'a write with an old proposer clock is dated by the log clock');
});

t.test('a leader entry pushes every deadline to its time plus the key TTL, so no key expires early', async (t) => {
  const sm = new StateMachine(100);
  sm.apply(kv(0, '/a', 'v', 10)); // deadline 10 000
  sm.apply(kv(0, '/b', 'v', 2)); // deadline 2 000
  sm.apply({ requestId: 'l', op: 'leader', at: 9000 });
  t.equal(sm.apply({ requestId: 't', op: 'time', at: 10_999 }).events.length, 0, 'both were extended');
  const expired = sm.apply({ requestId: 't', op: 'time', at: 11_000 });
  t.same(expired.events.map((e) => e.node.key), ['/b'], '/b: 9000 + 2000');
  t.same(sm.apply({ requestId: 't', op: 'time', at: 19_000 }).events.map((e) => e.node.key), ['/a'], '/a: 9000 + 10 000');
});

t.test('a refused write reports the store error and has no events', async (t) => {
  const sm = new StateMachine(100);
  const refused = sm.apply({ requestId: 'r', op: 'kv', at: 0, write: { method: 'set', params: { key: '/k', value: 'v', prevExist: true } } });
  t.equal(refused.error?.code, 100);
  t.same(refused.events, []);
  const txn = sm.apply({ requestId: 'r', op: 'kv', at: 0, write: { method: 'txn', params: { compare: [], success: [{ set: { key: '/a', value: '1' } }, { set: { key: '/a/b', value: '2' } }] } } });
  t.equal(txn.error?.code, 104, 'the second op fails: /a is a file');
  t.same(txn.events, [], 'the first op rolled back, and its event with it');
  t.equal(sm.store.index, 0);
});

interface Proposal { command: Command; resolve: () => void; reject: (e: Error) => void }

function clockHarness(): { clock: LeaderClock; proposals: Proposal[]; state: { term: number | undefined; deadline: number | null; now: number } } {
  const state = { term: 3 as number | undefined, deadline: null as number | null, now: 1000 };
  const proposals: Proposal[] = [];
  const clock = new LeaderClock({
    leaderTerm: () => state.term,
    nextDeadline: () => state.deadline,
    propose: (command) => new Promise<void>((resolve, reject) => { proposals.push({ command, resolve, reject }); }),
    onError: () => {},
  }, () => state.now);
  return { clock, proposals, state };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('the leader clock: a leader entry first in every term, then time entries only when something is due', async (t) => {
  const { clock, proposals, state } = clockHarness();
  state.deadline = 500;
  clock.tick();
  clock.tick();
  t.same(proposals.map((p) => p.command.op), ['leader'], 'one leader entry, and nothing while it is in flight');
  proposals[0]!.resolve();
  await settle();
  clock.tick();
  t.same(proposals.map((p) => p.command.op), ['leader', 'time']);
  t.match(proposals[1]!.command, { op: 'time', at: 1000 });
  proposals[1]!.resolve();
  await settle();
  state.deadline = 5000;
  clock.tick();
  t.equal(proposals.length, 2, 'nothing is due: the log stays still');
  state.term = 5;
  clock.tick();
  t.equal(proposals[2]?.command.op, 'leader', 'a new term needs its own leader entry');
  proposals[2]!.reject(new Error('dropped'));
  await settle();
  clock.tick();
  t.equal(proposals[3]?.command.op, 'leader', 'a failed leader entry is proposed again');
  state.term = undefined;
  proposals[3]!.resolve();
  await settle();
  clock.tick();
  t.equal(proposals.length, 4, 'a follower proposes nothing');
});
