// The snapshot file format. One file holds one Snapshot: its metadata (the index it covers,
// the term of that entry, the configuration at that index) and the application's data, with
// a CRC-32C over everything, so the applied index can never be read apart from the state it
// describes.
//
//   "CAIRNSNP"  8-byte magic
//   u32         format version (1)
//   u64 index, u64 term
//   u32 count, then count strings (u16 length + UTF-8): voters; the same for learners
//   u64         data length N
//   N bytes     data
//   u32         CRC-32C of every byte before it
import type { Snapshot } from '../raft/types.js';
import { DecodeError, Reader, Writer } from './codec.js';
import { crc32c } from './crc32c.js';

const MAGIC = Buffer.from('CAIRNSNP', 'latin1');
const VERSION = 1;
const TRAILER_BYTES = 4;

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

/** The last 4 bytes: the CRC-32C of the header and data, as crc32c continues it over both. */
export function snapshotFileTrailer(crc: number): Buffer {
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(crc, 0);
  return trailer;
}

/** The file as three pieces (header, data, checksum). */
export function encodeSnapshotFile(snapshot: Snapshot): Buffer[] {
  const { header, data } = snapshotFileParts(snapshot);
  return [header, data, snapshotFileTrailer(crc32c(data, 0, data.length, crc32c(header)))];
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
  if (crc32c(buf, 0, bodyEnd) !== buf.readUInt32LE(bodyEnd)) {
    throw new SnapshotFileError(`checksum of bytes 0..${bodyEnd} does not match the one stored`, bodyEnd);
  }
  const r = new Reader(buf, MAGIC.length, bodyEnd);
  try {
    const version = r.u32();
    if (version !== VERSION) throw new DecodeError(`format version ${version}, expected ${VERSION}`);
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
