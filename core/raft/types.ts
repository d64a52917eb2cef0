// Value types shared by every part of the Raft core: log entries, the durable hard state,
// membership, snapshots and the results handed to the application. Plain data only.

/** A member's id. Opaque to Raft; the member process derives it from the member's identity. */
export type NodeId = string;
/** A Raft term (paper §5.1). 0 means "no term yet"; real terms start at 1. */
export type Term = number;
/** A log position. Index 0 is the empty prefix; the first real entry is at index 1. */
export type Index = number;

/** The empty value for a NodeId: "no vote", "no known leader". */
export const NO_NODE: NodeId = '';

export type EntryType = 'normal' | 'confChange';

/**
 * One log entry. `data` is opaque to Raft for 'normal' entries; for 'confChange' it is an
 * encoded ConfChange (see confchange.ts). A 'normal' entry with empty data is the no-op a
 * leader appends at the start of its term.
 */
export interface Entry {
  readonly term: Term;
  readonly index: Index;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * What must survive a crash, saved atomically together with the entries of the same Ready:
 * a vote is only safe if it is durable before any reply that depends on it leaves.
 */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
}

/** The cluster configuration: who votes and who only receives the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  /** The last log index the snapshot covers. */
  readonly index: Index;
  /** The term of the entry at `index`. */
  readonly term: Term;
  /** The configuration in force at `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state at `metadata.index`; opaque to Raft. */
  readonly data: Uint8Array;
}

export type StateRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the application may want to observe (not persisted). */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: StateRole;
}

/**
 * A completed linearizable read: once the application has applied up to `index`, a read
 * issued with `context` may be served from the local state machine.
 */
export interface ReadState {
  readonly index: Index;
  readonly context: string;
}

/** Everything a restarting member hands back to Raft from its durable storage. */
export interface PersistedState {
  readonly hardState: HardState;
  /** The latest snapshot, if the log was ever compacted. */
  readonly snapshot?: Snapshot;
  /** The entries after the snapshot (or from index 1), contiguous. */
  readonly entries: readonly Entry[];
  /** The index the application's state already reflects (at least the snapshot's index). */
  readonly applied?: Index;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NO_NODE, commit: 0 };

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
