// `npm run bench:fsync`: what durability costs on this disk. Times (1) one 256-byte append
// plus fdatasync on a plain file, the floor under every acknowledged write, and (2) a WAL
// save() of 1 and of 64 entries of 256 bytes (one batch, one fdatasync each). 200 timed
// iterations per case after 10 warm-up ones, each case also capped at 20 s; runs in a
// temporary directory under os.tmpdir() that is removed at the end.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../core/raft/types.js';
import { Wal } from '../core/storage/index.js';

const ITERATIONS = 200;
const WARMUP = 10;
const CASE_LIMIT_MS = 20_000;
const PAYLOAD_BYTES = 256;

interface Stats { readonly n: number; readonly median: number; readonly p99: number; readonly max: number }

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!;
  return { n: sorted.length, median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Runs `op` WARMUP times untimed, then up to ITERATIONS times (or CASE_LIMIT_MS) timed. */
async function measure(op: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await op();
  const samples: number[] = [];
  const deadline = performance.now() + CASE_LIMIT_MS;
  while (samples.length < ITERATIONS && performance.now() < deadline) {
    const t0 = performance.now();
    await op();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

async function rawFdatasync(dir: string): Promise<Stats> {
  const handle = await open(join(dir, 'raw.bin'), 'w');
  const block = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
  let position = 0;
  try {
    return await measure(async () => {
      await handle.write(block, 0, block.length, position);
      position += block.length;
      await handle.datasync();
    });
  } finally {
    await handle.close();
  }
}

async function walSave(dir: string, perSave: number): Promise<Stats> {
  const { wal } = await Wal.open(join(dir, `wal-${perSave}`));
  const data = new Uint8Array(PAYLOAD_BYTES).fill(0x5a);
  let next = 1;
  try {
    return await measure(async () => {
      const entries: Entry[] = [];
      for (let i = 0; i < perSave; i++) entries.push({ index: next++, term: 1, type: 'normal', data });
      await wal.save({ term: 1, vote: 'a', commit: next - 1 }, entries);
    });
  } finally {
    await wal.close();
  }
}

function line(label: string, s: Stats): string {
  const ms = (v: number) => `${v.toFixed(3)} ms`.padStart(10);
  return `  ${label.padEnd(38)} median ${ms(s.median)}   p99 ${ms(s.p99)}   max ${ms(s.max)}   (n=${s.n})`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-fsync-'));
  try {
    const raw = await rawFdatasync(dir);
    const one = await walSave(dir, 1);
    const many = await walSave(dir, 64);
    console.log(`fsync bench in ${tmpdir()} (${PAYLOAD_BYTES}-byte payloads, ${ITERATIONS} timed iterations per case)`);
    console.log(line(`write ${PAYLOAD_BYTES} B + fdatasync`, raw));
    console.log(line('Wal.save, 1 entry (one fdatasync)', one));
    console.log(line('Wal.save, 64 entries (one fdatasync)', many));
    console.log(`  64-entry batch: ${(many.median / 64 * 1000).toFixed(1)} µs per entry at the median`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
