// `npm run bench:kv`: the kv API through the TypeScript client on a real 3-member cluster
// (separate processes, real fsync): puts and linearizable gets with 64 in flight, through
// the leader and through a follower, and the time for 1,000 watchers on one key to see one
// change. Each phase is bounded in count and time; every process is stopped at the end.
import { connect } from '../clients/index.js';
import type { CairnClient } from '../clients/index.js';
import { percentile, withCluster } from './helpers.js';

const DURATION_MS = 5000;
const MAX_OPS = 500_000;
const IN_FLIGHT = 64;
const WATCHERS = 1000;
const WATCH_CLIENTS = 10;
const ROUNDS = 3;

interface Result { ops: number; perSecond: number; p50: number; p99: number }


async function load(op: (i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + DURATION_MS;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && issued < MAX_OPS) {
      const i = issued++;
      const t0 = performance.now();
      await op(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { ops: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

const show = (what: string, r: Result): void =>
  console.log(`${what}: ${r.perSecond.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.ops} ops)`);

async function throughput(name: string, client: CairnClient): Promise<void> {
  const value = 'x'.repeat(256);
  show(`put via ${name}, ${IN_FLIGHT} in flight, 256 B`, await load((i) => client.set(`/bench/${i % 1000}`, value)));
  show(`linearizable get via ${name}, ${IN_FLIGHT} in flight`, await load((i) => client.get(`/bench/${i % 1000}`)));
}

/** 1,000 watches on one key over 10 connections; ms from sending the write to the last event. */
async function watchFanout(endpoints: string[]): Promise<number> {
  const clients = await Promise.all(Array.from({ length: WATCH_CLIENTS }, (_, i) => connect({ endpoints: [endpoints[i % endpoints.length]!] })));
  const writer = await connect({ endpoints });
  try {
    const start = await writer.set('/bench/watched', 'before');
    const seen: Promise<number>[] = [];
    const streams = clients.flatMap((c) => Array.from({ length: WATCHERS / WATCH_CLIENTS }, () => c.watch('/bench/watched', { waitIndex: start.index + 1 })));
    for (const stream of streams) {
      seen.push((async () => {
        for await (const _event of stream) return performance.now();
        return NaN;
      })());
    }
    // The watches are registered once each has answered; a status round trip per client orders after them.
    await Promise.all(clients.map((c) => c.status()));
    await new Promise((r) => setTimeout(r, 200));
    // Measured from the moment the write is sent: a watcher on the leader can hear of the
    // change before the writer hears its answer.
    const sent = performance.now();
    await writer.set('/bench/watched', 'after');
    const times = await Promise.race([
      Promise.all(seen),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not every watcher saw the change within 30 s')), 30_000)),
    ]);
    return Math.max(...times) - sent;
  } finally {
    for (const c of [...clients, writer]) c.close();
  }
}

async function main(): Promise<void> {
  await withCluster(async (cluster, leader) => {
    const follower = cluster.members.find((m) => m !== leader)!;
    const viaLeader = await connect({ endpoints: [leader.clientUrl] });
    const viaFollower = await connect({ endpoints: [follower.clientUrl] });
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        console.log(`round ${round}`);
        await throughput('leader', viaLeader);
        await throughput('follower', viaFollower);
        const fanout = await watchFanout(cluster.members.map((m) => m.clientUrl));
        console.log(`${WATCHERS} watchers on one key (${WATCH_CLIENTS} connections, all members): all notified ${fanout.toFixed(1)} ms after the write was sent`);
      }
    } finally {
      viaLeader.close();
      viaFollower.close();
    }
  });
}

void main();
