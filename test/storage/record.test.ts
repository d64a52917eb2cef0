// The record frame and the binary codec on their own: every way a record can fail to verify
// is told apart (the WAL's torn-versus-corrupt rule depends on it), lengths are bounded on
// read (a damaged length is refused, never allocated), and the zero-sector heuristic only
// fires on zero runs that ordinary data does not produce.
import t from 'tap';
import { DecodeError, Reader, Writer } from '../../core/storage/codec.js';
import { crc32c } from '../../core/storage/crc32c.js';
import { MAX_RECORD_BYTES, RECORD_HEADER_BYTES, findValidRecordAfter, frameRecords, looksNeverWritten, parseRecord } from '../../core/storage/record.js';
import { decodePayload, encodeBatch } from '../../core/storage/wal-format.js';
import { ent, hs } from './helpers.js';

t.test('framed records parse back, one after the other', async (t) => {
  const payloads = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(3000, 7)];
  const buf = frameRecords(payloads);
  let pos = 0;
  for (const p of payloads) {
    const r = parseRecord(buf, pos);
    if (r.kind !== 'ok') return t.fail(r.kind);
    t.same(buf.subarray(r.payloadStart, r.end), p);
    pos = r.end;
  }
  t.equal(pos, buf.length);
});

t.test('each failure is classified', async (t) => {
  const buf = frameRecords([Buffer.from('a payload of some length')]);
  t.equal(parseRecord(buf, 0, RECORD_HEADER_BYTES - 1).kind, 'incomplete', 'short header');
  t.equal(parseRecord(buf, 0, buf.length - 1).kind, 'incomplete', 'short payload');
  const badPayload = Buffer.from(buf);
  badPayload[RECORD_HEADER_BYTES + 3]! ^= 1;
  t.equal(parseRecord(badPayload, 0).kind, 'badPayload');
  for (const i of [0, 3, 4, 9]) {
    const badHeader = Buffer.from(buf);
    badHeader[i]! ^= 0x80;
    t.equal(parseRecord(badHeader, 0).kind, 'badHeader', `header byte ${i}`);
  }
});

t.test('a length over the limit is refused even with a matching header check', async (t) => {
  const header = Buffer.alloc(RECORD_HEADER_BYTES + 16);
  header.writeUInt32LE(MAX_RECORD_BYTES + 1, 0);
  header.writeUInt32LE(0, 4);
  header.writeUInt32LE(crc32c(header, 0, 8), 8);
  const r = parseRecord(header, 0);
  t.equal(r.kind, 'badHeader');
  t.match(r.kind === 'badHeader' ? r.what : '', /over the 67108864-byte limit/);
  t.throws(() => frameRecords([Buffer.alloc(MAX_RECORD_BYTES + 1)]), /over the 67108864-byte limit/);
});

t.test('looksNeverWritten: whole-sector zeros count, short zero runs in data do not', async (t) => {
  const buf = Buffer.alloc(2048, 0xaa);
  t.notOk(looksNeverWritten(buf, 100, 1500), 'no zeros');
  buf.fill(0, 512, 1024);
  t.ok(looksNeverWritten(buf, 100, 1500), 'a whole sector of zeros');
  buf.fill(0xaa);
  buf.fill(0, 1024, 1024 + 31);
  t.notOk(looksNeverWritten(buf, 100, 1500), '31 zero bytes at a sector start: ordinary data');
  buf.fill(0xaa);
  buf.fill(0, 1400, 1500);
  t.notOk(looksNeverWritten(buf, 100, 1500), 'zeros in only part of a sector piece: sectors are written whole, so not a lost write');
  buf.fill(0xaa);
  buf.fill(0, 1024, 1500);
  t.ok(looksNeverWritten(buf, 100, 1500), 'the last piece of the range, all zeros');
  buf.fill(0xaa);
  buf.fill(0, 508, 512);
  t.ok(looksNeverWritten(buf, 508, 1500), 'the first piece counts from 4 bytes: a record never starts with a zero length');
  t.notOk(looksNeverWritten(buf, 509, 1500), '3 bytes are not enough');
  t.ok(looksNeverWritten(Buffer.alloc(20), 0, 20), 'a range shorter than 32 bytes, all zeros');
});

t.test('findValidRecordAfter finds a later record and skips what the filter rejects', async (t) => {
  const a = frameRecords([Buffer.from('one')]);
  const b = frameRecords([Buffer.from('two')]);
  const buf = Buffer.concat([a, Buffer.from([1, 2, 3]), b]);
  t.equal(findValidRecordAfter(buf, 0, buf.length, () => true), a.length + 3);
  t.equal(findValidRecordAfter(buf, 0, buf.length, () => false), undefined);
  t.equal(findValidRecordAfter(buf, a.length + 3, buf.length, () => true), undefined, 'strictly after');
});

t.test('Reader bounds every length by the bytes present', async (t) => {
  const w = new Writer(4).u32(0xffffffff);
  const r = new Reader(w.finish());
  t.throws(() => r.bytes(), DecodeError, 'a 4 GiB length over 0 bytes');
  t.throws(() => new Reader(Buffer.from([5, 0, 65])).str(), DecodeError);
  t.throws(() => new Reader(Buffer.alloc(8, 0xff)).u64(), /beyond 2\^53/);
  t.throws(() => new Writer().u64(-1), RangeError);
  t.throws(() => new Writer().u64(1.5), RangeError);
  const round = new Writer(1).u8(1).u16(2).u32(3).u64(2 ** 53 - 1).str('ü').bytes(Uint8Array.of(9)).finish();
  const back = new Reader(round);
  t.same([back.u8(), back.u16(), back.u32(), back.u64(), back.str(), Array.from(back.bytes())], [1, 2, 3, 2 ** 53 - 1, 'ü', [9]]);
  back.done();
  t.throws(() => new Reader(Buffer.alloc(2)).done(), /trailing/);
});

t.test('batch payloads: items round trip; a damaged item count or kind does not decode', async (t) => {
  const items = [{ kind: 'entry', entry: ent(5, 2) }, { kind: 'hardState', hardState: hs(2, 'ñ', 4) }, { kind: 'marker', index: 3, term: 1, keepsSuffix: true }] as const;
  const [payload] = encodeBatch(7, items);
  const decoded = decodePayload(payload!, 0, payload!.length);
  t.same(decoded.kind === 'batch' && { seq: decoded.seq, final: decoded.final, n: decoded.items.length }, { seq: 7, final: true, n: 3 });
  const huge = Buffer.from(payload!);
  huge.writeUInt32LE(0x7fffffff, 10);
  t.throws(() => decodePayload(huge, 0, huge.length), /item count/);
  const kind = Buffer.from(payload!);
  kind[14] = 9;
  t.throws(() => decodePayload(kind, 0, kind.length), /unknown item kind 9/);
  t.throws(() => decodePayload(Buffer.from([3]), 0, 1), /unknown record type 3/);
});
