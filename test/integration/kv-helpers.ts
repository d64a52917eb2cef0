// Shared pieces of the black-box kv tests over a real 3-member cluster: one cluster per test
// file (stopped at teardown, its logs printed when a test failed), clients that are closed at
// teardown, errors in a shape one exact assertion can check, notifications collected per
// subscription with a bounded wait, and plain HTTP GETs on a member's client port.
import type { Test } from 'tap';
import { RpcClient, RpcError } from '../../clients/rpc-client.js';
import type { ClusterStatus, KvEvent, KvResult, SubscriptionParams, WatchStarted } from '../../core/api/types.js';
import { CLUSTER_START_MS, TestCluster, findLeader, waitFor } from './processes.js';
import type { ClusterOptions, MemberProcess } from './processes.js';

export type { ClusterStatus, KvEvent, KvResult, SubscriptionParams, WatchStarted };
export { CLUSTER_START_MS, RpcClient, RpcError, waitFor };
export type { MemberProcess };

/** A started cluster and every client opened through it (all closed at teardown). */
export class KvCluster {
  private readonly clients = new Set<RpcClient>();
  leader!: MemberProcess;

  constructor(readonly cluster: TestCluster) {}

  get members(): MemberProcess[] {
    return this.cluster.members;
  }

  /** The live members other than the leader. */
  followers(): MemberProcess[] {
    return this.cluster.members.filter((m) => m !== this.leader && m.child !== undefined);
  }

  async connect(member: MemberProcess): Promise<RpcClient> {
    const client = await RpcClient.connect(member.clientUrl);
    this.clients.add(client);
    return client;
  }

  /** One client per member, in cluster.members order. */
  connectAll(): Promise<RpcClient[]> {
    return Promise.all(this.cluster.members.map((m) => this.connect(m)));
  }

  /** Waits for a leader all live members agree on and remembers it. */
  async electLeader(timeoutMs = CLUSTER_START_MS): Promise<MemberProcess> {
    this.leader = await findLeader(this.cluster, timeoutMs);
    return this.leader;
  }

  async destroy(): Promise<void> {
    for (const c of this.clients) c.close();
    this.clients.clear();
    await this.cluster.destroy();
  }
}

/**
 * Starts a cluster of `size` members with `extraArgs` on every member, waits for a leader, and
 * registers its teardown on `t` before anything is spawned, so nothing outlives the test.
 */
export async function startCluster(t: Test, extraArgs: readonly string[] = [], options: Partial<ClusterOptions> = {}): Promise<KvCluster> {
  const kv = new KvCluster(new TestCluster({ size: 3, ...options }));
  t.teardown(async () => {
    if (!t.passing()) {
      for (const m of kv.members) t.comment(`${m.name} log:\n${kv.cluster.logsOf(m)}`);
    }
    await kv.destroy();
  });
  await kv.cluster.create();
  for (const m of kv.members) kv.cluster.start(m, extraArgs);
  await kv.electLeader();
  return kv;
}

/** An RPC failure as one object, for one exact `t.same`. */
export interface Failure {
  code: number;
  cause?: unknown;
  index?: unknown;
}

/** The RpcError `promise` rejects with; throws if it resolves or fails otherwise. */
export async function rpcError(promise: Promise<unknown>): Promise<RpcError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error(`expected an RPC error, got the result ${JSON.stringify(result)}`);
}

/** `{code, cause}` of the error `promise` rejects with (plus `index` when `withIndex`). */
export async function failure(promise: Promise<unknown>, withIndex = false): Promise<Failure> {
  const e = await rpcError(promise);
  const out: Failure = { code: e.code };
  if (e.data?.['cause'] !== undefined) out.cause = e.data['cause'];
  if (withIndex) out.index = e.data?.['index'];
  return out;
}

/** The store index a member has applied (cluster.status `index`). */
export async function storeIndex(client: RpcClient): Promise<number> {
  return (await client.call<ClusterStatus>('cluster.status')).index;
}

/** Every `subscription` notification a client receives, by subscription id, in arrival order. */
export class Notifications {
  private readonly bySub = new Map<string, SubscriptionParams[]>();

  constructor(client: RpcClient, private readonly onEach: (p: SubscriptionParams) => void = () => {}) {
    client.onNotification = (p) => {
      const list = this.bySub.get(p.subscription) ?? [];
      list.push(p as SubscriptionParams);
      this.bySub.set(p.subscription, list);
      this.onEach(p as SubscriptionParams);
    };
  }

  of(subscription: string): SubscriptionParams[] {
    return this.bySub.get(subscription) ?? [];
  }

  /** The `result`s of a subscription (its events and progress notices). */
  results<T = KvEvent>(subscription: string): T[] {
    return this.of(subscription).map((p) => p.result as T);
  }

  /** Waits (bounded) until `subscription` has at least `count` notifications; returns them all. */
  async atLeast(subscription: string, count: number, timeoutMs = 10_000): Promise<SubscriptionParams[]> {
    return waitFor(`${count} notifications on subscription ${subscription} (have ${this.of(subscription).length})`, timeoutMs,
      async () => (this.of(subscription).length >= count ? this.of(subscription) : undefined), 10);
  }
}

/** GET `path` on a member's client port: status, content type and body text. */
export async function httpGet(member: MemberProcess, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(new URL(path, member.clientUrl), { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The value of one sample line of Prometheus text, by name and labels (in any order). */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v) && have.size === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

/** The event an event-shaped result holds, without the fields a kv write adds (raftIndex, raftTerm). */
export function asEvent(r: KvResult | KvEvent): KvEvent {
  const e: KvEvent = { action: r.action, node: r.node, index: r.index };
  if (r.prevNode !== undefined) e.prevNode = r.prevNode;
  return e;
}
