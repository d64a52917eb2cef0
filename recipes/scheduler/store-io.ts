// Reading the scheduler's keys from a member's store and changing one job by compare-and-swap
// on its modifiedIndex. Every job write in the recipe goes through writeJob, so a write based
// on a stale read fails (101) rather than overwriting a newer state.
import type { Node } from '../../core/api/types.js';
import { MemberError } from '../../server/errors.js';
import { kvGet, kvSet } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { StoredJob } from './job.js';
import { JOBS_DIR, MACHINES_DIR, jobKey, parseJob, parseMachine } from './job.js';
import type { AliveMachine, JobRow } from './plan.js';

/** The children of a directory (empty when it does not exist yet), read through a barrier. */
async function children(member: MemberApi, dir: string, consistent: boolean): Promise<Node[]> {
  try {
    const r = await kvGet(member, { key: dir, recursive: true, consistency: consistent ? 'linearizable' : 'serializable' });
    return r.node.nodes ?? [];
  } catch (error) {
    if (error instanceof MemberError && error.code === 100) return [];
    throw error;
  }
}

export async function readMachines(member: MemberApi, consistent = true): Promise<AliveMachine[]> {
  const out: AliveMachine[] = [];
  for (const node of await children(member, MACHINES_DIR, consistent)) {
    const m = parseMachine(node);
    if (m !== undefined) out.push({ ...m, createdIndex: node.createdIndex });
  }
  return out;
}

export interface JobNode {
  job: StoredJob;
  node: Node;
}

export async function readJobs(member: MemberApi, consistent = true): Promise<JobNode[]> {
  const out: JobNode[] = [];
  for (const node of await children(member, JOBS_DIR, consistent)) {
    const job = parseJob(node);
    if (job !== undefined) out.push({ job, node });
  }
  return out;
}

export const toRow = ({ job, node }: JobNode): JobRow => ({ job, submittedIndex: node.createdIndex, modifiedIndex: node.modifiedIndex });

export const jobNotFound = (id: string): MemberError =>
  new MemberError(521, `job ${id} not found: submit it first (job.submit), or list jobs with job.list`, false);

/** The job `id` as of a linearizable read; 521 when there is none. */
export async function readJob(member: MemberApi, id: string): Promise<JobNode> {
  let node: Node;
  try {
    node = (await kvGet(member, { key: jobKey(id) })).node;
  } catch (error) {
    if (error instanceof MemberError && error.code === 100) throw jobNotFound(id);
    throw error;
  }
  const job = parseJob(node);
  if (job === undefined) throw new MemberError(521, `${jobKey(id)} does not hold a job (it was written by hand?); delete it or pick another id`, false);
  return { job, node };
}

/** Writes `next` only if the job is still at `prevIndex`; the new node, or 101 when it moved. */
export async function writeJob(member: MemberApi, next: StoredJob, prevIndex: number): Promise<Node> {
  return (await kvSet(member, { key: jobKey(next.job), value: JSON.stringify(next), prevIndex })).node;
}

/** Rounds of read-decide-write a method makes before giving up on a busy job. */
const CAS_ROUNDS = 8;

/**
 * Read-modify-write of one job: `decide` returns the next stored job, or undefined to leave it
 * as it is (the answer is then the current job). A concurrent write makes it read again.
 */
export async function updateJob(member: MemberApi, id: string, decide: (job: StoredJob, node: Node) => StoredJob | undefined): Promise<JobNode> {
  for (let round = 0; round < CAS_ROUNDS; round++) {
    const current = await readJob(member, id);
    const next = decide(current.job, current.node);
    if (next === undefined) return current;
    try {
      return { job: next, node: await writeJob(member, next, current.node.modifiedIndex) };
    } catch (error) {
      if (!(error instanceof MemberError) || error.code !== 101) throw error;
    }
  }
  throw new MemberError(101, `job ${id} changed ${CAS_ROUNDS} times while this request tried to update it; retry`, true);
}
