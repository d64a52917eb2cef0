// The snapshot file format. One file holds one Snapshot: its metadata (the index it covers,
// the term of that entry, the configuration at that index) and the application's data, with
// a checksum over everything, so the applied index can never be read apart from the state it
// describes.
//
//   "CAIRNSNP"  8-byte magic
//   u32         format version (2; 1 is still read)
//   u64 index, u64 term
//   u32 count, then count strings (u16 length + UTF-8): voters; the same for learners
//   u64         data length N
//   N bytes     data
//   u32         checksum of every byte before it: CRC-32 (version 2), CRC-32C (version 1)
//
// Version 2 changed only the checksum. A member checksums every snapshot it saves, whole (20
// MB at 70,000 keys of 256 B, every --snapshot-count entries): zlib's native CRC-32 does that
// in 11 ms on this 2-core VM, our CRC-32C in JavaScript in 60–75 ms of the event loop. The
// WAL keeps CRC-32C: its records are small.
import { crc32 } from 'node:zlib';
import type { Snapshot } from '../raft/types.js';
import { DecodeError, Reader, Writer } from './codec.js';
import { crc32c } from './crc32c.js';

const MAGIC = Buffer.from('CAIRNSNP', 'latin1');
const VERSION = 2;
const TRAILER_BYTES = 4;

/** The checksum of a version 2 file: continue it over several pieces by passing the last result. */
export function snapshotChecksum(piece: Uint8Array, crc = 0): number {
  return crc32(piece, crc);
}

/** The checksum a file of `version` carries over `body`, or undefined for an unknown version. */
function checksumOf(version: number, body: Buffer): number | undefined {
  if (version === 2) return snapshotChecksum(body);
  if (version === 1) return crc32c(body);
  return undefined;
}

/** The file's header (everything before the data) and its data, which is never copied. */
export function snapshotFileParts(snapshot: Snapshot): { header: Buffer; data: Buffer } {
  const { index, term, confState } = snapshot.metadata;
  const w = new Writer(256);
  for (const byte of MAGIC) w.u8(byte);
  w.u32(VERSION).u64(index).u64(term);
  w.u32(confState.voters.length);
  for (const id of confState.voters) w.str(id);
  w.u32(confState.learners.length);
  for (const id of confState.learners) w.str(id);
  w.u64(snapshot.data.byteLength);
  const header = w.finish();
  const data = Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength);
  return { header, data };
}

/** The last 4 bytes: the checksum of the header and data, as snapshotChecksum continues it over both. */
export function snapshotFileTrailer(crc: number): Buffer {
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(crc, 0);
  return trailer;
}

/** The file as three pieces (header, data, checksum). */
export function encodeSnapshotFile(snapshot: Snapshot): Buffer[] {
  const { header, data } = snapshotFileParts(snapshot);
  return [header, data, snapshotFileTrailer(snapshotChecksum(data, snapshotChecksum(header)))];
}

/** Why a snapshot file does not verify, and where. */
export class SnapshotFileError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Verifies the checksum, then decodes; throws SnapshotFileError. */
export function decodeSnapshotFile(buf: Buffer): Snapshot {
  if (buf.length < MAGIC.length + TRAILER_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SnapshotFileError('not a cairn snapshot file (bad magic or too short)', 0);
  }
  const bodyEnd = buf.length - TRAILER_BYTES;
  // The version picks the checksum, so it is read before anything is trusted: a damaged
  // version is either unknown or makes the checksum fail.
  const version = bodyEnd >= MAGIC.length + 4 ? buf.readUInt32LE(MAGIC.length) : 0;
  const checksum = checksumOf(version, buf.subarray(0, bodyEnd));
  if (checksum === undefined) {
    throw new SnapshotFileError(`format version ${version} is unknown (this build reads 1 and ${VERSION}); the file is damaged or from a newer cairn`, MAGIC.length);
  }
  if (checksum !== buf.readUInt32LE(bodyEnd)) {
    throw new SnapshotFileError(`checksum of bytes 0..${bodyEnd} does not match the one stored`, bodyEnd);
  }
  const r = new Reader(buf, MAGIC.length + 4, bodyEnd);
  try {
    const index = r.u64();
    const term = r.u64();
    const voters = readIds(r);
    const learners = readIds(r);
    const length = r.u64();
    if (length !== r.remaining) throw new DecodeError(`data length ${length}, but ${r.remaining} bytes follow`);
    const data = new Uint8Array(buf.subarray(r.offset, bodyEnd));
    return { metadata: { index, term, confState: { voters, learners } }, data };
  } catch (err) {
    if (err instanceof DecodeError) throw new SnapshotFileError(err.message, r.offset);
    throw err;
  }
}

function readIds(r: Reader): string[] {
  const count = r.u32();
  // Each id takes at least its 2-byte length: a larger count is damage.
  if (count * 2 > r.remaining) throw new DecodeError(`member count ${count} exceeds the file`);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(r.str());
  return ids;
}
