// What the WAL's record payloads hold. Two kinds:
//
// - A segment header, the first record of every segment file. It carries the log's state at
//   the moment the segment was started (last index and term, snapshot marker, hard state,
//   last batch number), so older segments can be deleted without losing any of it, and
//   recovery can check that consecutive segments continue each other.
// - A batch chunk: the items of one save() call (entries, then the hard state) or of one
//   snapshot marker. A batch is normally one record; one larger than MAX_RECORD_BYTES is
//   split over several chunks with the same batch number, the last one flagged final.
//   Recovery applies a batch only once its final chunk is read, so the hard state and the
//   entries of one Ready are recovered together or not at all.
import type { Entry, EntryType, HardState } from '../raft/types.js';
import { DecodeError, Reader, Writer } from './codec.js';
import { MAX_RECORD_BYTES } from './record.js';

const FORMAT_VERSION = 1;
const enum PayloadType { SegmentHeader = 1, Batch = 2 }
const enum ItemKind { Entry = 1, HardState = 2, Marker = 3 }
const FINAL_CHUNK = 1;

export interface IndexTerm {
  readonly index: number;
  readonly term: number;
}

export interface SegmentHeader {
  readonly kind: 'header';
  readonly segmentSeq: number;
  /** Number of the last batch written before this segment (0 if none). */
  readonly lastBatch: number;
  /** The log's last entry when the segment was started (the snapshot marker if none after it). */
  readonly last: IndexTerm;
  readonly marker: IndexTerm;
  readonly hardState: HardState;
}

export type WalItem =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  /**
   * Entries up to `index` are covered by a snapshot. `keepsSuffix` records the writer's
   * decision: the log held (index, term), so the entries after it stay; otherwise the
   * snapshot replaced the whole log. Recording it means replay never needs the term of an
   * entry whose segment may already be deleted.
   */
  | { readonly kind: 'marker'; readonly index: number; readonly term: number; readonly keepsSuffix: boolean };

export interface BatchChunk {
  readonly kind: 'batch';
  readonly seq: number;
  readonly final: boolean;
  readonly items: WalItem[];
}

export type WalPayload = SegmentHeader | BatchChunk;

export function encodeSegmentHeader(h: Omit<SegmentHeader, 'kind'>): Buffer {
  const w = new Writer(128).u8(PayloadType.SegmentHeader).u8(FORMAT_VERSION);
  w.u64(h.segmentSeq).u64(h.lastBatch).u64(h.last.index).u64(h.last.term);
  w.u64(h.marker.index).u64(h.marker.term);
  writeHardState(w, h.hardState);
  return w.finish();
}

const CHUNK_HEADER_BYTES = 1 + 1 + 8 + 4;

/**
 * The payloads of batch `seq`: one, or several chunks if the items exceed `limit` bytes
 * (MAX_RECORD_BYTES; tests pass less to exercise multi-chunk batches cheaply).
 */
export function encodeBatch(seq: number, items: readonly WalItem[], limit = MAX_RECORD_BYTES): Buffer[] {
  const chunks: Buffer[] = [];
  let w = startChunk(seq);
  let count = 0;
  for (const item of items) {
    const size = itemBytes(item);
    if (CHUNK_HEADER_BYTES + size > limit) {
      throw new RangeError(`WAL item of ${size} bytes does not fit in one ${limit}-byte record`);
    }
    if (count > 0 && w.length + size > limit) {
      chunks.push(sealChunk(w, count, false));
      w = startChunk(seq);
      count = 0;
    }
    writeItem(w, item);
    count++;
  }
  chunks.push(sealChunk(w, count, true));
  return chunks;
}

function startChunk(seq: number): Writer {
  // flags and count are patched in sealChunk once known.
  return new Writer(4096).u8(PayloadType.Batch).u8(0).u64(seq).u32(0);
}

function sealChunk(w: Writer, count: number, final: boolean): Buffer {
  const buf = w.finish();
  buf.writeUInt8(final ? FINAL_CHUNK : 0, 1);
  buf.writeUInt32LE(count, 10);
  return buf;
}

function itemBytes(item: WalItem): number {
  switch (item.kind) {
    case 'entry': return 1 + 1 + 8 + 8 + 4 + item.entry.data.byteLength;
    case 'hardState': return 1 + 8 + 8 + 2 + Buffer.byteLength(item.hardState.vote, 'utf8');
    case 'marker': return 1 + 8 + 8 + 1;
  }
}

function writeItem(w: Writer, item: WalItem): void {
  switch (item.kind) {
    case 'entry': {
      const e = item.entry;
      w.u8(ItemKind.Entry).u8(e.type === 'confChange' ? 1 : 0).u64(e.index).u64(e.term).bytes(e.data);
      return;
    }
    case 'hardState':
      w.u8(ItemKind.HardState);
      writeHardState(w, item.hardState);
      return;
    case 'marker':
      w.u8(ItemKind.Marker).u64(item.index).u64(item.term).u8(item.keepsSuffix ? 1 : 0);
      return;
  }
}

function writeHardState(w: Writer, hs: HardState): void {
  w.u64(hs.term).u64(hs.commit).str(hs.vote);
}

function readHardState(r: Reader): HardState {
  const term = r.u64();
  const commit = r.u64();
  return { term, vote: r.str(), commit };
}

/** Decodes one record payload; throws DecodeError if it is not a well-formed one. */
export function decodePayload(buf: Buffer, start: number, end: number): WalPayload {
  const r = new Reader(buf, start, end);
  const type = r.u8();
  if (type === PayloadType.SegmentHeader) return decodeSegmentHeader(r);
  if (type === PayloadType.Batch) return decodeChunk(r);
  throw new DecodeError(`unknown record type ${type}`);
}

function decodeSegmentHeader(r: Reader): SegmentHeader {
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new DecodeError(`segment format version ${version}, expected ${FORMAT_VERSION}`);
  const segmentSeq = r.u64();
  const lastBatch = r.u64();
  const last = { index: r.u64(), term: r.u64() };
  const marker = { index: r.u64(), term: r.u64() };
  const hardState = readHardState(r);
  r.done();
  return { kind: 'header', segmentSeq, lastBatch, last, marker, hardState };
}

function decodeChunk(r: Reader): BatchChunk {
  const flags = r.u8();
  const seq = r.u64();
  const count = r.u32();
  // Every item takes at least 18 bytes; a count beyond that is damage, not a huge batch.
  if (count > r.remaining) throw new DecodeError(`item count ${count} exceeds the record`);
  const items: WalItem[] = [];
  for (let i = 0; i < count; i++) items.push(decodeItem(r));
  r.done();
  return { kind: 'batch', seq, final: (flags & FINAL_CHUNK) !== 0, items };
}

function decodeItem(r: Reader): WalItem {
  const kind = r.u8();
  switch (kind) {
    case ItemKind.Entry: {
      const typeCode = r.u8();
      if (typeCode > 1) throw new DecodeError(`unknown entry type ${typeCode}`);
      const type: EntryType = typeCode === 1 ? 'confChange' : 'normal';
      const index = r.u64();
      const term = r.u64();
      return { kind: 'entry', entry: { index, term, type, data: r.bytes() } };
    }
    case ItemKind.HardState:
      return { kind: 'hardState', hardState: readHardState(r) };
    case ItemKind.Marker: {
      const index = r.u64();
      const term = r.u64();
      return { kind: 'marker', index, term, keepsSuffix: r.u8() === 1 };
    }
    default:
      throw new DecodeError(`unknown item kind ${kind}`);
  }
}
