// A real etcd 3.4 (Debian's etcd-server, /usr/bin/etcd) as the reference for the v2 HTTP API
// tests: one or three members on 127.0.0.1 with free ports, --enable-v2, a temporary data
// dir, a bounded wait (≤ 30 s) for every member to report healthy, and a teardown that kills
// every process and removes the dir even when the test failed. A missing binary is a failure
// naming scripts/install-test-tools.sh, never a skip.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { freePort, waitFor } from './processes.js';

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';
const HEALTHY_WITHIN_MS = 30_000;

/** Throws (never skips) when a Debian etcd binary the v2 tests need is not installed. */
export function requireBinary(path: string): void {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run scripts/install-test-tools.sh as root (npm test runs it ` +
      'from "pretest"; it installs the Debian packages etcd-server and etcd-client)');
  }
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  child: ChildProcess | undefined;
  logs: string[];
}

/** SIGKILLs a child process unless it already ended, and waits until it has. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited.catch(() => undefined); // once() rejects if the child emits 'error' instead
}

/** An environment for etcd tools without ETCD_* / ETCDCTL_* variables that could redirect them. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCD') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return { ...env, ...extra };
}

export class EtcdReference {
  readonly members: EtcdMember[] = [];
  private root = '';

  constructor(private readonly size: 1 | 3) {}

  get clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Spawns every member and waits until each answers GET /health with {"health":"true"}. */
  async start(): Promise<void> {
    requireBinary(ETCD_BIN);
    this.root = await mkdtemp(join(tmpdir(), 'cairn-etcd-ref-'));
    for (let i = 1; i <= this.size; i++) {
      const [client, peer] = [await freePort(), await freePort()];
      this.members.push({ name: `e${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, child: undefined, logs: [] });
    }
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of this.members) this.spawnMember(m, initialCluster);
    const outcome = await waitFor(`etcd ${this.clientUrls.join(',')} healthy`, HEALTHY_WITHIN_MS, async () => {
      for (const m of this.members) {
        if (m.child === undefined || m.child.exitCode !== null) return `etcd ${m.name} exited early`;
        const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
        const body = await res.text();
        if (res.status !== 200 || !body.includes('"true"')) return undefined;
      }
      return 'healthy';
    }, 100).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
    if (outcome !== 'healthy') {
      throw new Error(`${outcome}\n${this.members.map((m) => `${m.name}:\n${this.logsOf(m)}`).join('\n')}`);
    }
  }

  private spawnMember(m: EtcdMember, initialCluster: string): void {
    const args = [
      '--name', m.name, '--data-dir', join(this.root, m.name), '--enable-v2',
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-token', 'cairn-etcd-ref',
      '--initial-cluster-state', 'new', '--heartbeat-interval', '100', '--election-timeout', '1000',
    ];
    const child = spawn(ETCD_BIN, args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      m.logs.push(chunk.toString());
      if (m.logs.length > 2000) m.logs.splice(0, 1000);
    });
    child.on('error', (error) => m.logs.push(`spawn error: ${error.message}\n`));
    m.child = child;
  }

  /** Kills every member (SIGKILL: nothing of it is worth keeping) and removes the data dir. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map(async (m) => {
      const child = m.child;
      m.child = undefined;
      if (child !== undefined) await killChild(child);
    }));
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }

  logsOf(m: EtcdMember): string {
    return m.logs.join('').split('\n').slice(-30).join('\n');
  }
}

/** Starts a reference etcd whose teardown is registered on `t` before anything is spawned. */
export async function startEtcd(t: Test, size: 1 | 3 = 1): Promise<EtcdReference> {
  const etcd = new EtcdReference(size);
  t.teardown(async () => {
    if (!t.passing()) for (const m of etcd.members) t.comment(`etcd ${m.name} log:\n${etcd.logsOf(m)}`);
    await etcd.destroy();
  });
  await etcd.start();
  return etcd;
}
