// Closed-loop load: `clients` async workers each send one request and await it, over one
// client per endpoint, round robin per request (as etcd-load does with clientv3).
import type { CairnClient } from '../../clients/index.js';
import { percentile } from '../helpers.js';
import type { LoadOptions, LoadResult } from './options.js';
import { cpuSeconds, emit, perEndpoint } from './common.js';

type Op = (client: CairnClient, i: number) => Promise<unknown>;

function loadOp(o: LoadOptions): Op {
  const value = 'x'.repeat(o.valueSize);
  const timeoutMs = o.timeoutMs;
  switch (o.workload) {
    case 'put': return (c, i) => c.set(`${o.prefix}/${i}`, value, { timeoutMs });
    case 'get-ser': return (c, i) => c.get(`${o.prefix}/${i % o.keys}`, { consistency: 'serializable', timeoutMs });
    default: return (c, i) => c.get(`${o.prefix}/${i % o.keys}`, { timeoutMs }); // linearizable is the default
  }
}

/** Writes the keys a get workload reads, outside the measured window. */
async function preload(o: LoadOptions, client: CairnClient): Promise<void> {
  const value = 'x'.repeat(o.valueSize);
  for (let i = 0; i < o.keys; i++) await client.set(`${o.prefix}/${i}`, value);
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const clients = await perEndpoint(o);
  try {
    if (o.workload !== 'put') await preload(o, clients[0]!);
    const op = loadOp(o);
    const latencies: number[] = [];
    let issued = 0;
    let errors = 0;
    const cpu0 = cpuSeconds();
    emit({ event: 'start' });
    const start = performance.now();
    const deadline = start + o.seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && issued < o.total) {
        const i = issued++;
        const t0 = performance.now();
        try {
          await op(clients[i % clients.length]!, i);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: o.clients }, () => worker()));
    const seconds = (performance.now() - start) / 1000;
    emit({ event: 'end' });
    const clientCpuSec = cpuSeconds() - cpu0;
    latencies.sort((a, b) => a - b);
    return {
      workload: o.workload, ops: latencies.length, errors, seconds, opsPerSec: latencies.length / seconds,
      p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies.at(-1) ?? NaN, clientCpuSec,
    };
  } finally {
    for (const c of clients) c.close();
  }
}
