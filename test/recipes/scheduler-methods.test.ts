// The scheduler's methods on an in-process member: submit (idempotent by id), fencing of
// job.start/job.complete (520 for a stale attempt, 521 for an unknown job), machine loss by
// TTL expiry, cancel, job.watch notifications, and no attempt assigned twice when two
// schedulers act on the same view.
import t from 'tap';
import type { Test } from 'tap';
import type { Job } from '../../recipes/scheduler/job.js';
import { planChanges } from '../../recipes/scheduler/plan.js';
import { Scheduler } from '../../recipes/scheduler/service.js';
import { readJobs, readMachines, toRow, writeJob } from '../../recipes/scheduler/store-io.js';
import { FakeConnection, FakeMember } from '../server/fake-member.js';

type Reply = Awaited<ReturnType<FakeConnection['rpc']>>;

function setup(t: Test): { m: FakeMember; c: FakeConnection; s: Scheduler; call: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>> } {
  const m = new FakeMember();
  const c = new FakeConnection(m);
  const s = new Scheduler(m, undefined, { resyncMs: 1e6, debounceMs: 1e6, maxChangesPerPass: 256, now: () => m.nowMs });
  t.teardown(async () => { c.close(); await s.stop(); });
  const call = async (method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const reply: Reply = await c.rpc(method, params);
    if (reply.error !== undefined) throw Object.assign(new Error(reply.error.message), reply.error);
    return reply.result as Record<string, unknown>;
  };
  return { m, c, s, call };
}
const jobOf = (r: Record<string, unknown>): Job => r.job as Job;

t.test('submit is idempotent by id; a different spec under the same id is refused', async (t) => {
  const { call } = setup(t);
  const first = jobOf(await call('job.submit', { job: 'j1', spec: { command: ['true'] }, labels: { role: 'db' } }));
  t.match(first, { job: 'j1', state: 'pending', attempt: 1, priority: 0, maxAttempts: 3, delivery: 'at-least-once' });
  t.equal(first.submittedIndex, first.modifiedIndex);
  const again = jobOf(await call('job.submit', { job: 'j1', spec: { command: ['true'] }, labels: { role: 'db' } }));
  t.equal(again.submittedIndex, first.submittedIndex);
  await t.rejects(call('job.submit', { job: 'j1', spec: { command: ['false'] } }), { code: 105, message: /different spec/ });
  const generated = jobOf(await call('job.submit', { spec: 1 }));
  t.match(generated.job, /^[A-Za-z0-9][A-Za-z0-9_-]*$/);
  await t.rejects(call('job.get', { job: 'nope' }), { code: 521 });
  await t.rejects(call('job.submit', { job: '_hidden', spec: 1 }), { code: -32602 });
});

t.test('assignment, start, completion, and fencing of stale attempts', async (t) => {
  const { m, call, s } = setup(t);
  await call('machine.register', { machine: 'a', labels: { role: 'db' }, capacity: 2, ttl: 5 });
  await call('job.submit', { job: 'j1', spec: {}, labels: { role: 'db' } });
  await call('job.submit', { job: 'j2', spec: {}, labels: { role: 'web' } });
  await s.pass();
  const j1 = jobOf(await call('job.get', { job: 'j1' }));
  t.match(j1, { state: 'assigned', machine: 'a', attempt: 1, token: j1.modifiedIndex });
  t.match(jobOf(await call('job.get', { job: 'j2' })), { state: 'pending', reason: 'no alive machine has labels role=web' });
  await t.rejects(call('job.start', { job: 'j1', machine: 'b', attempt: 1 }), { code: 520 }, 'wrong machine');
  await t.rejects(call('job.start', { job: 'j1', machine: 'a', attempt: 2 }), { code: 520 }, 'wrong attempt');
  await t.rejects(call('job.start', { job: 'zz', machine: 'a', attempt: 1 }), { code: 521 });
  const started = jobOf(await call('job.start', { job: 'j1', machine: 'a', attempt: 1 }));
  t.match(started, { state: 'running', token: j1.modifiedIndex });
  t.match(jobOf(await call('job.start', { job: 'j1', machine: 'a', attempt: 1 })), { state: 'running' }, 'a retried start');
  // The machine lapses: the job goes back to pending with attempt 2, then to machine b.
  m.tickClock(m.nowMs + 6_000);
  t.same(await readMachines(m), []);
  await s.pass();
  t.match(jobOf(await call('job.get', { job: 'j1' })), { state: 'pending', attempt: 2 });
  await call('machine.register', { machine: 'b', labels: { role: 'db' } });
  await s.pass();
  const j1b = jobOf(await call('job.get', { job: 'j1' }));
  t.match(j1b, { state: 'assigned', machine: 'b', attempt: 2 });
  t.ok((j1b.token ?? 0) > (started.token ?? 0), 'the new grant has a higher token');
  await t.rejects(call('job.complete', { job: 'j1', machine: 'a', attempt: 1, status: 'succeeded' }), { code: 520, message: /attempt 2 on machine b/ });
  await t.rejects(call('machine.heartbeat', { machine: 'a' }), { code: 100, message: /register it again/ });
  await call('job.start', { job: 'j1', machine: 'b', attempt: 2 });
  const done = jobOf(await call('job.complete', { job: 'j1', machine: 'b', attempt: 2, status: 'succeeded', result: { exitCode: 0 } }));
  t.match(done, { state: 'succeeded', result: { exitCode: 0 } });
  t.match(jobOf(await call('job.complete', { job: 'j1', machine: 'b', attempt: 2, status: 'succeeded' })), { state: 'succeeded' }, 'a retried completion');
  await t.rejects(call('job.complete', { job: 'j1', machine: 'b', attempt: 2, status: 'failed' }), { code: 520 });
  t.same(done.history.map((h) => h.state), ['pending', 'assigned', 'running', 'pending', 'assigned', 'running', 'succeeded']);
});

t.test('heartbeat renews without an event; deregister gives the jobs back; list', async (t) => {
  const { m, call, s } = setup(t);
  await call('machine.register', { machine: 'a', ttl: 2 });
  const before = m.store.index;
  m.nowMs += 1500;
  t.same(await call('machine.heartbeat', { machine: 'a' }), { ttl: 2 });
  m.tickClock(m.nowMs + 1000);
  t.equal((await readMachines(m)).length, 1, 'still alive after its first deadline');
  t.ok(m.store.eventsSince(before + 1, '/cairn/machines', true) === null, 'no event for the refresh');
  await call('job.submit', { job: 'j', spec: {} });
  await s.pass();
  t.same((await call('machine.list')).machines, [{ machine: 'a', labels: {}, capacity: 1, alive: true, jobs: 1 }]);
  t.same(((await call('job.list', { machine: 'a' })).jobs as Job[]).map((j) => j.job), ['j']);
  await call('machine.deregister', { machine: 'a' });
  t.same(await call('machine.deregister', { machine: 'a' }), {}, 'idempotent');
  t.same((await call('machine.list')).machines, [{ machine: 'a', labels: {}, capacity: 0, alive: false, jobs: 1 }]);
  await s.pass();
  t.match(jobOf(await call('job.get', { job: 'j' })), { state: 'pending', attempt: 2, reason: /machine a was lost/ });
  t.same(((await call('job.list', { state: 'pending' })).jobs as Job[]).length, 1);
});

t.test('failed after maxAttempts; at-most-once running ends lost; cancel is final', async (t) => {
  const { m, call, s } = setup(t);
  await call('job.submit', { job: 'once', spec: {}, maxAttempts: 1 });
  await call('job.submit', { job: 'amo', spec: {}, delivery: 'at-most-once' });
  await call('job.submit', { job: 'c', spec: {} });
  await call('machine.register', { machine: 'a', capacity: 3 });
  await s.pass();
  await call('job.start', { job: 'amo', machine: 'a', attempt: 1 });
  t.match(jobOf(await call('job.cancel', { job: 'c' })), { state: 'canceled' });
  t.match(jobOf(await call('job.cancel', { job: 'c' })), { state: 'canceled' }, 'idempotent');
  await t.rejects(call('job.start', { job: 'c', machine: 'a', attempt: 1 }), { code: 520 });
  await call('machine.deregister', { machine: 'a' });
  await s.pass();
  t.match(jobOf(await call('job.get', { job: 'once' })), { state: 'failed', attempt: 1 });
  t.match(jobOf(await call('job.get', { job: 'amo' })), { state: 'lost' });
  t.equal(m.store.index > 0, true);
});

t.test('two schedulers planning on the same view assign each attempt once', async (t) => {
  const { m, call } = setup(t);
  await call('machine.register', { machine: 'a', capacity: 5 });
  await call('machine.register', { machine: 'b', capacity: 5 });
  for (let i = 0; i < 5; i++) await call('job.submit', { job: `j${i}`, spec: {} });
  const view = async (): Promise<ReturnType<typeof planChanges>> =>
    planChanges(await readMachines(m), (await readJobs(m)).map(toRow), 0);
  const [old, fresh] = [await view(), await view()];
  // The "new leader" assigns in reverse machine preference by reordering its own plan.
  let won = 0;
  let refused = 0;
  for (const change of [...fresh.reverse(), ...old]) {
    try {
      await writeJob(m, change.next, change.prevIndex);
      won += 1;
    } catch (error) {
      t.equal((error as { code?: number }).code, 101);
      refused += 1;
    }
  }
  t.equal(won, 5);
  t.equal(refused, 5);
  const assigned = (await readJobs(m)).filter(({ job }) => job.state === 'assigned' && job.history.filter((h) => h.state === 'assigned').length === 1);
  t.equal(assigned.length, 5);
});

t.test('job.watch: current jobs first, then assigned and withdrawn', async (t) => {
  const { m, c, call, s } = setup(t);
  await call('machine.register', { machine: 'a', capacity: 3 });
  await call('job.submit', { job: 'j1', spec: {} });
  await s.pass();
  const { subscription } = await call('job.watch', { machine: 'a' });
  await call('job.submit', { job: 'j2', spec: {} });
  await s.pass();
  await call('job.start', { job: 'j2', machine: 'a', attempt: 1 });
  await call('job.cancel', { job: 'j1' });
  await call('machine.deregister', { machine: 'a' });
  await s.pass();
  const notes = c.sent.flatMap((f) => {
    const p = (f as { params?: { subscription?: string; result?: { action: string; job: Job } } }).params;
    const r = p !== undefined && p.subscription === subscription ? p.result : undefined;
    return r !== undefined ? [`${r.action} ${r.job.job}#${r.job.attempt} ${r.job.state}`] : [];
  });
  t.same(notes, ['assigned j1#1 assigned', 'assigned j2#1 assigned', 'withdrawn j1#1 canceled', 'withdrawn j2#2 pending']);
  t.equal(m.watchHub.size > 0, true);
  c.close();
});
