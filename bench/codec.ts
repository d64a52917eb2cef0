// Benchmark of the peer transport's codec, run with `npm run bench:codec`: the encoded size
// and the encode+decode throughput of a typical append (64 entries of 256 B) and of a
// heartbeat, cairn's binary frames against JSON (entry data as base64, as a JSON transport
// would have to send it). The binary decode includes full validation; the JSON decode only
// parses and turns base64 back into bytes. Medians of interleaved rounds: on a shared
// machine quote the ratios, not the absolute figures.
import type { AppendMessage, HeartbeatMessage, Message } from '../core/raft/index.js';
import { decodeMessages, encodeMessages } from '../core/transport/index.js';

const ROUNDS = 7;
const ROUND_MS = 300;

const append: AppendMessage = {
  type: 'append', from: 'member-1', to: 'member-2', term: 7,
  prevLogIndex: 1_000_000, prevLogTerm: 7, commit: 999_990,
  entries: Array.from({ length: 64 }, (_, i) => ({
    term: 7, index: 1_000_001 + i, type: 'normal' as const, data: new Uint8Array(256).map((_, j) => (i * 31 + j) & 0xff),
  })),
};
const heartbeat: HeartbeatMessage = { type: 'heartbeat', from: 'member-1', to: 'member-2', term: 7, commit: 999_990, context: 4711 };

interface Codec {
  readonly name: string;
  encode(messages: readonly Message[]): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const binary: Codec = { name: 'binary', encode: encodeMessages, decode: decodeMessages };

const json: Codec = {
  name: 'JSON',
  encode: (messages) => Buffer.from(JSON.stringify(messages, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value)),
  decode: (bytes) => {
    const parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Array<Record<string, unknown>>;
    for (const m of parsed) {
      if (Array.isArray(m['entries'])) {
        for (const e of m['entries'] as Array<{ data: unknown }>) e.data = new Uint8Array(Buffer.from(String(e.data), 'base64'));
      }
    }
    return parsed;
  },
};

/** Encode+decode round trips per second over one round of about ROUND_MS. */
function round(codec: Codec, messages: readonly Message[]): number {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 50; i++) codec.decode(codec.encode(messages));
    ops += 50;
    elapsed = performance.now() - start;
  }
  return (ops / elapsed) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(label: string, messages: readonly Message[], payloadBytes: number): void {
  const results = new Map<string, number[]>([[binary.name, []], [json.name, []]]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const codec of [binary, json]) results.get(codec.name)!.push(round(codec, messages));
  }
  const size = (c: Codec): number => c.encode(messages).byteLength;
  const bin = median(results.get(binary.name)!);
  const js = median(results.get(json.name)!);
  console.log(`\n${label}`);
  for (const [codec, perSecond] of [[binary, bin], [json, js]] as const) {
    const mbps = payloadBytes > 0 ? `, ${((perSecond * payloadBytes) / 1e6).toFixed(0)} MB/s of entry data` : '';
    console.log(`  ${codec.name.padEnd(6)} ${String(size(codec)).padStart(6)} bytes   ${Math.round(perSecond).toLocaleString('en-US').padStart(9)} encode+decode/s${mbps}`);
  }
  console.log(`  binary is ${(size(json) / size(binary)).toFixed(2)}x smaller and ${(bin / js).toFixed(2)}x faster`);
}

// Warm both codecs up before measuring.
for (const codec of [binary, json]) for (let i = 0; i < 2000; i++) codec.decode(codec.encode([append, heartbeat]));
console.log(`codec benchmark: medians of ${ROUNDS} rounds of ${ROUND_MS} ms (Node ${process.version})`);
measure('append, 64 entries x 256 B', [append], 64 * 256);
measure('heartbeat', [heartbeat], 0);
