// The messages Raft members exchange (paper Figure 2 plus PreVote, ReadIndex and leadership
// transfer from the thesis). A discriminated union on `type`; every handler switches on it
// exhaustively.
import type { Entry, Index, NodeId, Snapshot, Term } from './types.js';

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term. 0 marks a message without a term (a forwarded proposal or read). */
  readonly term: Term;
}

/** AppendEntries (paper §5.3). With no entries it only carries the commit index. */
export interface AppendMessage extends Envelope {
  readonly type: 'append';
  readonly prevLogIndex: Index;
  readonly prevLogTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: Index;
}

/**
 * Reply to 'append'. On success `index` is the last index now known to match the leader.
 * On rejection `index` is the rejected prevLogIndex and (`hintIndex`, `hintTerm`) is the
 * follower's best guess of where the logs may match, for fast back-off.
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'appendResponse';
  readonly index: Index;
  readonly reject: boolean;
  readonly hintIndex: Index;
  readonly hintTerm: Term;
}

/**
 * Leader liveness plus commit propagation. `context` is a leader-generated, strictly
 * increasing read sequence number (0 when no read waits on this heartbeat); it is never a
 * client-supplied value, so a late reply can never confirm a read issued after it was sent.
 */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: Index;
  readonly context: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeatResponse';
  readonly context: number;
}

/**
 * RequestVote (paper §5.2) and its PreVote twin (thesis §9.6). A PreVote carries the term
 * the candidate *would* use, without any member changing its term. `transfer` marks a
 * campaign started by leadership transfer, which may bypass leader stickiness.
 */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'preVote';
  readonly lastLogIndex: Index;
  readonly lastLogTerm: Term;
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/** InstallSnapshot (paper §7), whole; the transport may stream it in chunks. */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** A proposal a follower forwards to the leader. */
export interface ProposeMessage extends Envelope {
  readonly type: 'propose';
  readonly entries: readonly Entry[];
}

/** A follower asks the leader for a read index; `context` is the follower's own token. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'readIndexResponse';
  readonly index: Index;
  readonly context: string;
}

/** Leadership transfer: the leader tells an up-to-date follower to campaign at once. */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeoutNow';
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TimeoutNowMessage;

export type MessageType = Message['type'];

export function assertNever(value: never): never {
  throw new Error(`raft: unhandled variant ${JSON.stringify(value)}; this is a bug in cairn`);
}
