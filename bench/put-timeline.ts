// `node dist/bench/put-timeline.js --endpoints=URL,... [--clients=64] [--duration=20]`: where
// in time the slowest puts were. Puts `clients` at a time (256-byte values, distinct keys)
// against running members, then prints the p99 and, per 250 ms window of wall-clock time,
// how many puts at or above it started there and the worst of them. Compare the windows with
// the members' logs (a snapshot logs "snapshot at N; log compacted" when it is done) to see
// what the tail lines up with. Bounded in time and in puts; closes its clients at the end.
import { parseArgs } from 'node:util';
import { connect } from '../clients/index.js';

const WINDOW_MS = 250;
const MAX_PUTS = 2_000_000;

function options(): { endpoints: string[]; clients: number; seconds: number; valueSize: number } {
  const { values } = parseArgs({
    options: {
      endpoints: { type: 'string' }, clients: { type: 'string', default: '64' },
      duration: { type: 'string', default: '20' }, 'value-size': { type: 'string', default: '256' },
    },
  });
  const number = (name: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  if (values.endpoints === undefined) throw new Error('--endpoints is required: the client URLs of the members, comma-separated');
  return {
    endpoints: values.endpoints.split(','),
    clients: number('clients', values.clients),
    seconds: number('duration', values.duration),
    valueSize: number('value-size', values['value-size']),
  };
}

async function main(): Promise<void> {
  const o = options();
  // One client per endpoint, each knowing all of them, its own first (as bench/cairn-load).
  const clients = await Promise.all(o.endpoints.map((_, i) => connect({
    endpoints: [...o.endpoints.slice(i), ...o.endpoints.slice(0, i)], shuffleEndpoints: false,
  })));
  const value = 'x'.repeat(o.valueSize);
  const puts: { startedAt: number; ms: number }[] = [];
  const end = Date.now() + o.seconds * 1000;
  let issued = 0;
  try {
    await Promise.all(Array.from({ length: o.clients }, async (_, w) => {
      const client = clients[w % clients.length]!;
      while (Date.now() < end && issued < MAX_PUTS) {
        const i = issued++;
        const startedAt = Date.now();
        const t0 = performance.now();
        await client.set(`/timeline/k${i}`, value);
        puts.push({ startedAt, ms: performance.now() - t0 });
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  const sorted = puts.map((p) => p.ms).sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN;
  console.log(`${puts.length} puts in ${o.seconds} s, p50 ${sorted[sorted.length >> 1]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
  const windows = new Map<number, { count: number; worst: number }>();
  for (const p of puts) {
    if (p.ms < p99) continue;
    const at = Math.floor(p.startedAt / WINDOW_MS) * WINDOW_MS;
    const w = windows.get(at) ?? { count: 0, worst: 0 };
    w.count++;
    w.worst = Math.max(w.worst, p.ms);
    windows.set(at, w);
  }
  for (const [at, w] of [...windows].sort((a, b) => a[0] - b[0])) {
    console.log(`${new Date(at).toISOString()}  ${w.count} puts at or above p99 started, the worst ${w.worst.toFixed(0)} ms`);
  }
}

main().catch((error: unknown) => {
  console.error(`put-timeline: ${(error as Error).message}`);
  process.exitCode = 1;
});
