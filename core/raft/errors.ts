// Operating errors of the Raft core: values with stable codes, returned (never thrown) by
// the calls an application makes. Programmer errors (broken invariants) throw instead.
import type { NodeId } from './types.js';

export type RaftErrorCode =
  /** No leader is known right now; retry later. Maps to API error 301. */
  | 'RAFT_NO_LEADER'
  /** The leader refused the proposal (transfer in progress, or removed from the cluster). */
  | 'RAFT_PROPOSAL_DROPPED'
  /** The leader's uncommitted log is over `maxUncommittedBytes`; retry once it drains. */
  | 'RAFT_UNCOMMITTED_LIMIT'
  /** A configuration change is invalid or another one is still pending. */
  | 'RAFT_CONF_CHANGE_REJECTED'
  /** A call needs a leader and this member is not it (e.g. a leadership transfer request). */
  | 'RAFT_NOT_LEADER'
  /** A compaction or snapshot request names an index that is out of range. */
  | 'RAFT_COMPACTION_REJECTED';

export class RaftError {
  readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    readonly message: string,
    /** True when the same request may succeed later, unchanged. */
    readonly retryable: boolean,
    /** The leader this member knows of, if any: where to retry. */
    readonly leaderHint?: NodeId,
  ) {}
}

/** Raft calls that may fail return this: `undefined` on success. */
export type MaybeRaftError = RaftError | undefined;
