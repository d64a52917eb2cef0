// Starts real `cairn` member processes on loopback for multi-process tests and benchmarks:
// free ports, a temporary data dir per member, logs kept for failure reports, and a
// teardown that kills every process it started, even when a test fails.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../clients/rpc-client.js';

const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

export interface MemberProcess {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  child: ChildProcess | undefined;
  logs: string[];
}

/**
 * A port that was free a moment ago, for a member to listen on. It is chosen at random below
 * the kernel's ephemeral range: a port that port 0 hands out can be taken meanwhile as the
 * local port of any outgoing connection (parallel test files make many), and a member that
 * then fails with EADDRINUSE leaves its cluster without a leader.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (PORT_CEILING - PORT_FLOOR));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port); // Not handed out twice by this process, bound or not.
    return port;
  }
  return listenOnce(0);
}

const handedOut = new Set<number>();

/** Below Linux's default ephemeral range (32768-60999) and above most fixed services. */
const PORT_FLOOR = 20_000;
const PORT_CEILING = 32_000;

async function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(() => true, () => false);
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

export interface ClusterOptions {
  readonly size: number;
  readonly snapshotCount?: number;
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
}

export class TestCluster {
  readonly members: MemberProcess[] = [];
  private root = '';

  constructor(private readonly options: ClusterOptions) {}

  get electionMs(): number {
    return this.options.electionMs ?? 1000;
  }

  async create(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'cairn-it-'));
    for (let i = 1; i <= this.options.size; i++) {
      const [client, peer] = [await freePort(), await freePort()];
      this.members.push({
        name: `m${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`,
        dataDir: join(this.root, `m${i}.cairn`), child: undefined, logs: [],
      });
    }
  }

  initialCluster(): string {
    return this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  }

  /** Starts (or restarts) a member process with the same flags and data dir. */
  start(member: MemberProcess, extra: readonly string[] = []): void {
    const args = [
      MAIN, '--name', member.name, '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', this.initialCluster(), '--initial-cluster-token', 'cairn-it',
      '--heartbeat-interval', String(this.options.heartbeatMs ?? 100), '--election-timeout', String(this.electionMs),
      '--snapshot-count', String(this.options.snapshotCount ?? 10000), ...extra,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      member.logs.push(chunk.toString());
      if (member.logs.length > 2000) member.logs.splice(0, 1000);
    });
    member.child = child;
  }

  startAll(): void {
    for (const m of this.members) this.start(m);
  }

  /** SIGKILL: the process gets no chance to flush anything. */
  async kill(member: MemberProcess): Promise<void> {
    const child = member.child;
    member.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m)));
  }

  async destroy(): Promise<void> {
    await this.stopAll();
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }

  logsOf(member: MemberProcess): string {
    return member.logs.join('').split('\n').slice(-40).join('\n');
  }
}

/**
 * How long a test waits for what follows starting member processes: a fresh or restarted
 * cluster to agree on a leader, a restarted or new member to be healthy or caught up. It
 * includes the process's own start, which on a loaded 2-core machine (CI runs two test files
 * at once, each with its members) has taken several seconds; the wait ends as soon as the
 * condition holds.
 */
export const CLUSTER_START_MS = 45_000;

/** Polls `probe` every `everyMs` until it returns a value, failing after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline && attempt < 100_000; attempt++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The member every live member agrees leads, with its status. */
export async function findLeader(cluster: TestCluster, timeoutMs: number): Promise<MemberProcess> {
  return waitFor('a leader all live members agree on', timeoutMs, async () => {
    const live = cluster.members.filter((m) => m.child !== undefined);
    const leaders = new Set<string>();
    let leaderMember: MemberProcess | undefined;
    for (const m of live) {
      // A busy member may take more than a moment to answer; a short limit here would make
      // every probe fail while the cluster is in fact fine.
      const client = await RpcClient.connect(m.clientUrl, 2000);
      try {
        const status = await client.call<{ leaderId: string; memberId: string }>('cluster.status', {}, 2000);
        leaders.add(status.leaderId);
        if (status.leaderId !== '' && status.leaderId === status.memberId) leaderMember = m;
      } finally {
        client.close();
      }
    }
    return leaders.size === 1 && !leaders.has('') && leaderMember !== undefined ? leaderMember : undefined;
  });
}
