// How a member's callers get work into the log and reads past a ReadIndex barrier: wait for
// a known leader this member can reach (up to the request's timeout), hand the command to the
// Raft core, and wait for the entry to be applied here, so an answer means durable on a
// quorum and visible in this member's store. Raft refusals become the API's error codes.
import type { ConfChange, RawNode } from '../core/raft/index.js';
import { newRequestId } from './request-id.js';
import type { ApplyPipeline, ApplyResult } from './apply.js';
import { MemberError, noLeader, raftInternal, timedOut } from './errors.js';
import type { MemberMetrics } from './metrics.js';
import { ReadBatcher } from './read-batcher.js';
import { encodeCommand } from './command-codec.js';
import type { Command } from './state-machine.js';

export const REQUEST_TIMEOUT_MS = 5000;

export interface ProposerDeps {
  readonly node: Pick<RawNode, 'propose' | 'proposeConfChange' | 'readIndex' | 'leader'>;
  readonly apply: ApplyPipeline;
  readonly metrics: MemberMetrics;
  /** Runs the Ready loop soon: what was just handed to the core must go out. */
  readonly schedule: () => void;
  /** Whether a message to that member would go out now (this member itself: always). */
  readonly canReach: (memberId: string) => boolean;
  readonly stopped: () => boolean;
}

export class Proposer {
  private readonly leaderWaiters = new Set<() => void>();
  /**
   * The leader the member has announced (leaderKnown). The core learns of a new leader from a
   * message, a little before the member's Ready loop handles the change and fails what was
   * in flight under the old one with 302 (member.ts). A proposal made in between would be
   * failed with them although it went to the new leader; so proposals wait for the announcement.
   */
  private announcedLeader = '';
  /** A linearizable read barrier shared by every read that joins one ReadIndex round. */
  private readonly reads = new ReadBatcher(() => this.readIndexRound());

  constructor(private readonly deps: ProposerDeps) {}

  /** Call when a new leader is known, after what was in flight was marked stale: wakes whoever waits for one. */
  leaderKnown(leader: string): void {
    this.announcedLeader = leader;
    this.wakeIfReady();
  }

  /** Call when this member's connection to a peer opened: the leader may now be reachable. */
  peerConnected(): void {
    this.wakeIfReady();
  }

  private wakeIfReady(): void {
    if (!this.leaderReady()) return;
    for (const wake of this.leaderWaiters) wake();
    this.leaderWaiters.clear();
  }

  /** Replicates a command; resolves once it is applied here (so durable on a quorum). */
  propose(command: Command, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApplyResult> {
    return this.submit(command.requestId, timeoutMs, () => this.deps.node.propose(encodeCommand(command)), command.op);
  }

  proposeConfChange(change: ConfChange, requestId: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApplyResult> {
    return this.submit(requestId, timeoutMs, () => this.deps.node.proposeConfChange(change), change.type);
  }

  /** Resolves once this member applied everything committed before the call. */
  readBarrier(): Promise<number> {
    return this.reads.read();
  }

  private async submit(requestId: string, timeoutMs: number, send: () => ReturnType<RawNode['propose']>, what: string): Promise<ApplyResult> {
    if (this.deps.stopped()) throw new MemberError(300, 'the member is stopping', true);
    const deadline = Date.now() + timeoutMs;
    // The common case, a known leader, does not wait a turn for a promise.
    if (!this.leaderReady() && !(await this.waitForLeader(timeoutMs))) throw noLeader(what);
    const { apply, metrics } = this.deps;
    const result = apply.waitForApply(requestId, Math.max(1, deadline - Date.now()), () => timedOut(what, timeoutMs));
    const error = send();
    if (error !== undefined) {
      apply.cancel(requestId);
      metrics.proposalFailed();
      if (error.code === 'RAFT_NO_LEADER' || error.code === 'RAFT_PROPOSAL_DROPPED' || error.code === 'RAFT_UNCOMMITTED_LIMIT') {
        throw new MemberError(301, `${what}: ${error.message}`, true);
      }
      throw raftInternal(`${what}: ${error.message}`);
    }
    this.deps.schedule();
    try {
      const applied = await result;
      metrics.proposalCommitted();
      return applied;
    } catch (failure) {
      metrics.proposalFailed();
      throw failure;
    }
  }

  /** One ReadIndex round, shared by every read that joined it (read-batcher.ts). */
  private async readIndexRound(timeoutMs = REQUEST_TIMEOUT_MS): Promise<number> {
    if (!this.leaderReady() && !(await this.waitForLeader(timeoutMs))) throw noLeader('read');
    const { apply, node } = this.deps;
    const context = newRequestId();
    const done = apply.waitForRead(context, timeoutMs, () => timedOut('read', timeoutMs));
    const error = node.readIndex(context);
    if (error !== undefined) {
      apply.cancelRead(context);
      throw noLeader(`read: ${error.message}`);
    }
    this.deps.schedule();
    return done;
  }

  /**
   * A leader is known to the core, the member has announced it, and it can be reached. A
   * follower learns of a new leader from the leader's messages, which come in on the leader's
   * connection; its own connection to the leader may still be in reconnect backoff, and a
   * proposal forwarded then would be dropped unseen and fail only at its deadline, with 302
   * (outcome unknown) although nothing was sent. It waits for the connection instead, and
   * if that does not open in time it is refused with 301, which a client may retry.
   */
  private leaderReady(): boolean {
    const leader = this.deps.node.leader;
    return leader !== '' && leader === this.announcedLeader && this.deps.canReach(leader);
  }

  /** Waits until a leader is known and announced, up to `ms`. */
  private waitForLeader(ms: number): Promise<boolean> {
    if (this.leaderReady()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => { this.leaderWaiters.delete(wake); resolve(false); }, ms);
      this.leaderWaiters.add(wake);
    });
  }
}
