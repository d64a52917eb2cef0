// The Job record of the scheduler recipe (API.md "Work scheduling") and its key layout: one
// JSON value per job at /cairn/jobs/<id>, one TTL key per alive machine at
// /cairn/machines/<id>. What is stored differs from what clients see in two derived fields:
// `submittedIndex` is the job key's createdIndex (the create's index, known only after the
// write), and `token` (the fencing token of the current assignment) is the index of the write
// that assigned it, which is the key's modifiedIndex while the job is `assigned` and is kept
// in the value from job.start on.
import type { Node } from '../../core/api/types.js';

export const JOBS_DIR = '/cairn/jobs';
export const MACHINES_DIR = '/cairn/machines';
export const jobKey = (id: string): string => `${JOBS_DIR}/${id}`;
export const machineKey = (id: string): string => `${MACHINES_DIR}/${id}`;

export type JobState = 'pending' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'lost';
export type Delivery = 'at-least-once' | 'at-most-once';

/** Jobs a machine owns: it must be running them (or about to). */
export const OWNED_STATES: ReadonlySet<JobState> = new Set(['assigned', 'running']);
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled', 'lost']);

/** At most this many transitions are kept in `history` (the oldest are dropped). */
export const HISTORY_MAX = 20;

export interface HistoryEntry {
  state: JobState;
  attempt: number;
  machine?: string;
  note?: string;
  /** The writing member's clock, for people; no decision depends on it. */
  time: string;
}

/** What /cairn/jobs/<id> holds. */
export interface StoredJob {
  job: string;
  spec: unknown;
  labels: Record<string, string>;
  /** The machine the submitter pinned the job to, if any. */
  pin?: string;
  /** The machine assigned (or last assigned) to the current attempt. */
  machine?: string;
  /** createdIndex of that machine's registration: a new incarnation does not own old work. */
  machineIndex?: number;
  state: JobState;
  attempt: number;
  priority: number;
  maxAttempts: number;
  delivery: Delivery;
  reason?: string;
  result?: unknown;
  token?: number;
  history: HistoryEntry[];
}

/** A Job as API.md returns it. */
export interface Job extends Omit<StoredJob, 'machineIndex'> {
  submittedIndex: number;
  /** Store index of the last write to the job (for prevIndex-style reads by clients). */
  modifiedIndex: number;
}

/** What /cairn/machines/<id> holds. */
export interface MachineRecord {
  machine: string;
  labels: Record<string, string>;
  capacity: number;
  ttl: number;
}

/** The stored job of a node, or undefined for a value that is not one (written by hand). */
export function parseJob(node: Node | undefined): StoredJob | undefined {
  if (node?.value === undefined) return undefined;
  try {
    const v = JSON.parse(node.value) as StoredJob;
    return typeof v === 'object' && v !== null && typeof v.job === 'string' && typeof v.state === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function parseMachine(node: Node | undefined): MachineRecord | undefined {
  if (node?.value === undefined) return undefined;
  try {
    const v = JSON.parse(node.value) as MachineRecord;
    return typeof v === 'object' && v !== null && typeof v.machine === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The client's view of a stored job at `node`. */
export function toJob(stored: StoredJob, node: Node): Job {
  const { machineIndex: _hidden, ...rest } = stored;
  const token = stored.token ?? (stored.state === 'assigned' ? node.modifiedIndex : undefined);
  return { ...rest, ...(token === undefined ? {} : { token }), submittedIndex: node.createdIndex, modifiedIndex: node.modifiedIndex };
}

/** `job` moved to `state` (with the given changes), its transition appended to a bounded history. */
export function transition(job: StoredJob, state: JobState, changes: Partial<StoredJob>, note?: string, nowMs = Date.now()): StoredJob {
  const next: StoredJob = { ...job, ...changes, state };
  const entry: HistoryEntry = { state, attempt: next.attempt, time: new Date(nowMs).toISOString() };
  if (next.machine !== undefined && state !== 'pending') entry.machine = next.machine;
  if (note !== undefined) entry.note = note;
  next.history = [...job.history, entry].slice(-HISTORY_MAX);
  return next;
}

/** "role=db,zone=a" for messages. */
export const formatLabels = (labels: Record<string, string>): string =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
