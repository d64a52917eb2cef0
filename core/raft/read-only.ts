// Linearizable reads by ReadIndex (thesis §6.4), leader side. Each read gets a sequence
// number the leader generates; the heartbeat round sent for it carries that number, and an
// acknowledgement of number s from a quorum confirms every read up to s. Because numbers only
// grow and are never taken from callers, a late reply cannot confirm a newer read.
import { hasQuorum } from './quorum.js';
import type { Index, NodeId } from './types.js';

export interface PendingRead {
  readonly seq: number;
  /** The commit index when the read arrived: what the read must wait to see applied. */
  readonly index: Index;
  /** The caller's token, returned untouched with the result. */
  readonly context: string;
  /** Who asked: this member, or the follower that forwarded it. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private pending: PendingRead[] = [];
  private nextSeq = 1;

  add(index: Index, context: string, from: NodeId, self: NodeId): number {
    const seq = this.nextSeq++;
    this.pending.push({ seq, index, context, from, acks: new Set([self]) });
    return seq;
  }

  /**
   * Records that `from` acknowledged heartbeat `seq`. Returns the reads now confirmed by a
   * quorum of `voters`, oldest first, removing them from the queue.
   */
  ack(seq: number, from: NodeId, voters: readonly NodeId[]): PendingRead[] {
    for (const read of this.pending) {
      if (read.seq > seq) break;
      read.acks.add(from);
    }
    let confirmedUpTo = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const read = this.pending[i]!;
      if (hasQuorum(voters, (id) => read.acks.has(id))) confirmedUpTo = i;
    }
    return this.pending.splice(0, confirmedUpTo + 1);
  }

  /** The newest sequence number handed out (the context for the next heartbeat round). */
  lastSeq(): number {
    return this.nextSeq - 1;
  }

  size(): number {
    return this.pending.length;
  }

  /** Drops every pending read (leadership lost); returns them so callers can be told. */
  clear(): PendingRead[] {
    const dropped = this.pending;
    this.pending = [];
    return dropped;
  }
}
