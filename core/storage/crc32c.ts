// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record
// and snapshot file. Written by hand because Node has no built-in CRC-32C. Table-driven,
// slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per step, which keeps
// checksumming a 64 MiB segment on recovery well under a second.
// Known answer (RFC 3720 B.4, iSCSI): crc32c("123456789") = 0xE3069283.

const POLY = 0x82f63b78;

/** TABLES[k][b]: the CRC contribution of byte b followed by k zero bytes. */
const TABLES: Int32Array = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(256 * 8);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}

/**
 * The CRC-32C of `data[start, end)`. Pass a previous result as `crc` to continue a checksum
 * over several pieces: crc32c(b, 0, n, crc32c(a)) === crc32c(a ++ b).
 * Returns an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
