// The record frame of the write-ahead log: every record is length-prefixed and checksummed.
//
//   offset 0   u32 LE  payload length N (at most MAX_RECORD_BYTES)
//   offset 4   u32 LE  CRC-32C of the payload
//   offset 8   u32 LE  CRC-32C of bytes 0..7 (the header check)
//   offset 12  N bytes payload
//
// The header has its own checksum so a damaged length is recognised before it is trusted:
// without it, a flipped bit in the length of a record in the middle of the last segment could
// point past the end of the file and pass for a torn tail, and recovery would cut away
// records that had been acknowledged.
import { crc32c } from './crc32c.js';

export const RECORD_HEADER_BYTES = 12;
/** Largest payload of one record; checked on write and on read (a corrupt length is refused). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Writes the framed records one after the other into one buffer (one write, one sync). */
export function frameRecords(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of payloads) {
    if (p.byteLength > MAX_RECORD_BYTES) {
      throw new RangeError(`WAL record of ${p.byteLength} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
    }
    total += RECORD_HEADER_BYTES + p.byteLength;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const p of payloads) {
    out.writeUInt32LE(p.byteLength, pos);
    out.writeUInt32LE(crc32c(p), pos + 4);
    out.writeUInt32LE(crc32c(out, pos, pos + 8), pos + 8);
    out.set(p, pos + RECORD_HEADER_BYTES);
    pos += RECORD_HEADER_BYTES + p.byteLength;
  }
  return out;
}

export type RecordParse =
  /** A whole record whose checksums match. */
  | { readonly kind: 'ok'; readonly payloadStart: number; readonly end: number }
  /** The input ends inside the header, or inside the payload a valid header announces. */
  | { readonly kind: 'incomplete'; readonly what: string }
  /** The header check fails or the length is over the limit: the length cannot be trusted. */
  | { readonly kind: 'badHeader'; readonly what: string }
  /** The header is sound and the payload is all there, but its checksum does not match. */
  | { readonly kind: 'badPayload'; readonly end: number; readonly what: string };

/** Parses the record starting at `pos` in `buf[.., end)`. */
export function parseRecord(buf: Buffer, pos: number, end = buf.length): RecordParse {
  if (end - pos < RECORD_HEADER_BYTES) {
    return { kind: 'incomplete', what: `${end - pos} bytes left, too few for a record header` };
  }
  const length = buf.readUInt32LE(pos);
  const payloadCrc = buf.readUInt32LE(pos + 4);
  if (buf.readUInt32LE(pos + 8) !== crc32c(buf, pos, pos + 8)) {
    return { kind: 'badHeader', what: 'record header checksum mismatch' };
  }
  if (length > MAX_RECORD_BYTES) {
    return { kind: 'badHeader', what: `record length ${length} over the ${MAX_RECORD_BYTES}-byte limit` };
  }
  const payloadStart = pos + RECORD_HEADER_BYTES;
  const recordEnd = payloadStart + length;
  if (recordEnd > end) {
    return { kind: 'incomplete', what: `record of ${length} bytes, only ${end - payloadStart} present` };
  }
  if (crc32c(buf, payloadStart, recordEnd) !== payloadCrc) {
    return { kind: 'badPayload', end: recordEnd, what: 'record payload checksum mismatch' };
  }
  return { kind: 'ok', payloadStart, end: recordEnd };
}

/** Disk sectors are written whole; a crash can leave some of a write's sectors unwritten. */
const SECTOR_BYTES = 512;
/** A zero run shorter than this is ordinary data (the high bytes of small integers). */
const MIN_ZERO_RUN = 32;
/** A record never starts with 4 zero bytes: that would be a zero length, and no payload is empty. */
const MIN_ZERO_HEAD = 4;

/**
 * Whether `buf[start, end)` shows the mark of a write that never reached the disk: a piece
 * of it, cut at 512-byte sector boundaries of the file, that is all zeros (a filesystem
 * that extended the file before writing its data reads the missing sectors back as zeros).
 * This is etcd's isTornEntry rule. To keep a zero run in ordinary data from passing for
 * one, a piece counts only from 32 bytes on (or the whole range, if shorter), except the
 * first piece, which starts with the record's length and counts from 4 bytes on.
 */
export function looksNeverWritten(buf: Buffer, start: number, end: number): boolean {
  let chunkStart = start;
  while (chunkStart < end) {
    const chunkEnd = Math.min(end, (Math.floor(chunkStart / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    const minRun = Math.min(chunkStart === start ? MIN_ZERO_HEAD : MIN_ZERO_RUN, end - start);
    if (chunkEnd - chunkStart >= minRun && isAllZero(buf, chunkStart, chunkEnd)) return true;
    chunkStart = chunkEnd;
  }
  return false;
}

function isAllZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * The first offset in `(from, end)` where a whole, valid record starts and `accept` agrees,
 * or undefined. Recovery uses it to tell a torn tail (nothing valid after the damage) from
 * damage in the middle of the log (later records prove the damaged one had been synced).
 */
export function findValidRecordAfter(
  buf: Buffer,
  from: number,
  end: number,
  accept: (payloadStart: number, recordEnd: number) => boolean,
): number | undefined {
  for (let pos = from + 1; pos + RECORD_HEADER_BYTES <= end; pos++) {
    const r = parseRecord(buf, pos, end);
    if (r.kind === 'ok' && accept(r.payloadStart, r.end)) return pos;
  }
  return undefined;
}
