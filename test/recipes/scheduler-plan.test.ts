// The scheduler's pure planning: order (priority, then age), label matching, pinning,
// capacity, least loaded first, reasons for pending jobs, and what machine loss does.
import t from 'tap';
import type { StoredJob } from '../../recipes/scheduler/job.js';
import { transition } from '../../recipes/scheduler/job.js';
import { planChanges } from '../../recipes/scheduler/plan.js';
import type { AliveMachine, JobRow } from '../../recipes/scheduler/plan.js';

const machine = (id: string, labels: Record<string, string> = {}, capacity = 1, createdIndex = 1): AliveMachine =>
  ({ machine: id, labels, capacity, ttl: 10, createdIndex });

let nextIndex = 100;
function row(id: string, over: Partial<StoredJob> = {}, submittedIndex = nextIndex++): JobRow {
  const job: StoredJob = {
    job: id, spec: {}, labels: {}, state: 'pending', attempt: 1, priority: 0, maxAttempts: 3,
    delivery: 'at-least-once', history: [], ...over,
  };
  return { job, submittedIndex, modifiedIndex: submittedIndex };
}
const assignedTo = (changes: ReturnType<typeof planChanges>): Record<string, string | undefined> =>
  Object.fromEntries(changes.filter((c) => c.next.state === 'assigned').map((c) => [c.id, c.next.machine]));

t.test('highest priority first, then oldest; capacity is respected', async (t) => {
  const rows = [row('old-low', {}, 1), row('new-high', { priority: 5 }, 3), row('old-high', { priority: 5 }, 2)];
  const changes = planChanges([machine('a', {}, 2)], rows, 0);
  t.same(assignedTo(changes), { 'old-high': 'a', 'new-high': 'a' });
  const waiting = changes.find((c) => c.id === 'old-low');
  t.equal(waiting?.next.state, 'pending');
  t.equal(waiting?.next.reason, 'all 1 matching machine(s) are at capacity');
  t.equal(changes[0]?.prevIndex, 2, 'each change is conditional on the index read');
});

t.test('labels must be a subset of the machine labels; pinning picks one machine', async (t) => {
  const machines = [machine('a', { role: 'web' }, 5), machine('b', { role: 'db', zone: 'x' }, 5)];
  const changes = planChanges(machines, [
    row('db', { labels: { role: 'db' } }), row('pinned', { pin: 'a' }), row('gpu', { labels: { gpu: 'yes' } }),
    row('pin-gone', { pin: 'zz' }), row('pin-mismatch', { pin: 'a', labels: { role: 'db' } }),
  ], 0);
  t.same(assignedTo(changes), { db: 'b', pinned: 'a' });
  const reasons = Object.fromEntries(changes.filter((c) => c.next.state === 'pending').map((c) => [c.id, c.next.reason]));
  t.same(reasons, {
    gpu: 'no alive machine has labels gpu=yes',
    'pin-gone': 'pinned machine zz is not alive',
    'pin-mismatch': 'pinned machine a lacks labels role=db',
  });
});

t.test('least loaded machine first, by share of capacity', async (t) => {
  const machines = [machine('a', {}, 4), machine('b', {}, 2)];
  const rows = [row('r1', { state: 'running', machine: 'a', machineIndex: 1 }), row('p1'), row('p2'), row('p3')];
  const changes = planChanges(machines, rows, 0);
  // a 1/4, b 0/2 → b; a 1/4, b 1/2 → a; a 2/4, b 1/2 → a (tie, lower id); then full? a 3/4.
  t.same(assignedTo(changes), { p1: 'b', p2: 'a', p3: 'a' });
});

t.test('an unchanged reason writes nothing', async (t) => {
  const changes = planChanges([], [row('x', { reason: 'no alive machine' })], 0);
  t.same(changes, []);
});

t.test('machine loss: requeue with attempt + 1, lost for at-most-once running, failed after maxAttempts', async (t) => {
  const rows = [
    row('assigned', { state: 'assigned', machine: 'gone', machineIndex: 5 }),
    row('amo-running', { state: 'running', machine: 'gone', machineIndex: 5, delivery: 'at-most-once' }),
    row('amo-assigned', { state: 'assigned', machine: 'gone', machineIndex: 5, delivery: 'at-most-once' }),
    row('last', { state: 'running', machine: 'gone', machineIndex: 5, attempt: 3 }),
    row('reborn', { state: 'running', machine: 'a', machineIndex: 7 }),
    row('fine', { state: 'running', machine: 'a', machineIndex: 8 }),
  ];
  const changes = planChanges([machine('a', {}, 1, 8)], rows, 0);
  const byId = Object.fromEntries(changes.map((c) => [c.id, c.next]));
  t.same(Object.keys(byId).sort(), ['amo-assigned', 'amo-running', 'assigned', 'last', 'reborn']);
  t.match(byId.assigned, { state: 'pending', attempt: 2, machine: undefined });
  t.match(byId['amo-assigned'], { state: 'pending', attempt: 2 }, 'never started: safe to run elsewhere');
  t.match(byId['amo-running'], { state: 'lost', attempt: 1, machine: 'gone' });
  t.match(byId.last, { state: 'failed', attempt: 3 });
  t.match(byId.reborn, { state: 'pending', attempt: 2 }, 'a new incarnation of the machine owns none of the old work');
  t.equal(byId.assigned?.history.at(-1)?.note, 'machine gone was lost');
});

t.test('requeued jobs are not assigned in the same pass; at most maxChanges', async (t) => {
  const rows = [row('x', { state: 'assigned', machine: 'gone', machineIndex: 1 }), row('p1'), row('p2'), row('p3')];
  const changes = planChanges([machine('a', {}, 10)], rows, 0, 2);
  t.equal(changes.length, 2);
  t.equal(changes[0]?.id, 'x');
  t.equal(changes.filter((c) => c.id === 'x').length, 1);
});

t.test('history is bounded', async (t) => {
  let job = row('h').job;
  for (let i = 0; i < 50; i++) job = transition(job, 'pending', { attempt: i });
  t.equal(job.history.length, 20);
  t.equal(job.history.at(-1)?.attempt, 49);
});
