// Everything a member does only while it leads: per-follower progress and replication with
// flow control, commitment by counting (paper §5.3–5.4), ReadIndex confirmation, leadership
// transfer and CheckQuorum. A LeaderState lives exactly as long as one term of leadership.
import type { ConfChange } from './confchange.js';
import { validateConfChange } from './confchange.js';
import type { RaftConfig } from './config.js';
import type { RaftLog } from './log.js';
import type { AppendResponseMessage, HeartbeatResponseMessage, Message } from './messages.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import type { Entry, Index, NodeId, ReadState, Snapshot, Term } from './types.js';
import { NO_NODE } from './types.js';

/** What the leader needs from the member that hosts it. */
export interface LeaderHost {
  readonly id: NodeId;
  readonly term: Term;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  /** The latest snapshot, for followers whose next entry was compacted away. */
  readonly snapshot: Snapshot | undefined;
  send(message: Message): void;
  completeRead(read: ReadState, from: NodeId): void;
}

const SNAPSHOT_RETRY_ELECTIONS = 3;

export class LeaderState {
  readonly progress = new Map<NodeId, Progress>();
  readonly readOnly = new ReadOnlyQueue();
  /** Reads that arrived before the first commit of this term (thesis §6.4 step 1). */
  private readsBeforeFirstCommit: { context: string; from: NodeId }[] = [];
  leadTransferee: NodeId = NO_NODE;
  /** Ticks since the transfer started; it is abandoned after an election timeout. */
  transferElapsed = 0;
  /** Payload bytes appended in this term and not yet committed. */
  uncommittedBytes = 0;
  /**
   * Followers owed an append, sent by flushAppends() when the next Ready is made (true: even
   * an empty one, for the commit index it carries). Sending at once, per proposal and per
   * acknowledgement, made ~20 small appends per follower per Ready under load, and as many
   * acknowledgements back; one append per follower per Ready carries the same entries.
   */
  private readonly appendsOwed = new Map<NodeId, boolean>();

  constructor(private readonly host: LeaderHost) {
    this.syncProgressWithConf();
  }

  /** Creates progress for new members and drops it for removed ones. */
  syncProgressWithConf(): void {
    const { voters, learners } = this.host.log.confState();
    const members = new Set([...voters, ...learners]);
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    if (this.leadTransferee !== NO_NODE && !voters.includes(this.leadTransferee)) this.leadTransferee = NO_NODE;
    const last = this.host.log.lastIndex();
    for (const id of members) {
      const isLearner = !voters.includes(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      const { maxInflightMsgs, maxInflightBytes } = this.host.config;
      const match = id === this.host.id ? this.host.log.stableIndex : 0;
      const pr = new Progress(match, last + 1, isLearner, maxInflightMsgs, maxInflightBytes);
      if (id === this.host.id) pr.becomeReplicate();
      pr.recentActive = id === this.host.id;
      this.progress.set(id, pr);
    }
  }

  voters(): readonly NodeId[] {
    return this.host.log.confState().voters;
  }

  committedInCurrentTerm(): boolean {
    return this.host.log.term(this.host.log.committed) === this.host.term;
  }

  /** Appends entries (already numbered by the caller) to the leader's own log. */
  appendEntries(entries: readonly Entry[]): void {
    this.host.log.append(entries);
    for (const e of entries) this.uncommittedBytes += e.data.byteLength;
    if (entries.some((e) => e.type === 'confChange')) this.syncProgressWithConf();
    this.broadcastAppend();
  }

  /**
   * Why a membership change cannot be proposed now, if it cannot: one change at a time, and
   * only after this leader committed an entry of its term (Ongaro's single-server bug).
   */
  confChangeRejection(change: ConfChange): { reason: string; retryable: boolean } | undefined {
    const log = this.host.log;
    // Permanent faults first: a change that can never apply must not be retried.
    if (change.nodeId === this.host.id && change.type === 'addLearner') {
      return { reason: 'the leader cannot demote itself; transfer leadership first', retryable: false };
    }
    const invalid = validateConfChange(log.confState(), change);
    if (invalid !== undefined) return { reason: invalid, retryable: false };
    if (!this.committedInCurrentTerm()) {
      return { reason: 'the new leader has not committed an entry in its term yet; retry shortly', retryable: true };
    }
    if (log.lastConfIndex() > log.committed) {
      return { reason: 'another membership change is still pending; retry once it commits', retryable: true };
    }
    return undefined;
  }

  /** Whether `bytes` more would exceed the uncommitted budget (one entry always fits). */
  exceedsUncommittedLimit(bytes: number): boolean {
    return this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.host.config.maxUncommittedBytes;
  }

  /** Commit the highest index a quorum holds, if it is from this term (Figure 8). */
  maybeCommit(): boolean {
    const log = this.host.log;
    const index = committedIndex(this.voters(), (id) => this.progress.get(id)?.match ?? 0);
    if (index <= log.committed || log.term(index) !== this.host.term) return false;
    const firstCommitInTerm = !this.committedInCurrentTerm();
    for (let i = log.committed + 1; i <= index; i++) {
      const entry = log.entryAt(i);
      if (entry.term === this.host.term) this.uncommittedBytes -= entry.data.byteLength;
    }
    log.commitTo(index);
    if (firstCommitInTerm) this.releaseReadsBeforeFirstCommit();
    return true;
  }

  broadcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.host.id) this.oweAppend(id, true);
  }

  /** Notes that `to` should get its next entries (or, with `sendIfEmpty`, the commit) soon. */
  private oweAppend(to: NodeId, sendIfEmpty: boolean): void {
    this.appendsOwed.set(to, sendIfEmpty || this.appendsOwed.get(to) === true);
  }

  /** Whether flushAppends() has messages to make. */
  get hasOwedAppends(): boolean {
    return this.appendsOwed.size > 0;
  }

  /** Sends every owed append, filling each follower's flow-control window. */
  flushAppends(): void {
    for (const [to, sendIfEmpty] of this.appendsOwed) {
      if (!this.sendAppend(to, sendIfEmpty)) continue;
      for (let i = 1; i < this.host.config.maxInflightMsgs && this.sendAppend(to, false); i++);
    }
    this.appendsOwed.clear();
  }

  broadcastHeartbeat(): void {
    const context = this.readOnly.size() > 0 ? this.readOnly.lastSeq() : 0;
    this.sendHeartbeats(context);
  }

  private sendHeartbeats(context: number): void {
    for (const [id, pr] of this.progress) {
      if (id === this.host.id) continue;
      // Never announce a commit beyond what the follower is known to hold.
      const commit = Math.min(pr.match, this.host.log.committed);
      this.host.send({ type: 'heartbeat', from: this.host.id, to: id, term: this.host.term, commit, context });
    }
  }

  /**
   * Sends the follower its next entries (or a snapshot if they were compacted away).
   * Returns whether a message went out. With `sendIfEmpty` an empty append carries the commit.
   */
  sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const log = this.host.log;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = log.term(prevLogIndex);
    if (prevLogTerm === undefined) return this.sendSnapshot(to, pr);
    // With a full window only an empty append goes out: if every append in flight was lost,
    // its ack or rejection still clears the window instead of stalling the follower forever.
    const windowFull = pr.state === 'replicate' && pr.inflights.full();
    const entries = pr.next <= log.lastIndex() && !windowFull
      ? log.slice(pr.next, log.lastIndex() + 1, this.maxBytesFor(pr))
      : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.host.send({
      type: 'append', from: this.host.id, to, term: this.host.term,
      prevLogIndex, prevLogTerm, entries, commit: log.committed,
    });
    const bytes = entries.reduce((sum, e) => sum + e.data.byteLength, 0);
    pr.sentEntries(entries.at(-1)?.index ?? prevLogIndex, bytes, entries.length);
    return true;
  }

  /** The message size budget, also bounded by the follower's remaining in-flight bytes. */
  private maxBytesFor(pr: Progress): number {
    const { maxSizePerMsgBytes, maxInflightBytes } = this.host.config;
    if (pr.state !== 'replicate' || maxInflightBytes === 0) return maxSizePerMsgBytes;
    return Math.max(0, Math.min(maxSizePerMsgBytes, maxInflightBytes - pr.inflights.bytes()));
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snapshot = this.host.snapshot;
    if (snapshot === undefined) {
      throw new Error(`raft: follower ${to} needs compacted entries but no snapshot is held`);
    }
    pr.becomeSnapshot(snapshot.metadata.index);
    this.host.send({ type: 'snapshot', from: this.host.id, to, term: this.host.term, snapshot });
    return true;
  }

  handleAppendResponse(m: AppendResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.reject) {
      const hint = m.hintTerm > 0 ? this.host.log.findConflictByTerm(m.hintIndex, m.hintTerm).index : m.hintIndex;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index) && !(pr.state === 'probe' && pr.match === m.index)) return;
    this.advanceProgressState(pr, m.index);
    if (this.maybeCommit()) {
      this.broadcastAppend();
    } else {
      // Fill the pipeline while the flow-control window allows (at the flush).
      this.oweAppend(m.from, wasPaused);
    }
    if (m.from === this.leadTransferee && pr.match === this.host.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private advanceProgressState(pr: Progress, ackedIndex: Index): void {
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.host.log.firstIndex()) {
      // The follower can continue from the log we still hold (etcd PR #10308).
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(ackedIndex);
    }
  }

  handleHeartbeatResponse(m: HeartbeatResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // A lost append is retried here even when nothing new is proposed (etcd #13951); a
    // caught-up follower left in probe state gets an empty append to return to replicate.
    if (pr.match < this.host.log.lastIndex() || pr.state === 'probe') this.sendAppend(m.from, true);
    if (m.context === 0) return;
    for (const read of this.readOnly.ack(m.context, m.from, this.voters())) {
      this.host.completeRead({ index: read.index, context: read.context }, read.from);
    }
  }

  /** A linearizable read from this member or a follower (thesis §6.4). */
  readIndex(context: string, from: NodeId): void {
    if (!this.committedInCurrentTerm()) {
      this.readsBeforeFirstCommit.push({ context, from });
      return;
    }
    const voters = this.voters();
    if (voters.length === 1 && voters[0] === this.host.id) {
      this.host.completeRead({ index: this.host.log.committed, context }, from);
      return;
    }
    const seq = this.readOnly.add(this.host.log.committed, context, from, this.host.id);
    this.sendHeartbeats(seq);
  }

  private releaseReadsBeforeFirstCommit(): void {
    const reads = this.readsBeforeFirstCommit;
    this.readsBeforeFirstCommit = [];
    for (const read of reads) this.readIndex(read.context, read.from);
  }

  /** The self-acknowledgement: our own entries up to `stableIndex` are durable. */
  selfPersisted(stableIndex: Index): void {
    const pr = this.progress.get(this.host.id);
    if (pr === undefined || stableIndex <= pr.match) return;
    pr.maybeUpdate(stableIndex);
    if (this.maybeCommit()) this.broadcastAppend();
  }

  startTransfer(to: NodeId): void {
    this.leadTransferee = to;
    this.transferElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.host.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.host.send({ type: 'timeoutNow', from: this.host.id, to, term: this.host.term });
  }

  /** CheckQuorum: whether a quorum was heard from since the last check; resets the marks. */
  checkQuorumActive(): boolean {
    const active = hasQuorum(this.voters(), (id) => id === this.host.id || this.progress.get(id)?.recentActive === true);
    for (const [id, pr] of this.progress) pr.recentActive = id === this.host.id;
    return active;
  }

  /**
   * A snapshot whose outcome the transport never reported (say the message was lost) is
   * retried after a few election timeouts rather than pausing the follower forever.
   */
  tickSnapshots(): void {
    for (const pr of this.progress.values()) {
      if (pr.state !== 'snapshot') continue;
      pr.snapshotElapsed++;
      if (pr.snapshotElapsed >= SNAPSHOT_RETRY_ELECTIONS * this.host.config.electionTicks) {
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
      }
    }
  }

  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (pr?.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, succeeded: boolean): void {
    const pr = this.progress.get(id);
    if (pr?.state !== 'snapshot') return;
    if (!succeeded) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's reply (or the next heartbeat) before probing again.
    pr.msgAppFlowPaused = true;
  }
}
