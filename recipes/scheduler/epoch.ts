// Fencing the scheduler itself. For a moment around a leader change, two members may both
// believe they lead, and a deposed leader's proposal is forwarded to the new leader and can
// still commit. A CAS on each job keeps one job from being assigned twice, but not a machine
// from being filled past its capacity by two schedulers planning on different views. So each
// scheduling member first claims `/cairn/scheduler/epoch` for its Raft term (only upward), and
// every scheduling write is a txn that also compares the epoch key's index: once a newer
// leader has claimed it, every write planned by an older one fails.
import { MemberError } from '../../server/errors.js';
import { kvGet, kvSet, kvTxn } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { StoredJob } from './job.js';
import { jobKey } from './job.js';

export const EPOCH_KEY = '/cairn/scheduler/epoch';

interface Epoch { term: number; member: string }

/**
 * Claims the epoch for this member's current term; returns the epoch key's modifiedIndex to
 * fence writes with (and whether this call wrote it), or undefined when a newer term holds it.
 */
export async function claimEpoch(member: MemberApi): Promise<{ index: number; fresh: boolean } | undefined> {
  const term = member.status().term;
  const mine: Epoch = { term, member: member.memberId };
  let current: { epoch: Epoch; index: number } | undefined;
  try {
    const node = (await kvGet(member, { key: EPOCH_KEY })).node;
    current = { epoch: JSON.parse(node.value ?? '{}') as Epoch, index: node.modifiedIndex };
  } catch (error) {
    if (!(error instanceof MemberError) || error.code !== 100) throw error;
  }
  if (current !== undefined && current.epoch.term === term && current.epoch.member === member.memberId) return { index: current.index, fresh: false };
  if (current !== undefined && current.epoch.term >= term) return undefined;
  const condition = current === undefined ? { prevExist: false } : { prevIndex: current.index };
  try {
    return { index: (await kvSet(member, { key: EPOCH_KEY, value: JSON.stringify(mine), ...condition })).node.modifiedIndex, fresh: true };
  } catch (error) {
    // Another member claimed it meanwhile: the next pass reads it again.
    if (error instanceof MemberError && (error.code === 101 || error.code === 105)) return undefined;
    throw error;
  }
}

/** Writes `next` only if the job is still at `prevIndex` and the epoch still at `epochIndex`. */
export async function writeJobFenced(member: MemberApi, next: StoredJob, prevIndex: number, epochIndex: number): Promise<boolean> {
  const result = await kvTxn(member, {
    compare: [{ key: EPOCH_KEY, index: epochIndex }, { key: jobKey(next.job), index: prevIndex }],
    success: [{ set: { key: jobKey(next.job), value: JSON.stringify(next) } }],
  });
  return result.succeeded;
}
