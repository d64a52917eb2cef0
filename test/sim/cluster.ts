// The simulated cluster: members, network, disks and the event loop that drives them on
// virtual time, with the checker consulted after every step. It offers the operations the
// scenario uses (crash, restart, propose, read, transfer, membership change) and nothing
// decides *when* to use them: that is scenario.ts, faults.ts and workload.ts.
import type { ConfChange, ConfState, Entry, MaybeRaftError, Message, NodeId, Ready, ReadState, Snapshot } from '../../core/raft/index.js';
import { decodeConfChange } from '../../core/raft/index.js';
import { Checker } from './checker.js';
import type { EntryId, MemberObservation } from './checker.js';
import { EventQueue } from './clock.js';
import { Coverage } from './coverage.js';
import { Disk } from './disk.js';
import type { DiskLatency } from './disk.js';
import { entryHash } from './hash.js';
import { Member } from './member.js';
import type { MemberConfig, MemberHost } from './member.js';
import { Network } from './network.js';
import type { DropReason, NetworkHost } from './network.js';
import { Rng } from './rng.js';
import type { AppliedEntry, StateMachine } from './state-machine.js';
import { Trace, describeMessage } from './trace.js';

export interface ClusterOptions {
  readonly seed: number;
  readonly tickMs: number;
  /** Delay between "a Ready is available" and the member taking it (batches inputs). */
  readonly readyDelayMs: number;
  readonly member: MemberConfig;
  readonly disk: DiskLatency;
  /** A run that needs more steps than this is itself a failure (runaway message storm). */
  readonly maxSteps: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sees every step right after the checker did; may act at once (before any delivery). */
export type StepObserver = (member: Member, obs: MemberObservation) => void;

export class Cluster implements NetworkHost, MemberHost {
  readonly queue = new EventQueue();
  readonly checker: Checker;
  readonly coverage = new Coverage();
  /** The leader-churn fault watches elections through this (see churn.ts). */
  stepObserver: StepObserver | undefined;
  readonly network: Network;
  readonly members = new Map<NodeId, Member>();
  /** Members whose removal some member applied (so: committed). */
  readonly removed = new Set<NodeId>();
  /** The newest configuration known committed, and where. */
  committedConf: { index: number; conf: ConfState } = { index: 0, conf: { voters: [], learners: [] } };
  private readonly rng: Rng;
  private readonly diskRng: Rng;
  private readonly nodeRng: Rng;
  private readonly watched = new Map<string, boolean>();
  private readSeq = 0;
  /** Probability that a disk sync is interrupted by a power loss (0 outside the chaos phase). */
  powerLossRate = 0;

  constructor(
    readonly options: ClusterOptions,
    readonly trace: Trace,
  ) {
    const root = new Rng(options.seed);
    this.rng = root.fork();
    this.diskRng = root.fork();
    this.nodeRng = root.fork();
    this.checker = new Checker(options.seed);
    this.network = new Network(this.queue, root.fork(), this);
  }

  get now(): number {
    return this.queue.now;
  }

  /** Member ids in sorted order: the one iteration order every decision uses. */
  ids(): NodeId[] {
    return [...this.members.keys()].sort();
  }

  upMembers(): Member[] {
    return this.ids().map((id) => this.members.get(id)!).filter((m) => m.isUp());
  }

  member(id: NodeId): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`cluster: no member ${id}`);
    return m;
  }

  /** Creates a member; initial members get the bootstrap voter list. */
  addMember(id: NodeId, bootstrapVoters?: readonly NodeId[]): Member {
    const disk = new Disk(this.queue, this.diskRng.fork(), this.options.disk, (vote) => this.powerLoss(id, vote));
    const member = new Member(id, disk, this.options.member, this, bootstrapVoters);
    this.members.set(id, member);
    return member;
  }

  start(id: NodeId): void {
    const member = this.member(id);
    if (member.isUp() || member.retired) return;
    member.start(this.nodeRng.generator());
    this.checker.observeRestart(member.observe()!, member.sm.appliedIndex);
    this.record(`${id} start #${member.incarnation} (commit ${member.node!.logView().committed}, applied ${member.sm.appliedIndex})`);
    this.scheduleTick(member, member.incarnation);
    this.scheduleReady(member);
  }

  /** Voters of the committed configuration and of the current leader's, together. */
  knownVoters(): NodeId[] {
    const voters = new Set(this.committedConf.conf.voters);
    for (const id of this.leader()?.node!.status().confState.voters ?? []) voters.add(id);
    return [...voters].sort();
  }

  /** Whether crashing `id` leaves a majority of the known voters up (liveness stays possible). */
  mayCrash(id: NodeId): boolean {
    const voters = this.knownVoters();
    if (!voters.includes(id)) return true;
    const down = voters.filter((v) => !this.members.get(v)?.isUp()).length;
    return down + 1 <= Math.floor((voters.length - 1) / 2);
  }

  crash(id: NodeId): void {
    const member = this.member(id);
    if (!member.isUp()) return;
    const lost = member.disk.pending();
    member.crash();
    this.record(`${id} CRASH (${lost} unsynced writes lost)`);
  }

  /** Removed from the cluster: shut down for good. */
  retire(id: NodeId): void {
    const member = this.member(id);
    if (member.retired) return;
    member.crash();
    member.retired = true;
    this.record(`${id} retired`);
  }

  /**
   * Asked by a disk just before a sync completes: with probability powerLossRate the member
   * loses power right there (the write is lost) and comes back shortly. Crashing exactly
   * when a vote or an acknowledged entry is not yet durable is what exposes a member that
   * acted on state before persisting it; crashes at random times almost never hit that.
   * Vote writes are hit ten times as often, and the member often reboots at once, so that
   * it can meet the same election again with its vote forgotten.
   */
  private powerLoss(id: NodeId, changesVote: boolean): boolean {
    const rate = Math.min(1, this.powerLossRate * (changesVote ? 10 : 1));
    if (rate === 0 || !this.rng.chance(rate) || !this.mayCrash(id)) return false;
    this.crash(id);
    const downMs = this.rng.chance(0.5) ? this.rng.int(0, 20) : this.rng.int(20, 500);
    this.queue.after(downMs, () => this.start(id));
    return true;
  }

  /** Up members that believe they lead, sorted by id. */
  leaders(): Member[] {
    return this.upMembers().filter((m) => m.node!.status().role === 'leader');
  }

  /** The leader with the highest term, if any member leads. */
  leader(): Member | undefined {
    let best: Member | undefined;
    let bestTerm = -1;
    for (const m of this.leaders()) {
      const term = m.node!.status().term;
      if (term > bestTerm) [best, bestTerm] = [m, term];
    }
    return best;
  }

  /** Proposes `data` through member `id`; the error (if any) is the caller's to handle. */
  propose(id: NodeId, data: string): MaybeRaftError {
    return this.call(id, `propose ${data}`, (m) => m.node!.propose(encoder.encode(data)));
  }

  /** Issues a linearizable read on `id`; returns its context, or the error. */
  readIndex(id: NodeId): MaybeRaftError | string {
    const context = `${id}:r${++this.readSeq}`;
    const err = this.call(id, `readIndex ${context}`, (m) => m.node!.readIndex(context));
    if (err !== undefined) return err;
    this.checker.observeReadIssued(context);
    return context;
  }

  transferLeadership(id: NodeId, to: NodeId): MaybeRaftError {
    return this.call(id, `transferLeadership to ${to}`, (m) => m.node!.transferLeadership(to));
  }

  proposeConfChange(id: NodeId, change: ConfChange): MaybeRaftError {
    return this.call(id, `confChange ${change.type} ${change.nodeId}`, (m) => m.node!.proposeConfChange(change));
  }

  /** Runs one client call on an up member as a step. */
  private call(id: NodeId, what: string, fn: (m: Member) => MaybeRaftError): MaybeRaftError {
    const member = this.member(id);
    if (!member.isUp()) throw new Error(`cluster: ${what} on ${id}, which is down`);
    const err = fn(member);
    this.stepDone(member, `${id} ${what}${err === undefined ? '' : ` -> ${err.code}`}`);
    return err;
  }

  /** Notes when an entry carrying `data` is applied anywhere (liveness probe). */
  watch(data: string): void {
    this.watched.set(data, false);
  }

  wasApplied(data: string): boolean {
    return this.watched.get(data) === true;
  }

  /** Runs events until virtual time `until` or the first violation. */
  runUntil(until: number): void {
    for (;;) {
      if (!this.checker.ok()) return;
      const next = this.queue.peekTime();
      if (next === undefined || next > until) break;
      if (this.checker.step >= this.options.maxSteps) {
        this.checker.fail('Bounded Run', [], `more than ${this.options.maxSteps} steps by ${this.now}ms`);
        return;
      }
      const event = this.queue.pop()!;
      this.checker.beginStep(event.time);
      event.run();
    }
    this.queue.now = Math.max(this.queue.now, until);
  }

  /** A step that touched no single member (a fault, a network change). */
  record(text: string): void {
    this.trace.record(this.now, this.checker.step, text);
  }

  private scheduleTick(member: Member, incarnation: number): void {
    this.queue.after(this.options.tickMs, () => {
      if (member.incarnation !== incarnation || !member.isUp()) return;
      member.node!.tick();
      this.stepDone(member, `${member.id} tick`);
      this.scheduleTick(member, incarnation);
    });
  }

  private scheduleReady(member: Member): void {
    if (member.readyScheduled || !member.canTakeReady()) return;
    member.readyScheduled = true;
    const incarnation = member.incarnation;
    this.queue.after(this.options.readyDelayMs, () => {
      if (member.incarnation !== incarnation) return;
      member.readyScheduled = false;
      if (member.canTakeReady()) member.takeReady();
    });
  }

  // ---- MemberHost: what members report ----

  send(m: Message): void {
    this.network.send(m);
  }

  stepDone(member: Member, text: string): void {
    this.record(text);
    const obs = member.observe();
    if (obs === undefined) return;
    this.checker.observeMember(obs);
    if (obs.role === 'leader' && Coverage.mayBeOldTermWindow(obs.term, obs.log)) this.observeLeaderCoverage(member, obs);
    this.stepObserver?.(member, obs);
    this.scheduleReady(member);
  }

  /** A leader whose first uncommitted entry is from an earlier term: is it Figure 8's window? */
  private observeLeaderCoverage(member: Member, obs: MemberObservation): void {
    const status = member.node!.status();
    const others = this.upMembers().filter((m) => m !== member).map((m) => m.node!.logView());
    this.coverage.observeLeader({
      term: obs.term, log: obs.log, voters: status.confState.voters,
      match: (id) => status.progress?.[id]?.match ?? 0,
    }, others);
  }

  readyTaken(member: Member, rd: Ready, prevTerm: number | undefined): void {
    if (rd.entries.length > 0) this.checker.observeEntries(member.id, entryIds(rd.entries), prevTerm);
  }

  applied(member: Member, entry: Entry, result: AppliedEntry): void {
    this.checker.observeApply(member.id, member.incarnation, result.index, result.hash, result.digest);
    if (entry.type === 'confChange' && entry.index > this.committedConf.index) {
      this.committedConf = { index: entry.index, conf: member.conf };
    }
    if (entry.type === 'confChange') {
      const change = decodeConfChange(entry.data);
      if (change.type === 'removeNode') this.removed.add(change.nodeId);
    }
    if (entry.type === 'normal' && this.watched.size > 0) {
      const data = decoder.decode(entry.data);
      if (this.watched.has(data)) this.watched.set(data, true);
    }
  }

  snapshotInstalled(member: Member, snapshot: Snapshot, sm: StateMachine): void {
    const { index } = snapshot.metadata;
    if (sm.appliedIndex !== index) {
      this.checker.fail('State Machine Safety', [member.id],
        `${member.id} installed a snapshot whose metadata says ${index} but whose data is state at ${sm.appliedIndex}`);
    }
    this.checker.observeSnapshotInstalled(member.id, member.incarnation, index, sm.digest);
    if (index > this.committedConf.index) this.committedConf = { index, conf: snapshot.metadata.confState };
  }

  readServed(member: Member, read: ReadState): void {
    this.checker.observeReadServed(member.id, read.context, read.index);
  }

  removedSelf(member: Member): void {
    this.queue.after(0, () => this.retire(member.id));
  }

  // ---- NetworkHost: what the network reports ----

  deliver(m: Message): boolean {
    const member = this.members.get(m.to);
    if (member === undefined || !member.isUp()) return false;
    member.node!.step(m);
    this.stepDone(member, `deliver ${describeMessage(m)}`);
    if (m.type === 'snapshot') this.reportSnapshot(m, true);
    return true;
  }

  dropped(m: Message, reason: DropReason): void {
    this.record(`drop (${reason}) ${describeMessage(m)}`);
    if (m.type === 'snapshot') this.reportSnapshot(m, false);
    else if (m.type === 'append' && reason !== 'loss' && this.rng.chance(0.3)) this.reportUnreachable(m);
  }

  /** The transport tells the sender how a snapshot fared, as etcd's does. */
  private reportSnapshot(m: Message, succeeded: boolean): void {
    const sender = this.members.get(m.from);
    if (sender === undefined || !sender.isUp()) return;
    const incarnation = sender.incarnation;
    this.queue.after(1, () => {
      if (sender.incarnation !== incarnation || !sender.isUp()) return;
      sender.node!.reportSnapshot(m.to, succeeded);
      this.stepDone(sender, `${m.from} reportSnapshot ${m.to} ${succeeded ? 'ok' : 'failed'}`);
    });
  }

  private reportUnreachable(m: Message): void {
    const sender = this.members.get(m.from);
    if (sender === undefined || !sender.isUp()) return;
    const incarnation = sender.incarnation;
    this.queue.after(1, () => {
      if (sender.incarnation !== incarnation || !sender.isUp()) return;
      sender.node!.reportUnreachable(m.to);
      this.stepDone(sender, `${m.from} reportUnreachable ${m.to}`);
    });
  }
}

function entryIds(entries: readonly Entry[]): EntryId[] {
  return entries.map((e) => ({ index: e.index, term: e.term, hash: entryHash(e) }));
}
