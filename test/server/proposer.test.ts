// The proposer hands a command to the core only once the member has announced the leader the
// core knows: a proposal made after the core learned of a new leader, but before the member
// failed what was in flight under the old one, would be failed with those (302) although it
// went to the new leader. A CI run failed a write with that spurious 302 once. Nor does it
// hand one over while this member's connection to the leader is not open: the forwarded
// proposal would be dropped and fail only at its deadline, with 302 (a later CI run).
import t from 'tap';
import { ApplyPipeline } from '../../server/apply.js';
import type { MemberMetrics } from '../../server/metrics.js';
import { Proposer } from '../../server/proposer.js';

const quiet = { log: (): void => {} };
const metrics = { proposalCommitted: (): void => {}, proposalFailed: (): void => {} } as unknown as MemberMetrics;

function setup(): { proposer: Proposer; node: { leader: string; proposed: number }; unreachable: Set<string> } {
  const unreachable = new Set<string>();
  const node = {
    leader: '',
    proposed: 0,
    propose: (): undefined => { node.proposed++; return undefined; },
    proposeConfChange: (): undefined => undefined,
    readIndex: (): undefined => undefined,
  };
  const proposer = new Proposer({
    node, apply: new ApplyPipeline('m1', quiet, 10), metrics, schedule: () => {}, stopped: () => false,
    canReach: (id) => !unreachable.has(id),
  });
  return { proposer, node, unreachable };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a proposal waits until the member announced the leader the core knows', async (t) => {
  const { proposer, node } = setup();
  node.leader = 'a';
  proposer.leaderKnown('a');
  void proposer.propose({ requestId: 'r1', op: 'kv', at: 0, write: { method: 'set', params: { key: '/k', value: '1' } } }, 200).catch(() => {});
  await settle();
  t.equal(node.proposed, 1, 'with the announced leader, at once');

  node.leader = 'b'; // the core heard from a new leader; the member has not handled it yet
  void proposer.propose({ requestId: 'r2', op: 'kv', at: 0, write: { method: 'set', params: { key: '/k', value: '2' } } }, 200).catch(() => {});
  await settle();
  t.equal(node.proposed, 1, 'not yet: what was in flight under the old leader is failed first');
  proposer.leaderKnown('b');
  await settle();
  t.equal(node.proposed, 2, 'then it goes to the new leader');
});

t.test('without an announced leader, a proposal is refused with 301 after its timeout', async (t) => {
  const { proposer, node } = setup();
  node.leader = 'a';
  await t.rejects(
    proposer.propose({ requestId: 'r1', op: 'kv', at: 0, write: { method: 'set', params: { key: '/k', value: '1' } } }, 30),
    { code: 301 },
  );
  t.equal(node.proposed, 0);
});

t.test('a proposal waits until the connection to the leader is open; 301 if it never opens', async (t) => {
  const { proposer, node, unreachable } = setup();
  node.leader = 'a';
  unreachable.add('a'); // known from its messages; this member's own dial is in backoff
  proposer.leaderKnown('a');
  const write = { requestId: 'r1', op: 'kv', at: 0, write: { method: 'set', params: { key: '/k', value: '1' } } } as const;
  void proposer.propose(write, 500).catch(() => {});
  await settle();
  t.equal(node.proposed, 0, 'not handed over while the leader cannot be reached');
  unreachable.delete('a');
  proposer.peerConnected();
  await settle();
  t.equal(node.proposed, 1, 'handed over once the connection opened');

  unreachable.add('a');
  await t.rejects(proposer.propose({ ...write, requestId: 'r2' }, 30), { code: 301 }, 'never reachable: 301, nothing was sent');
  t.equal(node.proposed, 1);
});
