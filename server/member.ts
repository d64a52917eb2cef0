// One cairn member: the host around the pure Raft core. It owns the I/O the core must not
// do — the data dir, the write-ahead log, snapshot files, peer connections and the tick
// timer — and runs the Ready loop: send what may go at once, persist, send what had to wait
// for durability, apply in order, advance. Callers reach the log through proposer.ts.
import { join } from 'node:path';
import { newRequestId } from './request-id.js';
import type { ConfChange, HardState, Message, RawNode, Ready } from '../core/raft/index.js';
import { DataDir, SnapshotStore, Wal, toPersistedState } from '../core/storage/index.js';
import { PeerTransport } from '../core/transport/index.js';
import { ApplyPipeline } from './apply.js';
import type { ApplyResult } from './apply.js';
import { createRawNode, discoverClusterId, pathExists } from './bootstrap.js';
import { Proposer } from './proposer.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { MemberError, noLeader } from './errors.js';
import type { MemberFlags } from './flags.js';
import { clusterIdFor, memberIdFor } from './identity.js';
import type { Logger } from './log.js';
import { VERSION } from './member-status.js';
import type { MemberStatus } from './member-status.js';
import type { MemberApi } from './member-api.js';
import type { Store } from '../core/store/index.js';
import { LeaderClock } from './leader-clock.js';
import { MemberMetrics } from './metrics.js';
import { PeerStats } from './peer-stats.js';
import type { Command, KvWrite, MemberInfo } from './state-machine.js';
import { WatchHub } from './watch-hub.js';

/** How far apply may trail commit (entries) for GET /health to still say healthy. */
const HEALTH_MAX_APPLY_LAG = 1000;


export class Member implements MemberApi {
  private ticker: NodeJS.Timeout | undefined;
  private loopScheduled = false;
  private loopRunning = false;
  private stopped = false;
  readonly watchHub = new WatchHub();
  readonly metrics: MemberMetrics;
  readonly peerStats = new PeerStats();
  /** Open client connections, kept up to date by the client server (a metrics source). */
  connectionCount = 0;
  private readonly clock: LeaderClock;
  /** Gets commands into the log and reads past a ReadIndex barrier (proposer.ts). */
  private readonly proposer: Proposer;

  private constructor(
    readonly flags: MemberFlags,
    readonly memberId: string,
    readonly clusterId: string,
    private readonly node: RawNode,
    private readonly dataDir: DataDir,
    private readonly wal: Wal,
    private readonly snapshots: SnapshotStore,
    private readonly transport: PeerTransport,
    readonly apply: ApplyPipeline,
    private readonly logger: Logger,
    newestSnapshotIndex: number,
  ) {
    this.snapshotWriter = new SnapshotWriter(snapshots, wal, newestSnapshotIndex, (error) => this.fail(error));
    this.snapshotScheduler = new SnapshotScheduler({
      node, stateMachine: apply.stateMachine, writer: this.snapshotWriter, snapshotCount: flags.snapshotCount,
      logger, stopped: () => this.stopped,
    });
    this.metrics = new MemberMetrics({
      term: () => this.node.status().term,
      commitIndex: () => this.node.status().commit,
      appliedIndex: () => this.apply.appliedIndex,
      storeIndex: () => this.store.index,
      isLeader: () => this.node.leader === this.memberId,
      hasLeader: () => this.node.leader !== '',
      connections: () => this.connectionCount,
      watchers: () => this.watchHub.size,
    });
    this.proposer = new Proposer({
      node, apply, metrics: this.metrics, schedule: () => this.schedule(), stopped: () => this.stopped,
      canReach: (id) => id === this.memberId || this.transport.isOpenTo(id),
    });
    this.clock = new LeaderClock({
      leaderTerm: () => { const s = this.node.status(); return s.leader === this.memberId ? s.term : undefined; },
      nextDeadline: () => this.store.nextDeadline(),
      propose: (command) => this.propose(command),
      onError: (message) => this.logger.log('warn', message),
    });
    apply.onEvents = (events) => this.watchHub.notify(events);
    apply.onStoreReplaced = () => { for (const w of this.watchHub.all()) w.reset(); };
    apply.onApplyDuration = (seconds) => this.metrics.observeApply(seconds);
  }

  /** Opens (or creates) the data dir, recovers, connects to peers and starts ticking. */
  static async start(flags: MemberFlags, logger: Logger): Promise<Member> {
    const token = flags.initialClusterToken;
    const initial = [...flags.initialCluster].map(([name, urls]) => ({
      id: memberIdFor(urls, token), name, peerUrls: urls.map(String), clientUrls: [] as string[],
    }));
    const selfId = memberIdFor(flags.initialAdvertisePeerUrls, token);
    const fresh = !(await pathExists(join(flags.dataDir, 'identity.json')));
    const expectedClusterId = flags.initialClusterState === 'existing' && fresh
      ? await discoverClusterId(flags, selfId, logger)
      : clusterIdFor(initial.map((m) => m.id), token);
    const { dataDir, created, warnings } = await DataDir.open(flags.dataDir, { memberId: selfId, clusterId: expectedClusterId, name: flags.name });
    for (const warning of warnings) logger.log('warn', warning);
    try {
      return await Member.recover(flags, logger, dataDir, created, initial);
    } catch (error) {
      await dataDir.close();
      throw error;
    }
  }

  private static async recover(
    flags: MemberFlags, logger: Logger, dataDir: DataDir, created: boolean, initial: MemberInfo[],
  ): Promise<Member> {
    const { memberId, clusterId } = dataDir.identity;
    const { wal, recovered, warnings } = await Wal.open(dataDir.walDir);
    const snapshots = new SnapshotStore(dataDir.snapDir);
    const loaded = await snapshots.loadNewest();
    for (const w of [...warnings, ...loaded.warnings]) logger.log('warn', w);
    const apply = new ApplyPipeline(memberId, logger, flags.eventHistory);
    const node = createRawNode(flags, logger, dataDir.identity, created, initial, apply, toPersistedState(recovered, loaded.snapshot), loaded.snapshot);
    const transport = new PeerTransport({
      memberId, clusterId, clusterToken: flags.initialClusterToken,
      listen: { host: flags.listenPeerUrls[0]!.hostname, port: Number(flags.listenPeerUrls[0]!.port) },
      peers: new Map(),
      onMessages: (messages) => member.onPeerMessages(messages),
      onUnreachable: (id) => { member.peerStats.unreachable(id); member.node.reportUnreachable(id); },
      onSnapshotStatus: (id, ok) => member.node.reportSnapshot(id, ok),
      onConnectionLost: (id) => member.onPeerConnectionLost(id),
      onConnected: () => member.proposer.peerConnected(),
      onLog: (level, message) => logger.log(level, message),
    });
    const member: Member = new Member(
      flags, memberId, clusterId, node, dataDir, wal, snapshots, transport, apply, logger, loaded.snapshot?.metadata.index ?? 0,
    );
    apply.onMembersChanged = () => member.syncPeers();
    member.syncPeers();
    try {
      await transport.start();
    } catch (error) {
      await wal.close();
      throw error;
    }
    member.ticker = setInterval(() => member.tick(), flags.heartbeatIntervalMs);
    member.clock.start();
    member.schedule();
    return member;
  }

  /** Connects the transport to every member the directory knows, and forgets removed ones. */
  private syncPeers(): void {
    const members = this.apply.stateMachine.members;
    for (const m of members.values()) {
      if (m.id !== this.memberId && m.peerUrls.length > 0) this.transport.addPeer(m.id, m.peerUrls[0]!);
    }
    for (const id of this.apply.stateMachine.removed) this.transport.removePeer(id);
  }

  private tick(): void {
    this.node.tick();
    this.schedule();
  }

  private onPeerMessages(messages: readonly Message[]): void {
    if (this.stopped) return;
    this.peerStats.received(messages);
    for (const m of messages) {
      if (m.to === this.memberId) this.node.step(m);
    }
    this.schedule();
  }

  /** A peer's socket closed: if it was our leader, campaign soon rather than after a timeout. */
  private onPeerConnectionLost(id: string): void {
    if (this.stopped) return;
    this.node.reportLeaderLost(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.loopScheduled || this.loopRunning || this.stopped) return;
    this.loopScheduled = true;
    setImmediate(() => void this.runReadyLoop());
  }

  /**
   * One Ready at a time, in order. While a Ready's fsync is in flight, new messages and
   * proposals pile up in the core and go out together in the next Ready: group commit.
   */
  private async runReadyLoop(): Promise<void> {
    this.loopScheduled = false;
    this.loopRunning = true;
    try {
      while (!this.stopped && this.node.hasReady()) {
        await this.handleReady(this.node.ready());
      }
    } catch (error) {
      this.fail(error as Error);
      return;
    } finally {
      this.loopRunning = false;
    }
    if (this.node.hasReady()) this.schedule();
  }

  /** A member that cannot persist must not go on: it could acknowledge what it lost. */
  private fail(error: Error): void {
    if (this.stopped) return;
    this.logger.log('error', `fatal: ${error.message}; stopping the member`);
    this.stopped = true;
    process.exitCode = 1;
    void this.stop();
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.leader);
    this.sendToPeers(rd.messages);
    if (rd.snapshot !== undefined) {
      await this.snapshotWriter.idle();
      await this.snapshots.save(rd.snapshot);
      await this.wal.saveSnapshotMarker(rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    await this.persist(rd);
    this.sendToPeers(rd.messagesAfterPersist);
    if (rd.snapshot !== undefined) {
      this.apply.restore(rd.snapshot);
      this.logger.log('info', `installed snapshot at ${rd.snapshot.metadata.index} from the leader`);
    }
    this.apply.applyEntries(rd.committedEntries);
    this.apply.completeReads(rd.readStates);
    if (this.staleOnLeaderChange !== undefined) {
      // Only after this Ready's entries are applied: what committed has been answered.
      const stale = this.staleOnLeaderChange;
      this.staleOnLeaderChange = undefined;
      this.apply.failStale(stale,
        () => new MemberError(302, 'the leader changed while this request was in flight; its outcome is unknown, read before retrying', true),
        () => noLeader('read: the leader changed'),
      );
    }
    this.node.advance(rd);
    this.snapshotScheduler.maybeBegin(this.apply.appliedIndex);
  }

  private sendToPeers(messages: readonly Message[]): void {
    this.peerStats.sent(messages);
    this.transport.send(messages);
  }

  /** A hard state whose only change was the commit index, not yet written. */
  private unsavedHardState: HardState | undefined;

  /**
   * Writes a Ready's entries and hard state with one fdatasync. A Ready that only moves the
   * commit index needs no sync (the commit index is volatile in Raft: after a restart the
   * leader re-announces it), so it rides along with the next write instead.
   */
  private async persist(rd: Ready): Promise<void> {
    if (!rd.mustSync) {
      if (rd.hardState !== undefined) this.unsavedHardState = rd.hardState;
      return;
    }
    const hardState = rd.hardState ?? this.unsavedHardState;
    this.unsavedHardState = undefined;
    const started = performance.now();
    await this.wal.save(hardState, rd.entries);
    this.metrics.observeFsync((performance.now() - started) / 1000);
  }

  private lastLeader = '';
  /** What was waiting when the leader moved to another member; failed at the end of the Ready. */
  private staleOnLeaderChange: { proposals: string[]; reads: string[] } | undefined;

  private onSoftState(leader: string): void {
    if (leader === '' || leader === this.lastLeader) return;
    if (this.lastLeader !== '') this.staleOnLeaderChange = this.apply.pendingIds();
    this.lastLeader = leader;
    this.metrics.leaderChanged();
    this.peerStats.leaderChanged(leader === this.memberId);
    if (leader === this.memberId) this.clock.tick();
    this.logger.log('info', `leader is ${leader === this.memberId ? 'this member' : leader} (term ${this.node.status().term})`);
    this.proposer.leaderKnown(leader);
    if (leader !== '') void this.publishSelf();
  }

  /** Writes this member's snapshots out in the background (snapshot-writer.ts). */
  private readonly snapshotWriter: SnapshotWriter;
  /** Begins snapshots and encodes them in slices between Readies (snapshot-scheduler.ts). */
  private readonly snapshotScheduler: SnapshotScheduler;

  private published = false;

  /** Tells the cluster this member's client URLs (as etcd members publish their attributes). */
  private async publishSelf(): Promise<void> {
    if (this.published || this.stopped) return;
    this.published = true;
    const self: MemberInfo = {
      id: this.memberId, name: this.flags.name,
      peerUrls: this.flags.initialAdvertisePeerUrls.map(String),
      clientUrls: this.flags.advertiseClientUrls.map(String),
    };
    try {
      await this.propose({ requestId: newRequestId(), op: 'publish', member: self });
    } catch (error) {
      this.published = false;
      this.logger.log('warn', `could not publish this member's attributes yet: ${(error as Error).message}; retrying in 1 s`);
      // Until it lands, other members cannot tell clients where this one serves them.
      setTimeout(() => void this.publishSelf(), 1000).unref();
    }
  }

  /** Replicates a command; resolves once it is applied here (so durable on a quorum). */
  propose(command: Command, timeoutMs?: number): Promise<ApplyResult> {
    return this.proposer.propose(command, timeoutMs);
  }

  /** A kv write through the log; `at` only dates the TTLs it sets (see state-machine.ts). */
  proposeKv(write: KvWrite, timeoutMs?: number): Promise<ApplyResult> {
    return this.proposer.propose({ requestId: newRequestId(), op: 'kv', at: Date.now(), write }, timeoutMs);
  }

  proposeConfChange(change: ConfChange, requestId: string, timeoutMs?: number): Promise<ApplyResult> {
    return this.proposer.proposeConfChange(change, requestId, timeoutMs);
  }

  /** A linearizable read barrier: resolves once this member applied everything committed before the call. */
  readBarrier(): Promise<number> {
    return this.proposer.readBarrier();
  }

  transferLeader(to: string): void {
    const error = this.node.transferLeadership(to);
    if (error !== undefined) throw new MemberError(300, `transferLeader: ${error.message}`, error.retryable);
    this.schedule();
  }

  /**
   * A leader is known and this member has applied (nearly) all it knows committed. A small
   * lag is allowed: under load, apply trails commit by one Ready, and /health must not flap.
   */
  caughtUp(): boolean {
    const s = this.node.status();
    return s.leader !== '' && s.commit - this.apply.appliedIndex <= HEALTH_MAX_APPLY_LAG;
  }

  status(): MemberStatus {
    const s = this.node.status();
    return {
      clusterId: this.clusterId, memberId: this.memberId, name: this.flags.name, leaderId: s.leader,
      term: s.term, commitIndex: s.commit, appliedIndex: this.apply.appliedIndex, index: this.store.index,
      version: VERSION,
    };
  }

  get clusterToken(): string {
    return this.flags.initialClusterToken;
  }

  /** The applied store: serializable reads (a linearizable read passes readBarrier first). */
  get store(): Store {
    return this.apply.stateMachine.store;
  }

  /** Resolves true once this member's store reached `index`, false after `timeoutMs`. */
  waitForStoreIndex(index: number, timeoutMs: number): Promise<boolean> {
    return this.apply.waitForStoreIndex(index, timeoutMs);
  }

  members(): MemberInfo[] {
    return [...this.apply.stateMachine.members.values()];
  }

  voters(): readonly string[] {
    return this.node.status().confState.voters;
  }

  /** Stops ticking, closes connections and the data dir. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    this.clock.stop();
    this.apply.failAll(new MemberError(300, 'the member is stopping', true));
    await this.transport.stop();
    // Let an in-flight WAL write finish before closing the files under it.
    for (let i = 0; i < 200 && this.loopRunning; i++) await new Promise((r) => setTimeout(r, 5));
    await this.snapshotWriter.idle();
    if (this.unsavedHardState !== undefined) await this.wal.save(this.unsavedHardState, []);
    await this.wal.close();
    await this.dataDir.close();
  }
}

