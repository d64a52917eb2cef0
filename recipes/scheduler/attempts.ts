// job.start and job.complete: a machine's reports on the attempt it was given. Both are fenced
// by (machine, attempt): a report for any other attempt, or from a machine that no longer owns
// the job, is refused with 520, so a machine presumed dead can never overwrite the outcome of
// the job's newer attempt. Both are idempotent for a retry of the same report.
import type { Node } from '../../core/api/types.js';
import { MemberError } from '../../server/errors.js';
import type { RecipeMethod } from '../method.js';
import type { StoredJob } from './job.js';
import { OWNED_STATES, toJob, transition } from './job.js';
import { schemas } from './schemas.js';
import { updateJob } from './store-io.js';

interface Report { job: string; machine: string; attempt: number }

function stale(j: StoredJob, r: Report, what: string): MemberError {
  const owner = OWNED_STATES.has(j.state) ? `attempt ${j.attempt} on machine ${j.machine ?? '?'}` : `no machine (state ${j.state}, attempt ${j.attempt})`;
  return new MemberError(520, `job ${r.job}: ${what} of attempt ${r.attempt} from machine ${r.machine} refused: the job now belongs to ${owner}; stop working on it`, false, { cause: `stale attempt ${r.attempt}` });
}

const isCurrent = (j: StoredJob, r: Report): boolean => j.attempt === r.attempt && j.machine === r.machine;

const start: RecipeMethod = {
  name: 'job.start',
  schema: schemas['job.start'],
  async run(ctx, p) {
    const r = p as unknown as Report;
    const { job, node } = await updateJob(ctx.member, r.job, (j: StoredJob, n: Node) => {
      if (!isCurrent(j, r) || !OWNED_STATES.has(j.state)) throw stale(j, r, 'start');
      if (j.state === 'running') return undefined; // a retried start
      // The assignment was the last write, so the key's modifiedIndex is its fencing token.
      return transition(j, 'running', { token: n.modifiedIndex });
    });
    return { job: toJob(job, node) };
  },
};

const complete: RecipeMethod = {
  name: 'job.complete',
  schema: schemas['job.complete'],
  async run(ctx, p) {
    const r = p as unknown as Report & { status: 'succeeded' | 'failed'; result?: unknown };
    const { job, node } = await updateJob(ctx.member, r.job, (j: StoredJob, n: Node) => {
      if (isCurrent(j, r) && j.state === r.status) return undefined; // a retried completion
      if (!isCurrent(j, r) || !OWNED_STATES.has(j.state)) throw stale(j, r, 'completion');
      const changes: Partial<StoredJob> = { token: j.token ?? n.modifiedIndex };
      if (r.result !== undefined) changes.result = r.result;
      return transition(j, r.status, changes);
    });
    return { job: toJob(job, node) };
  },
};

export const attemptMethods: readonly RecipeMethod[] = [start, complete];
