// The application's handle on Raft (etcd-io/raft's RawNode): inputs go in through tick(),
// step() and the propose/read/membership calls; everything Raft wants done comes out as a
// Ready, which the application persists, sends and applies, then hands back with advance().
import { encodeConfChange } from './confchange.js';
import type { ConfChange } from './confchange.js';
import type { RaftOptions } from './config.js';
import { resolveConfig } from './config.js';
import { RaftError } from './errors.js';
import type { MaybeRaftError } from './errors.js';
import type { Message } from './messages.js';
import { Raft } from './raft.js';
import type { ProgressState } from './progress.js';
import type {
  ConfState, Entry, HardState, Index, NodeId, PersistedState, ReadState, Snapshot, SoftState, StateRole, Term,
} from './types.js';
import { EMPTY_HARD_STATE, NO_NODE, isHardStateEqual } from './types.js';

export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
  readonly applied: Index;
  readonly role: StateRole;
  readonly leader: NodeId;
  readonly firstIndex: Index;
  readonly lastIndex: Index;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  readonly progress?: Readonly<Record<NodeId, { match: Index; next: Index; state: ProgressState }>>;
}

/** A read-only view of the log, for checkers and diagnostics. */
export interface LogView {
  readonly firstIndex: Index;
  readonly lastIndex: Index;
  readonly committed: Index;
  readonly applied: Index;
  readonly snapshotIndex: Index;
  readonly snapshotTerm: Term;
  term(index: Index): Term | undefined;
  entries(lo: Index, hiExclusive: Index): Entry[];
}

const noLeader = (what: string): RaftError =>
  new RaftError('RAFT_NO_LEADER', `${what}: no leader is known right now; retry shortly`, true);

export class RawNode {
  private readonly raft: Raft;
  /** What the last Ready handed out, to report only changes. */
  private lastHardState: HardState;
  private lastSoftState: SoftState;

  private constructor(options: RaftOptions, state: PersistedState) {
    this.raft = new Raft(resolveConfig(options));
    const { hardState, snapshot, entries } = state;
    this.raft.log.load(snapshot, entries, hardState.commit, state.applied ?? 0);
    this.raft.snapshot = snapshot;
    this.raft.becomeFollower(hardState.term, NO_NODE);
    this.raft.vote = hardState.vote;
    this.lastHardState = { term: hardState.term, vote: hardState.vote, commit: this.raft.log.committed };
    this.lastSoftState = this.softState();
  }

  /**
   * A member of a brand-new cluster. Every initial member writes the same committed
   * membership entries (term 1, one addVoter per member in id order), so the initial
   * configuration lives in the log like any later change and a joining member learns it by
   * replication.
   */
  static bootstrap(options: RaftOptions, voters: readonly NodeId[]): RawNode {
    const ids = [...new Set(voters)].sort();
    if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === '')) {
      throw new Error('raft bootstrap: voters must be a non-empty list of non-empty member ids');
    }
    if (!ids.includes(options.id)) {
      throw new Error(`raft bootstrap: this member (${options.id}) must be one of the voters ${ids.join(', ')}`);
    }
    const node = new RawNode(options, { hardState: EMPTY_HARD_STATE, entries: [] });
    const entries: Entry[] = ids.map((id, i) => ({
      term: 1, index: i + 1, type: 'confChange', data: encodeConfChange({ type: 'addVoter', nodeId: id }),
    }));
    node.raft.becomeFollower(1, NO_NODE);
    node.raft.log.append(entries);
    node.raft.log.commitTo(entries.length);
    return node;
  }

  /** A member restarting from its durable state (empty state: a member joining a cluster). */
  static restart(options: RaftOptions, state: PersistedState): RawNode {
    return new RawNode(options, state);
  }

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    if (message.to !== this.raft.id) {
      throw new Error(`raft: message for ${message.to} stepped into ${this.raft.id}; route by 'to'`);
    }
    if (message.type === 'propose' || message.type === 'readIndex') {
      if (message.term !== 0) return; // only forwarded requests travel without a term
    }
    this.raft.step(message);
  }

  campaign(): MaybeRaftError {
    if (!this.raft.promotable()) {
      return new RaftError('RAFT_PROPOSAL_DROPPED', 'campaign: this member is not a voter', false);
    }
    if (this.raft.role !== 'leader') this.raft.campaign(this.raft.config.preVote ? 'preElection' : 'election');
    return undefined;
  }

  propose(data: Uint8Array): MaybeRaftError {
    return this.proposeEntry('normal', data);
  }

  proposeConfChange(change: ConfChange): MaybeRaftError {
    const leaderState = this.raft.leaderState;
    if (leaderState !== undefined) {
      const rejection = leaderState.confChangeRejection(change);
      if (rejection !== undefined) {
        return new RaftError('RAFT_CONF_CHANGE_REJECTED', `conf change: ${rejection.reason}`, rejection.retryable);
      }
    }
    return this.proposeEntry('confChange', encodeConfChange(change));
  }

  private proposeEntry(type: 'normal' | 'confChange', data: Uint8Array): MaybeRaftError {
    const raft = this.raft;
    if (raft.role === 'leader') {
      const leaderState = raft.leaderState!;
      if (leaderState.leadTransferee !== NO_NODE) {
        return new RaftError('RAFT_PROPOSAL_DROPPED', 'propose: leadership is being transferred; retry shortly', true, leaderState.leadTransferee);
      }
      if (!raft.promotable()) {
        return new RaftError('RAFT_PROPOSAL_DROPPED', 'propose: this leader is being removed from the cluster', true);
      }
      if (leaderState.exceedsUncommittedLimit(data.byteLength)) {
        return new RaftError('RAFT_UNCOMMITTED_LIMIT', `propose: more than ${raft.config.maxUncommittedBytes} uncommitted bytes; retry once the log drains`, true, raft.id);
      }
      raft.proposeAsLeader([{ type, data }]);
      return undefined;
    }
    if (raft.leader === NO_NODE) return noLeader('propose');
    raft.send({
      type: 'propose', from: raft.id, to: raft.leader, term: 0,
      entries: [{ term: 0, index: 0, type, data }],
    });
    return undefined;
  }

  readIndex(context: string): MaybeRaftError {
    const raft = this.raft;
    if (raft.role === 'leader') {
      raft.leaderState!.readIndex(context, raft.id);
      return undefined;
    }
    if (raft.leader === NO_NODE) return noLeader('readIndex');
    raft.send({ type: 'readIndex', from: raft.id, to: raft.leader, term: 0, context });
    return undefined;
  }

  transferLeadership(to: NodeId): MaybeRaftError {
    const raft = this.raft;
    if (raft.role !== 'leader') {
      return new RaftError('RAFT_NOT_LEADER', 'transferLeadership: only the leader can transfer leadership', true, raft.leader);
    }
    const leaderState = raft.leaderState!;
    if (to === raft.id) {
      leaderState.leadTransferee = NO_NODE; // already the leader: cancel any transfer
      return undefined;
    }
    if (!raft.log.confState().voters.includes(to)) {
      return new RaftError('RAFT_CONF_CHANGE_REJECTED', `transferLeadership: ${to} is not a voter`, false);
    }
    if (leaderState.leadTransferee !== to) leaderState.startTransfer(to);
    return undefined;
  }

  compact(index: Index, data: Uint8Array): MaybeRaftError {
    const log = this.raft.log;
    if (index > log.applied || index <= log.snapshotPosition().index) {
      return new RaftError(
        'RAFT_COMPACTION_REJECTED',
        `compact: index ${index} must be above the current snapshot (${log.snapshotPosition().index}) and at most the applied index (${log.applied})`,
        false,
      );
    }
    const metadata = log.compact(index);
    this.raft.snapshot = { metadata, data };
    return undefined;
  }

  /** The latest snapshot (from compact() or received from the leader), for the application to store. */
  latestSnapshot(): Snapshot | undefined {
    return this.raft.snapshot;
  }

  /** The connection to `id` closed; if it is this follower's leader, campaign soon (PreVote only). */
  reportLeaderLost(id: NodeId): void {
    this.raft.leaderLost(id);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.leaderState?.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, succeeded: boolean): void {
    this.raft.leaderState?.reportSnapshot(id, succeeded);
  }

  private softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    const raft = this.raft;
    const soft = this.softState();
    return (
      raft.leaderState?.hasOwedAppends === true ||
      raft.messages.length > 0 ||
      raft.messagesAfterPersist.length > 0 ||
      raft.readStates.length > 0 ||
      raft.log.hasUnstableEntries() ||
      raft.log.pendingSnapshot !== undefined ||
      raft.log.hasCommittedEntries() ||
      !isHardStateEqual(this.hardState(), this.lastHardState) ||
      soft.leader !== this.lastSoftState.leader ||
      soft.role !== this.lastSoftState.role
    );
  }

  ready(): Ready {
    const raft = this.raft;
    raft.leaderState?.flushAppends();
    const log = raft.log;
    const snapshot = log.pendingSnapshot;
    log.pendingSnapshot = undefined;
    const entries = log.takeUnstableEntries();
    const committedEntries = log.takeCommittedEntries(raft.config.maxCommittedBytesPerReady);
    const hardState = this.hardState();
    const hardStateChanged = !isHardStateEqual(hardState, this.lastHardState);
    const termOrVoteChanged = hardState.term !== this.lastHardState.term || hardState.vote !== this.lastHardState.vote;
    const soft = this.softState();
    const softChanged = soft.leader !== this.lastSoftState.leader || soft.role !== this.lastSoftState.role;
    this.lastHardState = hardState;
    this.lastSoftState = soft;
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardStateChanged ? { hardState } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
      entries,
      committedEntries,
      messages: raft.messages,
      messagesAfterPersist: raft.messagesAfterPersist,
      readStates: raft.readStates,
      mustSync: entries.length > 0 || termOrVoteChanged || snapshot !== undefined,
    };
    raft.messages = [];
    raft.messagesAfterPersist = [];
    raft.readStates = [];
    return rd;
  }

  advance(rd: Ready): void {
    const log = this.raft.log;
    if (rd.snapshot !== undefined && log.matchTerm(rd.snapshot.metadata.index, rd.snapshot.metadata.term)) {
      log.stableIndex = Math.max(log.stableIndex, Math.min(rd.snapshot.metadata.index, log.handedIndex));
    }
    log.stableTo(rd.entries);
    if (rd.snapshot !== undefined) log.appliedTo(rd.snapshot.metadata.index);
    const lastApplied = rd.committedEntries.at(-1)?.index;
    if (lastApplied !== undefined) log.appliedTo(lastApplied);
    if (this.raft.role === 'leader') {
      this.raft.leaderState!.selfPersisted(log.stableIndex);
      this.raft.maybeStepDownAfterRemoval();
    }
  }

  /** The leader this node knows of (NO_NODE when none): status().leader without the copy. */
  get leader(): NodeId {
    return this.raft.leader;
  }

  status(): Status {
    const raft = this.raft;
    const log = raft.log;
    const leaderState = raft.leaderState;
    const progress: Record<NodeId, { match: Index; next: Index; state: ProgressState }> = {};
    for (const [id, pr] of leaderState?.progress ?? []) progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    return {
      id: raft.id, term: raft.term, vote: raft.vote, commit: log.committed, applied: log.applied,
      role: raft.role, leader: raft.leader, firstIndex: log.firstIndex(), lastIndex: log.lastIndex(),
      confState: log.confState(), leadTransferee: leaderState?.leadTransferee ?? NO_NODE,
      ...(leaderState !== undefined ? { progress } : {}),
    };
  }

  logView(): LogView {
    const log = this.raft.log;
    const { index: snapshotIndex, term: snapshotTerm } = log.snapshotPosition();
    return {
      firstIndex: log.firstIndex(), lastIndex: log.lastIndex(), committed: log.committed, applied: log.applied,
      snapshotIndex, snapshotTerm,
      term: (i) => log.term(i),
      entries: (lo, hi) => log.slice(lo, hi),
    };
  }
}
