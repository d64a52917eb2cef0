// job.submit/get/cancel/list: the submitter's side. A job is created once (prevExist: false)
// as `pending` with attempt 1; every later change is a compare-and-swap on its modifiedIndex.
import { isDeepStrictEqual } from 'node:util';
import { nanoid } from 'nanoid';
import { MemberError } from '../../server/errors.js';
import { kvSet } from '../../server/kv-service.js';
import type { RecipeMethod } from '../method.js';
import type { Delivery, JobState, StoredJob } from './job.js';
import { TERMINAL_STATES, jobKey, toJob, transition } from './job.js';
import { schemas } from './schemas.js';
import { readJob, readJobs, updateJob } from './store-io.js';

/** A spec is stored in the job's value; bigger payloads belong elsewhere (notes: CU-TN4). */
export const MAX_SPEC_BYTES = 64 * 1024;

function newJob(p: Record<string, unknown>): StoredJob {
  const job: StoredJob = {
    job: (p.job as string | undefined) ?? nanoid(12).replace(/^[_-]/, 'j'),
    spec: p.spec,
    labels: (p.labels as Record<string, string> | undefined) ?? {},
    state: 'pending',
    attempt: 1,
    priority: (p.priority as number | undefined) ?? 0,
    maxAttempts: (p.maxAttempts as number | undefined) ?? 3,
    delivery: (p.delivery as Delivery | undefined) ?? 'at-least-once',
    reason: 'waiting for the scheduler',
    history: [],
  };
  if (typeof p.machine === 'string') job.pin = p.machine;
  return transition(job, 'pending', {}, 'submitted');
}

/** What makes two submissions the same job. */
const submission = (j: StoredJob): unknown[] => [j.spec, j.labels, j.pin, j.priority, j.maxAttempts, j.delivery];

const submit: RecipeMethod = {
  name: 'job.submit',
  schema: schemas['job.submit'],
  async run(ctx, p) {
    const job = newJob(p);
    const value = JSON.stringify(job);
    if (Buffer.byteLength(value) > MAX_SPEC_BYTES) {
      throw new MemberError(-32602, `job.submit: the job is ${Buffer.byteLength(value)} bytes as JSON, more than ${MAX_SPEC_BYTES}; keep large payloads elsewhere and put a reference in spec`, false, { errors: [{ field: 'spec', problem: `must be at most ${MAX_SPEC_BYTES} bytes as JSON` }] });
    }
    try {
      const r = await kvSet(ctx.member, { key: jobKey(job.job), value, prevExist: false });
      return { job: toJob(job, r.node) };
    } catch (error) {
      if (!(error instanceof MemberError) || error.code !== 105) throw error;
    }
    // The id exists: the same submission again (a retry after a lost reply) gets the job back.
    const existing = await readJob(ctx.member, job.job);
    if (!isDeepStrictEqual(submission(existing.job), submission(JSON.parse(value) as StoredJob))) {
      throw new MemberError(105, `job ${job.job} already exists with a different spec, labels, machine, priority, maxAttempts or delivery; submit under another id (or omit job to get a fresh one)`, false);
    }
    return { job: toJob(existing.job, existing.node) };
  },
};

const get: RecipeMethod = {
  name: 'job.get',
  schema: schemas['job.get'],
  async run(ctx, p) {
    const { job, node } = await readJob(ctx.member, p.job as string);
    return { job: toJob(job, node) };
  },
};

const cancel: RecipeMethod = {
  name: 'job.cancel',
  schema: schemas['job.cancel'],
  async run(ctx, p) {
    // Canceling a finished job changes nothing; canceling an owned one withdraws it from its machine.
    const { job, node } = await updateJob(ctx.member, p.job as string, (j) =>
      TERMINAL_STATES.has(j.state) ? undefined : transition(j, 'canceled', { reason: undefined }, 'canceled'));
    return { job: toJob(job, node) };
  },
};

const list: RecipeMethod = {
  name: 'job.list',
  schema: schemas['job.list'],
  async run(ctx, p) {
    const state = p.state as JobState | undefined;
    const machine = p.machine as string | undefined;
    const jobs = (await readJobs(ctx.member))
      .filter(({ job }) => (state === undefined || job.state === state) && (machine === undefined || job.machine === machine))
      .sort((a, b) => a.node.createdIndex - b.node.createdIndex)
      .map(({ job, node }) => toJob(job, node));
    return { jobs };
  },
};

export const jobMethods: readonly RecipeMethod[] = [submit, get, cancel, list];
