// Benchmark of the commands in log entries, run with `npm run bench:command`: a put of 256 B
// (what `npm run bench` writes) encoded by the leader and decoded by every member, in the
// binary form of server/command-codec.ts against JSON as every command was logged before.
// Medians of interleaved rounds: on a shared machine quote the ratios, not the figures.
import { decodeCommand, encodeCommand } from '../server/command-codec.js';
import type { Command } from '../server/state-machine.js';
import { median } from './compare/report.js';

const ROUNDS = 7;
const ROUND_MS = 300;

const puts: Command[] = Array.from({ length: 1000 }, (_, i) => ({
  requestId: `V1StGXR8_Z5jdHi6B-my${i % 10}`, op: 'kv', at: 1_763_800_000_000 + i,
  write: { method: 'set', params: { key: `/bench/put-3-64/${i}`, value: 'x'.repeat(256) } },
}));
const utf8 = new TextDecoder();
const jsonEncode = (c: Command): Uint8Array => Buffer.from(JSON.stringify(c), 'utf8');
const jsonDecode = (b: Uint8Array): Command => JSON.parse(utf8.decode(b)) as Command;

/** Nanoseconds per call of `f` over one round of about ROUND_MS, cycling through `inputs`. */
function round<T>(f: (input: T) => unknown, inputs: readonly T[]): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 1000; i++) f(inputs[i]!);
    calls += 1000;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1e6) / calls;
}

const binaryBytes = puts.map(encodeCommand);
const jsonBytes = puts.map(jsonEncode);
const cases: [string, () => number][] = [
  ['encode binary', () => round(encodeCommand, puts)],
  ['encode JSON', () => round(jsonEncode, puts)],
  ['decode binary', () => round(decodeCommand, binaryBytes)],
  ['decode JSON', () => round(jsonDecode, jsonBytes)],
];
for (const [, run] of cases) run(); // warm up
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, run] of cases) results.get(name)!.push(run());
console.log(`log commands: a put of 256 B, medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms (Node ${process.version})`);
for (const [name] of cases) console.log(`  ${name.padEnd(14)} ${median(results.get(name)!).toFixed(0).padStart(6)} ns`);
console.log(`  size: binary ${binaryBytes[0]!.byteLength} bytes, JSON ${jsonBytes[0]!.byteLength} bytes`);
