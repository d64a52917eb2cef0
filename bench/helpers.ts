// What the cluster benchmarks share: a 3-member cluster on loopback that is always torn down,
// and percentiles of sorted latencies.
import { TestCluster, findLeader } from '../test/integration/processes.js';
import type { MemberProcess } from '../test/integration/processes.js';

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** Runs `body` against a fresh 3-member cluster with a known leader; stops every process after. */
export async function withCluster<T>(body: (cluster: TestCluster, leader: MemberProcess) => Promise<T>): Promise<T> {
  const cluster = new TestCluster({ size: 3 });
  try {
    await cluster.create();
    cluster.startAll();
    return await body(cluster, await findLeader(cluster, 20_000));
  } finally {
    await cluster.destroy();
  }
}
