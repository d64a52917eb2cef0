// `npm run bench:cluster`: a real 3-member cluster on loopback (separate processes, real
// fsync); writes/s and latency percentiles with 1 and with 64 writes in flight. The load
// is bounded in count and time, and every process is stopped at the end.
import { RpcClient } from '../clients/rpc-client.js';
import { percentile, withCluster } from './helpers.js';

const DURATION_MS = 5000;
const MAX_WRITES = 200_000;

interface Result { writes: number; perSecond: number; p50: number; p99: number }


async function load(client: RpcClient, inFlight: number): Promise<Result> {
  const latencies: number[] = [];
  const value = 'x'.repeat(256);
  const start = performance.now();
  const deadline = start + DURATION_MS;
  let issued = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline && issued < MAX_WRITES) {
      const i = issued++;
      const t0 = performance.now();
      await client.call('kv.set', { key: `/bench/${w}/${i % 1000}`, value });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { writes: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

async function main(): Promise<void> {
  await withCluster(async (_cluster, leader) => {
    const client = await RpcClient.connect(leader.clientUrl);
    try {
      await load(client, 8); // warm-up
      for (const inFlight of [1, 64]) {
        const r = await load(client, inFlight);
        console.log(`3 members, ${inFlight} in flight, 256 B values, ${DURATION_MS / 1000} s: ${r.perSecond.toFixed(0)} writes/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.writes} writes)`);
      }
    } finally {
      client.close();
    }
  });
}

void main();
