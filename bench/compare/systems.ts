// The two systems under test behind one face: a cairn cluster (test/integration's TestCluster:
// `node dist/server/main.js` members) or an etcd cluster, each on free loopback ports, each
// registered for cleanup from the moment it is created.
import { dirname } from 'node:path';
import { TestCluster, findLeader } from '../../test/integration/processes.js';
import type { MemberProcess } from '../../test/integration/processes.js';
import { EtcdCluster } from './etcd-cluster.js';
import { track } from './cleanup.js';
import type { Teardown } from './cleanup.js';

export const KINDS = ['cairn', 'etcd'] as const;
export type Kind = (typeof KINDS)[number];

export interface System extends Teardown {
  readonly kind: Kind;
  readonly size: number;
  endpoints(): string[];
  memberPids(): number[];
  /** SIGKILL of the member serving this client URL. */
  killEndpoint(endpoint: string): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

class Running implements System {
  constructor(
    readonly kind: Kind,
    readonly size: number,
    private readonly members: MemberProcess[],
    private readonly killMember: (m: MemberProcess) => Promise<void>,
    readonly destroy: () => Promise<void>,
  ) {}

  endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  memberPids(): number[] {
    return this.members.flatMap((m) => (m.child?.pid === undefined ? [] : [m.child.pid]));
  }

  pids(): number[] {
    return this.memberPids();
  }

  dirs(): string[] {
    return [...new Set(this.members.map((m) => dirname(m.dataDir)))];
  }

  async killEndpoint(endpoint: string): Promise<void> {
    const member = this.members.find((m) => m.clientUrl === endpoint);
    if (member === undefined) throw new Error(`no ${this.kind} member serves ${endpoint}`);
    await this.killMember(member);
  }
}

export async function startSystem(kind: Kind, size: number): Promise<System> {
  if (kind === 'cairn') {
    const cluster = new TestCluster({ size });
    const system = track(new Running(kind, size, cluster.members, (m) => cluster.kill(m), () => cluster.destroy()));
    await cluster.create();
    cluster.startAll();
    await findLeader(cluster, START_TIMEOUT_MS);
    return system;
  }
  const cluster = new EtcdCluster(size);
  const system = track(new Running(kind, size, cluster.members, (m) => cluster.kill(m), () => cluster.destroy()));
  await cluster.create();
  await cluster.startAll(START_TIMEOUT_MS);
  return system;
}
