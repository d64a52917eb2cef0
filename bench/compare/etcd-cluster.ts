// Starts etcd 3.4 members (Debian's /usr/bin/etcd) on loopback for `npm run bench`: free ports,
// a temporary data dir, the same heartbeat and election timeout as the cairn members, and a
// teardown that kills every process it started. Shaped like test/integration's TestCluster.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../test/integration/processes.js';
import type { MemberProcess } from '../../test/integration/processes.js';
import { killChild } from './cleanup.js';

export class EtcdCluster {
  readonly members: MemberProcess[] = [];
  root = '';

  constructor(private readonly size: number, private readonly binary = 'etcd') {}

  async create(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'cairn-bench-etcd-'));
    for (let i = 1; i <= this.size; i++) {
      const [client, peer] = [await freePort(), await freePort()];
      this.members.push({
        name: `e${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`,
        dataDir: join(this.root, `e${i}.etcd`), child: undefined, logs: [],
      });
    }
  }

  private start(member: MemberProcess): void {
    const args = [
      '--name', member.name, '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', this.members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      '--initial-cluster-token', 'cairn-bench', '--initial-cluster-state', 'new',
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--logger', 'zap', '--log-level', 'warn',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      member.logs.push(chunk.toString());
      if (member.logs.length > 200) member.logs.splice(0, 100);
    });
    member.child = child;
  }

  /** Starts every member and waits until each says it is healthy (it has a leader). */
  async startAll(timeoutMs: number): Promise<void> {
    for (const m of this.members) this.start(m);
    for (const m of this.members) {
      await waitFor(`etcd ${m.name} healthy`, timeoutMs, async () => {
        const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        return body.health === 'true' ? true : undefined;
      }, 100);
    }
  }

  async kill(member: MemberProcess): Promise<void> {
    const child = member.child;
    member.child = undefined;
    await killChild(child);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m)));
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }
}
