// One simulated member: a RawNode, its disk and its state machine, driven through the Ready
// contract of docs/raft-api.md in two phases. Phase 1 (ready taken): send rd.messages and
// issue the writes. Phase 2 (the writes synced): send rd.messagesAfterPersist, install the
// snapshot, apply committedEntries, advance. Anything may be stepped in between, which is
// the interleaving a real member with an asynchronous disk produces.
import type { ConfState, Entry, Index, Message, NodeId, RaftError, Ready, ReadState, Snapshot } from '../../core/raft/index.js';
import { RawNode, applyConfChange, decodeConfChange } from '../../core/raft/index.js';
import type { MemberObservation } from './checker.js';
import { Disk } from './disk.js';
import { StateMachine } from './state-machine.js';
import type { AppliedEntry } from './state-machine.js';

/** Raft knobs the scenario picks per run. */
export interface MemberConfig {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** How many Readies may be taken before the oldest is advanced (pipelined writes). */
  readonly maxReadiesInFlight: number;
  /** Take a state-machine snapshot (and compact) every this many applied entries. */
  readonly snapshotEvery: number;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
}

/** What a member reports to the cluster; the cluster routes it to network, checker, trace. */
export interface MemberHost {
  send(m: Message): void;
  /** One simulation step on this member finished: trace it, check it, look for a Ready. */
  stepDone(member: Member, text: string): void;
  readyTaken(member: Member, rd: Ready, prevTerm: number | undefined): void;
  applied(member: Member, entry: Entry, result: AppliedEntry): void;
  snapshotInstalled(member: Member, snapshot: Snapshot, sm: StateMachine): void;
  readServed(member: Member, read: ReadState): void;
  /** The member applied its own removal from the cluster. */
  removedSelf(member: Member): void;
}

const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export class Member {
  node: RawNode | undefined;
  /** Bumped on every start; events of an older incarnation are void. */
  incarnation = 0;
  /** Removed from the cluster and shut down for good. */
  retired = false;
  sm = new StateMachine();
  /** Membership as this member's applied log says (conf changes apply in order). */
  conf: ConfState = EMPTY_CONF;
  readyScheduled = false;
  private inFlight = 0;
  private lastSnapshotIndex: Index = 0;
  private pendingReads: ReadState[] = [];

  constructor(
    readonly id: NodeId,
    readonly disk: Disk,
    private readonly config: MemberConfig,
    private readonly host: MemberHost,
    /** Initial members re-bootstrap when they come back to an empty disk. */
    private readonly bootstrapVoters: readonly NodeId[] | undefined,
  ) {}

  isUp(): boolean {
    return this.node !== undefined;
  }

  /** Starts (or restarts) from the durable state on disk only. */
  start(random: () => number): void {
    const options = {
      id: this.id, random,
      electionTicks: this.config.electionTicks, heartbeatTicks: this.config.heartbeatTicks,
      maxSizePerMsgBytes: this.config.maxSizePerMsgBytes, maxInflightMsgs: this.config.maxInflightMsgs,
    };
    this.incarnation++;
    this.inFlight = 0;
    this.pendingReads = [];
    if (this.bootstrapVoters !== undefined && this.disk.isEmpty()) {
      // Nothing of the bootstrap ever became durable, so nothing was promised: start over.
      this.node = RawNode.bootstrap(options, this.bootstrapVoters);
      this.restoreState(undefined);
      return;
    }
    const state = this.disk.durableState();
    const applied = state.snapshot?.metadata.index ?? 0;
    this.node = RawNode.restart(options, { ...state, applied });
    this.restoreState(state.snapshot);
  }

  private restoreState(snapshot: Snapshot | undefined): void {
    this.sm = snapshot === undefined ? new StateMachine() : StateMachine.restore(snapshot.data);
    this.conf = snapshot?.metadata.confState ?? EMPTY_CONF;
    this.lastSnapshotIndex = snapshot?.metadata.index ?? 0;
  }

  /** Power loss: the node and every unsynced write are gone. */
  crash(): void {
    this.node = undefined;
    this.disk.crash();
    this.inFlight = 0;
    this.pendingReads = [];
    this.readyScheduled = false;
  }

  observe(): MemberObservation | undefined {
    const node = this.node;
    if (node === undefined) return undefined;
    const status = node.status();
    return { id: this.id, incarnation: this.incarnation, term: status.term, role: status.role, log: node.logView() };
  }

  canTakeReady(): boolean {
    return this.node !== undefined && this.inFlight < this.config.maxReadiesInFlight && this.node.hasReady();
  }

  /** Phase 1: send what may leave now and issue the writes. */
  takeReady(): void {
    const node = this.node!;
    const rd = node.ready();
    const first = rd.entries[0];
    const prevTerm = first === undefined ? undefined : node.logView().term(first.index - 1);
    this.host.readyTaken(this, rd, prevTerm);
    for (const m of rd.messages) this.host.send(m);
    this.pendingReads.push(...rd.readStates);
    this.inFlight++;
    const incarnation = this.incarnation;
    this.disk.issue({ snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState }, rd.mustSync, () => {
      if (incarnation === this.incarnation && this.node !== undefined) this.completeReady(rd);
    });
    this.host.stepDone(this, `${this.id} ready ${describeReady(rd)}`);
  }

  /** Phase 2: the Ready is durable; release its replies, apply, advance. */
  private completeReady(rd: Ready): void {
    const node = this.node!;
    this.inFlight--;
    for (const m of rd.messagesAfterPersist) this.host.send(m);
    if (rd.snapshot !== undefined) this.installSnapshot(rd.snapshot);
    for (const entry of rd.committedEntries) this.applyEntry(entry);
    node.advance(rd);
    this.serveReads();
    this.maybeSnapshot();
    const tail = rd.committedEntries.at(-1);
    this.host.stepDone(this, `${this.id} durable${tail === undefined ? '' : ` applied ..${tail.index}`}`);
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.sm = StateMachine.restore(snapshot.data);
    this.conf = snapshot.metadata.confState;
    this.lastSnapshotIndex = snapshot.metadata.index;
    this.host.snapshotInstalled(this, snapshot, this.sm);
  }

  private applyEntry(entry: Entry): void {
    const result = this.sm.apply(entry);
    let removedSelf = false;
    if (entry.type === 'confChange') {
      const change = decodeConfChange(entry.data);
      this.conf = applyConfChange(this.conf, change);
      removedSelf = change.type === 'removeNode' && change.nodeId === this.id;
    }
    this.host.applied(this, entry, result);
    if (removedSelf) this.host.removedSelf(this);
  }

  /** A ReadState is served once the state machine has caught up with its index. */
  private serveReads(): void {
    if (this.pendingReads.length === 0) return;
    const waiting: ReadState[] = [];
    for (const read of this.pendingReads) {
      if (this.sm.appliedIndex >= read.index) this.host.readServed(this, read);
      else waiting.push(read);
    }
    this.pendingReads = waiting;
  }

  /** Every few applied entries: persist a state-machine snapshot, then let Raft compact. */
  private maybeSnapshot(): void {
    const node = this.node!;
    const index = this.sm.appliedIndex;
    if (index - this.lastSnapshotIndex < this.config.snapshotEvery) return;
    const term = node.logView().term(index);
    if (term === undefined) return;
    const data = this.sm.snapshotData();
    const snapshot: Snapshot = { metadata: { index, term, confState: this.conf }, data };
    this.lastSnapshotIndex = index;
    const incarnation = this.incarnation;
    this.disk.issue({ snapshot, entries: [] }, true, () => {
      if (incarnation !== this.incarnation || this.node === undefined) return;
      const err: RaftError | undefined = this.node.compact(index, data);
      this.host.stepDone(this, `${this.id} compact ${index}${err === undefined ? '' : ` refused: ${err.code}`}`);
    });
  }
}

function span(entries: readonly Entry[]): string {
  const first = entries[0];
  return first === undefined ? '-' : `${first.index}..${entries.at(-1)!.index}`;
}

/** A one-line summary of a Ready for the trace. */
export function describeReady(rd: Ready): string {
  const parts = [`e=${span(rd.entries)}`, `c=${span(rd.committedEntries)}`];
  if (rd.hardState !== undefined) parts.push(`hs=${rd.hardState.term}/${rd.hardState.vote || '-'}/${rd.hardState.commit}`);
  if (rd.softState !== undefined) parts.push(`${rd.softState.role}(${rd.softState.leader || '-'})`);
  if (rd.snapshot !== undefined) parts.push(`snap=${rd.snapshot.metadata.index}`);
  parts.push(`m=${rd.messages.length}+${rd.messagesAfterPersist.length}`);
  if (rd.readStates.length > 0) parts.push(`reads=${rd.readStates.length}`);
  return parts.join(' ');
}
