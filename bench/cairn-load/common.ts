// What cairn-load's workloads share: the JSON-line output, the process's own CPU time, and
// one client per endpoint (each knowing every endpoint, as etcd-load's clientv3 does).
import { connect } from '../../clients/index.js';
import type { CairnClient } from '../../clients/index.js';
import type { LoadEvent, LoadOptions } from './options.js';

export function emit(event: LoadEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * One client per endpoint. Each is given every endpoint, its own first, so its streams and
 * serializable reads stay on that member (the load is spread as etcd-load's clientv3 spreads
 * it), while its writes and linearizable reads go to the leader as the client routes them.
 */
export async function perEndpoint(o: LoadOptions): Promise<CairnClient[]> {
  return Promise.all(o.endpoints.map((_, i) => connect({
    endpoints: [...o.endpoints.slice(i), ...o.endpoints.slice(0, i)],
    shuffleEndpoints: false,
    requestTimeoutMs: o.timeoutMs,
  })));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
