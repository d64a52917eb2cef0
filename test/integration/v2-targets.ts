// What the etcd v2 client tests (etcdctl, node-etcd) run against: a real cairn cluster by
// default, or the reference etcd 3.4 when V2_TARGET=etcd (to check the tests themselves
// against the behaviour they copy). Either way the cluster is stopped at teardown.
import type { Test } from 'tap';
import { startEtcd } from './etcd-reference.js';
import { startCluster } from './kv-helpers.js';

export type V2TargetKind = 'cairn' | 'etcd';

export interface V2Target {
  readonly kind: V2TargetKind;
  readonly clientUrls: readonly string[];
}

export function targetKind(): V2TargetKind {
  const wanted = process.env['V2_TARGET'] ?? 'cairn';
  if (wanted !== 'cairn' && wanted !== 'etcd') throw new Error(`V2_TARGET must be cairn or etcd, not ${wanted}`);
  return wanted;
}

/** Starts `size` members of the target kind; its teardown is registered on `t`. */
export async function startV2Target(t: Test, size: 1 | 3): Promise<V2Target> {
  const kind = targetKind();
  if (kind === 'etcd') return { kind, clientUrls: (await startEtcd(t, size)).clientUrls };
  const kv = await startCluster(t, [], { size });
  return { kind, clientUrls: kv.members.map((m) => m.clientUrl) };
}
