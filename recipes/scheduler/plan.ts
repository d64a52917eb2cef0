// The scheduler's decisions as a pure function of what the store holds: which owned jobs lost
// their machine, which pending jobs go where, and why the rest wait. The service (service.ts)
// writes each change with prevIndex = the job's modifiedIndex read here, so a decision taken on
// a stale view, or by a deposed scheduler, fails instead of assigning an attempt twice.
import type { JobState, MachineRecord, StoredJob } from './job.js';
import { OWNED_STATES, formatLabels, transition } from './job.js';

export interface AliveMachine extends MachineRecord {
  /** createdIndex of the registration key: identifies this incarnation of the machine. */
  createdIndex: number;
}

export interface JobRow {
  job: StoredJob;
  submittedIndex: number;
  modifiedIndex: number;
}

export interface JobChange {
  id: string;
  prevIndex: number;
  next: StoredJob;
}

/** A job whose assigned machine is gone (or is a new incarnation) after machine loss. */
export function loseJob(job: StoredJob, nowMs: number): StoredJob {
  const who = `machine ${job.machine ?? '?'} was lost`;
  const cleared = { machine: job.machine, machineIndex: undefined, token: undefined };
  if (job.state === 'running' && job.delivery === 'at-most-once') {
    return transition(job, 'lost', cleared, `${who} while running an at-most-once job`, nowMs);
  }
  if (job.attempt >= job.maxAttempts) {
    return transition(job, 'failed', cleared, `${who} on attempt ${job.attempt} of ${job.maxAttempts}`, nowMs);
  }
  return transition(job, 'pending', { machine: undefined, machineIndex: undefined, token: undefined, attempt: job.attempt + 1, reason: `${who}; waiting for attempt ${job.attempt + 1}` }, who, nowMs);
}

const labelsMatch = (want: Record<string, string>, have: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/** Why no machine can take `job` now (for `reason`), given the machines and their load. */
function whyPending(job: StoredJob, machines: readonly AliveMachine[]): string {
  if (job.pin !== undefined && !machines.some((m) => m.machine === job.pin)) return `pinned machine ${job.pin} is not alive`;
  const pinned = job.pin === undefined ? machines : machines.filter((m) => m.machine === job.pin);
  const labelled = pinned.filter((m) => labelsMatch(job.labels, m.labels));
  if (labelled.length === 0) {
    if (machines.length === 0) return 'no alive machine';
    return job.pin === undefined
      ? `no alive machine has labels ${formatLabels(job.labels)}`
      : `pinned machine ${job.pin} lacks labels ${formatLabels(job.labels)}`;
  }
  return `all ${labelled.length} matching machine(s) are at capacity`;
}

/** The least loaded machine that can take `job`, or undefined. */
function pickMachine(job: StoredJob, machines: readonly AliveMachine[], load: ReadonlyMap<string, number>): AliveMachine | undefined {
  let best: AliveMachine | undefined;
  let bestLoad = Infinity;
  for (const m of machines) {
    if (job.pin !== undefined && m.machine !== job.pin) continue;
    if (!labelsMatch(job.labels, m.labels)) continue;
    const used = load.get(m.machine) ?? 0;
    if (used >= m.capacity) continue;
    // Least loaded by share of capacity, then by machine id so the choice is deterministic.
    const share = used / m.capacity;
    if (share < bestLoad || (share === bestLoad && best !== undefined && m.machine < best.machine)) {
      best = m;
      bestLoad = share;
    }
  }
  return best;
}

/** Pending first by priority (highest), then by age (lowest submittedIndex). */
const byPriorityThenAge = (a: JobRow, b: JobRow): number =>
  b.job.priority - a.job.priority || a.submittedIndex - b.submittedIndex;

/**
 * Every change the scheduler should make now, at most `maxChanges`: owned jobs of lost
 * machines first (they free capacity and become pending again), then assignments, then
 * updated `reason`s. A requeued job is assigned in a later pass, once its requeue is written.
 */
export function planChanges(machines: readonly AliveMachine[], rows: readonly JobRow[], nowMs: number, maxChanges = 256): JobChange[] {
  const changes: JobChange[] = [];
  const alive = new Map(machines.map((m) => [m.machine, m]));
  const load = new Map<string, number>();
  const pending: JobRow[] = [];
  for (const row of rows) {
    const { job } = row;
    if (OWNED_STATES.has(job.state)) {
      const m = job.machine === undefined ? undefined : alive.get(job.machine);
      if (m === undefined || m.createdIndex !== job.machineIndex) {
        changes.push({ id: job.job, prevIndex: row.modifiedIndex, next: loseJob(job, nowMs) });
      } else {
        load.set(m.machine, (load.get(m.machine) ?? 0) + 1);
      }
    } else if (job.state === 'pending') {
      pending.push(row);
    }
  }
  pending.sort(byPriorityThenAge);
  for (const row of pending) {
    if (changes.length >= maxChanges) break;
    const change = placeOne(row, machines, load, nowMs);
    if (change !== undefined) changes.push(change);
  }
  return changes.slice(0, maxChanges);
}

function placeOne(row: JobRow, machines: readonly AliveMachine[], load: Map<string, number>, nowMs: number): JobChange | undefined {
  const { job } = row;
  const m = pickMachine(job, machines, load);
  if (m !== undefined) {
    load.set(m.machine, (load.get(m.machine) ?? 0) + 1);
    const next = transition(job, 'assigned' as JobState, { machine: m.machine, machineIndex: m.createdIndex, reason: undefined, token: undefined }, undefined, nowMs);
    return { id: job.job, prevIndex: row.modifiedIndex, next };
  }
  const reason = whyPending(job, machines);
  if (reason === job.reason) return undefined;
  return { id: job.job, prevIndex: row.modifiedIndex, next: { ...job, reason } };
}
