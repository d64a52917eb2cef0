// What cairn-load's workloads share: the JSON-line output, the process's own CPU time, and
// one client per endpoint.
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

/** One client per endpoint, each bound to its member: the load is spread as etcd-load's is. */
export async function perEndpoint(o: LoadOptions): Promise<CairnClient[]> {
  return Promise.all(o.endpoints.map((ep) => connect({ endpoints: [ep], requestTimeoutMs: o.timeoutMs })));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
