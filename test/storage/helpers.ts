// Shared helpers of the storage tests: temporary directories removed at the end of each
// test, deterministic entries, and a map of the records in a WAL segment file so tests can
// cut or damage exactly the bytes they mean to.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, HardState } from '../../core/raft/types.js';
import { parseRecord } from '../../core/storage/record.js';

/** The subset of a tap Test the helpers need (tap's own type is not exported cleanly). */
export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** A fresh directory under os.tmpdir(), removed when test `t` ends. */
export async function tempDir(t: Teardown, prefix = 'cairn-storage-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Entry `index` of `term`, its data derived from both so every entry is distinct. */
export function ent(index: number, term: number, bytes = 24): Entry {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + term * 7 + i * 13 + 1) % 251 + 1;
  return { index, term, type: index % 5 === 0 ? 'confChange' : 'normal', data };
}

export function ents(from: number, to: number, term: number, bytes = 24): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(ent(i, term, bytes));
  return out;
}

export function hs(term: number, vote: string, commit: number): HardState {
  return { term, vote, commit };
}

/** Entries as plain comparable values (Uint8Array compared by content). */
export function plain(entries: readonly Entry[]): unknown[] {
  return entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Array.from(e.data) }));
}

export interface RecordSpan {
  readonly start: number;
  readonly payloadStart: number;
  readonly end: number;
}

/** The records of a verified segment file, in order (the header record first). */
export function recordSpans(buf: Buffer): RecordSpan[] {
  const spans: RecordSpan[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const r = parseRecord(buf, pos);
    if (r.kind !== 'ok') throw new Error(`recordSpans: ${r.kind} at ${pos}`);
    spans.push({ start: pos, payloadStart: r.payloadStart, end: r.end });
    pos = r.end;
  }
  return spans;
}

/** The WAL segment files in `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.wal')).sort();
}
