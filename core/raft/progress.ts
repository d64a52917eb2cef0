// What the leader knows about one follower's log (etcd's tracker/progress.go): the highest
// index known to match (`match`), the next index to send (`next`), and which of three modes
// replication is in. Invariant, asserted on every change: 0 <= match < next.
//   probe:     one append per heartbeat interval until the match point is found;
//   replicate: optimistic pipelining, `next` advances on send, bounded by inflights;
//   snapshot:  a snapshot is on its way; no appends until it lands or fails.
import { Inflights } from './inflights.js';
import type { Index } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  state: ProgressState = 'probe';
  /**
   * Sending is paused until a reply or the next heartbeat response: in probe state after an
   * append with entries; in replicate state while the in-flight window is full.
   */
  msgAppFlowPaused = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot: Index = 0;
  /** Ticks spent in the snapshot state, to retry a snapshot whose outcome never came back. */
  snapshotElapsed = 0;
  /** Heard from this member since the last CheckQuorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    public match: Index,
    public next: Index,
    public isLearner: boolean,
    maxInflightMsgs: number,
    maxInflightBytes: number,
  ) {
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.assertInvariant();
  }

  private assertInvariant(): void {
    if (!(this.match >= 0 && this.match < this.next)) {
      throw new Error(`progress: invariant 0 <= match (${this.match}) < next (${this.next}) broken`);
    }
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotElapsed = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it (or after match, if further along).
    const from = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.resetState('probe');
    this.next = from + 1;
    this.assertInvariant();
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
    this.assertInvariant();
  }

  becomeSnapshot(snapshotIndex: Index): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = Math.max(this.next, snapshotIndex + 1);
    this.assertInvariant();
  }

  /** A successful reply up to `index`; returns whether it told us anything new. */
  maybeUpdate(index: Index): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.assertInvariant();
    return updated;
  }

  /**
   * A rejection of an append at `rejected`, with the follower's hint of where to retry.
   * Returns false for a stale rejection (one that no longer matches what we sent).
   */
  maybeDecrTo(rejected: Index, hintIndex: Index): boolean {
    if (this.state === 'replicate') {
      // Pipelined: only a rejection of something above match is news; resend from match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.assertInvariant();
      return true;
    }
    // Probe: only the reply to the append we sent (prevLogIndex = next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hintIndex + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    this.assertInvariant();
    return true;
  }

  /** Records that an append ending at `lastIndex` with `bytes` of entries went out. */
  sentEntries(lastIndex: Index, bytes: number, entryCount: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.inflights.add(lastIndex, bytes);
        this.next = lastIndex + 1;
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe' && entryCount > 0) {
      // An empty append (commit news) probes nothing new, so it does not pause the stream.
      this.msgAppFlowPaused = true;
    }
    this.assertInvariant();
  }

  /** Whether sending another append must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        // A heartbeat response clears the flag, letting one empty append through a full window.
        return this.msgAppFlowPaused && this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
