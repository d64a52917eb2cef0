// job.watch {machine}: the stream an agent works from. It opens with one `assigned`
// notification per job the machine owns now, then sends `assigned` when a job (or a new
// attempt of it) is given to the machine and `withdrawn` when the machine loses it (canceled,
// requeued after machine loss, deleted). It is derived from the store's own events on
// /cairn/jobs, registered in the same synchronous step as the initial read, so nothing falls
// in between; if this member replaces its store from a snapshot the stream ends with 401 and
// the agent watches again (the fresh snapshot then tells it everything it owns).
import type { Node } from '../../core/api/types.js';
import { StoreError } from '../../core/store/index.js';
import type { StoreEvent } from '../../core/store/index.js';
import { fromStoreError } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { RecipeMethod } from '../method.js';
import type { Job, StoredJob } from './job.js';
import { JOBS_DIR, OWNED_STATES, parseJob, toJob } from './job.js';
import { schemas } from './schemas.js';

export interface JobNotice {
  action: 'assigned' | 'withdrawn';
  job: Job;
  /** The store index of the change (the snapshot's index for the opening notifications). */
  index: number;
}

const ownedBy = (job: StoredJob | undefined, machine: string): job is StoredJob =>
  job !== undefined && job.machine === machine && OWNED_STATES.has(job.state);

/** The notifications one store event makes for `machine` (none, one or two). */
export function noticesFor(event: StoreEvent, machine: string): JobNotice[] {
  const before = parseJob(event.prevNode);
  const after = parseJob(event.node);
  const had = ownedBy(before, machine);
  const has = ownedBy(after, machine);
  const sameAttempt = had && has && before.attempt === after.attempt;
  const out: JobNotice[] = [];
  if (had && !sameAttempt) {
    const last = after !== undefined ? toJob(after, event.node) : toJob(before, event.prevNode as Node);
    out.push({ action: 'withdrawn', job: has ? toJob(before, event.prevNode as Node) : last, index: event.index });
  }
  if (has && !sameAttempt) out.push({ action: 'assigned', job: toJob(after, event.node), index: event.index });
  return out;
}

/** The jobs `machine` owns in this member's store now. */
function ownedNow(member: MemberApi, machine: string): JobNotice[] {
  let nodes: Node[];
  try {
    nodes = member.store.get(JOBS_DIR, { recursive: true, sorted: true }, Date.now()).node.nodes ?? [];
  } catch (error) {
    if (error instanceof StoreError && error.code === 100) return [];
    throw error instanceof StoreError ? fromStoreError(error) : error;
  }
  const index = member.store.index;
  return nodes.flatMap((node) => {
    const job = parseJob(node);
    return ownedBy(job, machine) ? [{ action: 'assigned' as const, job: toJob(job, node), index }] : [];
  });
}

const watch: RecipeMethod = {
  name: 'job.watch',
  schema: schemas['job.watch'],
  run(ctx, p) {
    const machine = p.machine as string;
    const sub = ctx.subscriptions.open();
    const send = (notice: JobNotice): void => {
      if (sub.push(notice) === 'slow') {
        sub.end({ code: 401, message: `job.watch of ${machine}: the client reads too slowly; watch again (the new stream lists every job the machine owns)`, data: { index: ctx.member.store.index } });
      }
    };
    for (const notice of ownedNow(ctx.member, machine)) send(notice);
    const remove = ctx.member.watchHub.add({
      key: JOBS_DIR, recursive: true,
      deliver: (event) => { for (const notice of noticesFor(event, machine)) send(notice); },
      reset: () => sub.end({ code: 401, message: `job.watch of ${machine}: this member installed a snapshot; watch again`, data: { index: ctx.member.store.index } }),
    });
    sub.onClose = remove;
    if (sub.isClosed) remove();
    return { subscription: sub.id };
  },
};

export const watchMethods: readonly RecipeMethod[] = [watch];
