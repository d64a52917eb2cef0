// Segment files of the WAL: their names, and reading one back with the torn-tail rule.
//
// A segment is named <seq>-<firstIndex>.wal (16 hex digits each, so names sort in write
// order); it starts with a segment header record followed by batch records. Segments are
// created as a .tmp file, synced and renamed, so a named segment always has its header.
//
// Torn tail versus corruption. Every save() is synced before the next one is written, so a
// crash can damage only the batch being written, at the very end of the last segment.
// A record that fails to verify is therefore a torn tail (cut off, with a warning) only if:
//   1. it is in the last segment, and
//   2. nothing valid follows it except more chunks of the same, unfinished batch (a later
//      batch would prove the damaged one had been synced and acknowledged), and
//   3. it looks like an unfinished write: the file ends inside it, or part of it reads as
//      zeros (see looksNeverWritten). On the common Linux filesystems a file's new size is
//      durable no earlier than its data, or the sectors not yet written read back as zeros;
//      cairn does not preallocate segments, so no other leftovers can appear. A complete
//      last record with a bad checksum and no zeroed sector is therefore a flipped bit in
//      synced data, not a crash: STORAGE_CORRUPT, like any bad record anywhere else.
// This follows etcd (wal/decoder.go isTornEntry), plus rule 2, which etcd does not have.
// Rule 2 scans byte by byte past the damage; entry data that happened to embed a whole valid
// record of another batch would make a torn tail look like corruption: the safe mistake (the
// member refuses to start), never the other way round.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DecodeError } from './codec.js';
import { corruptAt, ioError } from './errors.js';
import { findValidRecordAfter, looksNeverWritten, parseRecord } from './record.js';
import type { RecordParse } from './record.js';
import { decodePayload } from './wal-format.js';
import type { BatchChunk, SegmentHeader, WalItem, WalPayload } from './wal-format.js';

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export interface SegmentName {
  readonly name: string;
  readonly seq: number;
  readonly firstIndex: number;
}

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

export function parseSegmentName(name: string): SegmentName | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  return { name, seq: parseInt(m[1]!, 16), firstIndex: parseInt(m[2]!, 16) };
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export interface ReadBatch {
  readonly seq: number;
  /** Byte offset of the batch's first record, for error messages. */
  readonly offset: number;
  readonly items: readonly WalItem[];
}

export interface SegmentRead {
  readonly header: SegmentHeader;
  /** Complete batches, in order. */
  readonly batches: readonly ReadBatch[];
  /** The file's size as found. */
  readonly size: number;
  /** Where the verified records end; less than size if a torn tail must be cut. */
  readonly validEnd: number;
  /** Why the bytes from validEnd on are a torn tail (set iff validEnd < size). */
  readonly torn?: string;
}

/** Reads and verifies a whole segment; throws STORAGE_CORRUPT naming file and offset. */
export async function readSegment(dir: string, name: string, isLast: boolean): Promise<SegmentRead> {
  const path = join(dir, name);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw ioError(`cannot read WAL segment ${path}`, err);
  }
  return new SegmentReader(path, buf, isLast).read();
}

class SegmentReader {
  private readonly batches: ReadBatch[] = [];
  private pending: { seq: number; start: number; items: WalItem[] } | undefined;
  private lastBatch = 0;

  constructor(
    private readonly path: string,
    private readonly buf: Buffer,
    private readonly isLast: boolean,
  ) {}

  read(): SegmentRead {
    const { header, end } = this.readHeader();
    this.lastBatch = header.lastBatch;
    const size = this.buf.length;
    let pos = end;
    while (pos < size) {
      const r = parseRecord(this.buf, pos, size);
      if (r.kind !== 'ok') return this.damaged(header, pos, r);
      this.takeChunk(pos, this.decode(pos, r.payloadStart, r.end));
      pos = r.end;
    }
    if (this.pending !== undefined) {
      // The file ends between the chunks of one batch: its last chunks were never written.
      if (!this.isLast) throw corruptAt(this.path, this.pending.start, `batch ${this.pending.seq} is unfinished in a segment that is not the last`);
      return this.result(header, this.pending.start, `batch ${this.pending.seq} has no final chunk`);
    }
    return { header, batches: this.batches, size, validEnd: size };
  }

  /** The header record; it is never torn, as segments are renamed into place once synced. */
  private readHeader(): { header: SegmentHeader; end: number } {
    const r = parseRecord(this.buf, 0);
    if (r.kind !== 'ok') throw corruptAt(this.path, 0, `segment header: ${r.what}`);
    const payload = this.decode(0, r.payloadStart, r.end);
    if (payload.kind !== 'header') throw corruptAt(this.path, 0, 'the segment does not start with a segment header');
    return { header: payload, end: r.end };
  }

  private decode(pos: number, start: number, end: number): WalPayload {
    try {
      return decodePayload(this.buf, start, end);
    } catch (err) {
      // The checksum matched, so these are the bytes that were written: not a torn write.
      if (err instanceof DecodeError) throw corruptAt(this.path, pos, `record does not decode (${err.message})`);
      throw err;
    }
  }

  private takeChunk(pos: number, payload: WalPayload): void {
    if (payload.kind !== 'batch') throw corruptAt(this.path, pos, 'a segment header in the middle of a segment');
    const chunk: BatchChunk = payload;
    const expected = this.pending?.seq ?? this.lastBatch + 1;
    if (chunk.seq !== expected) {
      throw corruptAt(this.path, pos, `batch number ${chunk.seq} where ${expected} was expected`);
    }
    this.pending ??= { seq: chunk.seq, start: pos, items: [] };
    for (const item of chunk.items) this.pending.items.push(item);
    if (chunk.final) {
      this.batches.push({ seq: chunk.seq, offset: this.pending.start, items: this.pending.items });
      this.lastBatch = chunk.seq;
      this.pending = undefined;
    }
  }

  /** A record at `pos` failed to verify: a torn tail to cut, or corruption to refuse. */
  private damaged(header: SegmentHeader, pos: number, r: Exclude<RecordParse, { kind: 'ok' }>): SegmentRead {
    const where = r.what;
    if (!this.isLast) throw corruptAt(this.path, pos, `${where} in a segment that is not the last`);
    const inFlight = this.pending?.seq ?? this.lastBatch + 1;
    if (r.kind !== 'incomplete') {
      const later = this.laterRecord(pos, inFlight);
      if (later !== undefined) {
        throw corruptAt(this.path, pos, `${where}, followed by a valid record at byte offset ${later}`);
      }
      const regionEnd = r.kind === 'badPayload' ? r.end : this.buf.length;
      if (!looksNeverWritten(this.buf, pos, regionEnd)) {
        throw corruptAt(this.path, pos, `${where} in a complete record (not the mark of an interrupted write)`);
      }
    }
    return this.result(header, this.pending?.start ?? pos, where);
  }

  /** A valid record after `pos` that is not part of the in-flight batch, if any. */
  private laterRecord(pos: number, inFlight: number): number | undefined {
    return findValidRecordAfter(this.buf, pos, this.buf.length, (start, end) => {
      try {
        const p = decodePayload(this.buf, start, end);
        return p.kind === 'header' || p.seq !== inFlight;
      } catch {
        return false;
      }
    });
  }

  private result(header: SegmentHeader, validEnd: number, why: string): SegmentRead {
    return { header, batches: this.batches, size: this.buf.length, validEnd, torn: why };
  }
}
