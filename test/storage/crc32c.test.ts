// CRC-32C known answers (RFC 3720 appendix B.4, the iSCSI test vectors) and the slicing-by-8
// implementation checked against a bit-at-a-time reference on every length up to 100 bytes,
// so a wrong table or a wrong byte order in the 8-byte loop fails here.
import t from 'tap';
import { crc32c } from '../../core/storage/crc32c.js';

/** The definition, one bit at a time: slow and obviously right. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

t.test('known answers', async (t) => {
  t.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283, 'crc32c("123456789")');
  t.equal(crc32c(new Uint8Array(0)), 0, 'empty input');
  t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 zero bytes');
  t.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43, '32 0xFF bytes');
  t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e, '0..31 ascending');
  t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c, '31..0 descending');
});

t.test('matches the bitwise reference at every length and alignment', async (t) => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const data = Uint8Array.from({ length: 120 }, next);
  let mismatches = 0;
  for (let start = 0; start < 8; start++) {
    for (let len = 0; len <= 100; len++) {
      const slice = data.subarray(start, start + len);
      if (crc32c(data, start, start + len) !== reference(slice)) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});

t.test('continues over pieces: crc(a ++ b) = crc(b, crc(a))', async (t) => {
  const whole = Buffer.from('the quick brown fox jumps over the lazy dog, twice over', 'ascii');
  for (const cut of [0, 1, 7, 8, 9, 30, whole.length]) {
    t.equal(crc32c(whole, cut, whole.length, crc32c(whole, 0, cut)), crc32c(whole), `cut at ${cut}`);
  }
});

t.test('a single flipped bit always changes the checksum', async (t) => {
  const data = Buffer.from('a record payload of a modest size, 48 bytes long', 'ascii');
  const good = crc32c(data);
  let undetected = 0;
  for (let bit = 0; bit < data.length * 8; bit++) {
    data[bit >> 3]! ^= 1 << (bit & 7);
    if (crc32c(data) === good) undetected++;
    data[bit >> 3]! ^= 1 << (bit & 7);
  }
  t.equal(undetected, 0);
});
