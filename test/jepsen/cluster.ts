// A cluster for fault runs: real member processes (test/integration/processes.ts) whose peer
// traffic all goes through a PeerProxy. Each member listens on its real peer port but is
// advertised, and named in --initial-cluster, at its proxy port, so every dial between
// members crosses the proxy and can be cut. Adds kill -9 / restart, SIGSTOP / SIGCONT, a
// leader lookup that tolerates dead and paused members, and a stop that always leaves
// nothing running (stopped processes are continued before they are killed).
import { RpcClient } from '../../clients/rpc-client.js';
import type { ClusterStatus } from '../../core/api/types.js';
import { memberIdFor } from '../../server/identity.js';
import { TestCluster, freePort, waitFor } from '../integration/processes.js';
import type { MemberProcess } from '../integration/processes.js';
import { PeerProxy } from './proxy.js';

/** TestCluster's cluster token (its `--initial-cluster-token`); member ids derive from it. */
const CLUSTER_TOKEN = 'cairn-it';
const STATUS_TIMEOUT_MS = 500;

export interface FaultClusterOptions {
  readonly size: number;
  readonly electionMs?: number;
  readonly heartbeatMs?: number;
  readonly snapshotCount?: number;
  /** The members' --event-history (watch history kept for resumes). */
  readonly eventHistory?: number;
}

export class FaultCluster {
  readonly processes: TestCluster;
  readonly proxy: PeerProxy;
  /** Member name → its advertised (proxy) peer URL. */
  private readonly proxyUrls = new Map<string, string>();
  private readonly paused = new Set<string>();
  private readonly names = new Map<string, string>();
  private readonly extraArgs: string[];

  /** On process exit (a hard deadline, a signal), nothing may stay running or stopped. */
  private readonly onExit = (): void => {
    for (const m of this.processes.members) {
      m.child?.kill('SIGCONT');
      m.child?.kill('SIGKILL');
    }
  };

  private constructor(options: FaultClusterOptions) {
    this.processes = new TestCluster(options);
    this.extraArgs = options.eventHistory === undefined ? [] : ['--event-history', String(options.eventHistory)];
    this.proxy = new PeerProxy({ identify: (id) => this.names.get(id) });
    process.on('exit', this.onExit);
  }

  /** Creates, wires the proxy and starts every member; on any failure stops what started. */
  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const cluster = new FaultCluster(options);
    try {
      await cluster.processes.create();
      for (const m of cluster.processes.members) {
        const proxyPort = await cluster.proxy.listen(m.name, await freePort(), Number(new URL(m.peerUrl).port));
        const url = `http://127.0.0.1:${proxyPort}`;
        cluster.proxyUrls.set(m.name, url);
        cluster.names.set(memberIdFor([url], CLUSTER_TOKEN), m.name);
      }
      for (const m of cluster.processes.members) cluster.startMember(m);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get memberNames(): string[] {
    return this.processes.members.map((m) => m.name);
  }

  get endpoints(): string[] {
    return this.processes.members.map((m) => m.clientUrl);
  }

  member(name: string): MemberProcess {
    const m = this.processes.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** The --initial-cluster naming proxy URLs. */
  private initialCluster(): string {
    return this.memberNames.map((n) => `${n}=${this.proxyUrls.get(n)!}`).join(',');
  }

  /**
   * Starts a member through TestCluster.start, overriding its advertised peer URL and
   * --initial-cluster with the proxy's (the member's flag parser keeps the last value given).
   */
  private startMember(m: MemberProcess): void {
    this.processes.start(m, [
      '--initial-advertise-peer-urls', this.proxyUrls.get(m.name)!,
      '--initial-cluster', this.initialCluster(), ...this.extraArgs,
    ]);
  }

  isDown(name: string): boolean {
    return this.member(name).child === undefined;
  }

  isPaused(name: string): boolean {
    return this.paused.has(name);
  }

  /** kill -9 (continuing it first if paused). */
  async kill(name: string): Promise<void> {
    this.resume(name);
    await this.processes.kill(this.member(name));
  }

  /** Starts a killed member again with its data dir. */
  restart(name: string): void {
    const m = this.member(name);
    if (m.child === undefined) this.startMember(m);
  }

  pause(name: string): void {
    const child = this.member(name).child;
    if (child === undefined || this.paused.has(name)) return;
    child.kill('SIGSTOP');
    this.paused.add(name);
  }

  resume(name: string): void {
    if (!this.paused.delete(name)) return;
    this.member(name).child?.kill('SIGCONT');
  }

  /** Members running and not paused. */
  liveMembers(): string[] {
    return this.memberNames.filter((n) => !this.isDown(n) && !this.isPaused(n));
  }

  /** One member's status, or undefined if it does not answer within 500 ms. */
  async status(name: string): Promise<ClusterStatus | undefined> {
    try {
      const client = await RpcClient.connect(this.member(name).clientUrl, STATUS_TIMEOUT_MS);
      try {
        return await client.call<ClusterStatus>('cluster.status', {}, STATUS_TIMEOUT_MS);
      } finally {
        client.close();
      }
    } catch {
      return undefined;
    }
  }

  /** The live member that says it leads, in the highest term any says so; else undefined. */
  async leader(): Promise<string | undefined> {
    const live = this.liveMembers();
    const statuses = await Promise.all(live.map((n) => this.status(n)));
    let best: { name: string; term: number } | undefined;
    statuses.forEach((s, i) => {
      if (s === undefined || s.leaderId === '' || s.leaderId !== s.memberId) return;
      if (best === undefined || s.term > best.term) best = { name: live[i]!, term: s.term };
    });
    return best?.name;
  }

  /** Continues, restarts and heals everything, then waits (bounded) for every member to agree on a leader. */
  async healAll(timeoutMs: number): Promise<string> {
    this.proxy.heal();
    for (const n of this.memberNames) this.resume(n);
    for (const n of this.memberNames) this.restart(n);
    return waitFor('every member to agree on a leader', timeoutMs, async () => {
      const statuses = await Promise.all(this.memberNames.map((n) => this.status(n)));
      const leaders = new Set(statuses.map((s) => s?.leaderId ?? ''));
      if (leaders.size !== 1 || leaders.has('')) return undefined;
      const at = statuses.findIndex((s) => s !== undefined && s.leaderId === s.memberId);
      return at < 0 ? undefined : this.memberNames[at];
    }, 200);
  }

  /** The member name behind a member id (from cluster.status), if it is one of ours. */
  nameOf(memberId: string): string | undefined {
    return this.names.get(memberId);
  }

  /** Stops everything: continues paused members, kills all, closes the proxy, removes data. */
  async stop(): Promise<void> {
    for (const n of [...this.paused]) this.resume(n);
    await this.processes.destroy().catch(() => undefined);
    process.off('exit', this.onExit);
    await this.proxy.close().catch(() => undefined);
  }

  logsOf(name: string): string {
    return this.processes.logsOf(this.member(name));
  }
}
