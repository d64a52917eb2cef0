// The binary codec round-trips every message type exactly (binary entry data, snapshots
// with their configuration, extreme integers, non-ASCII ids), refuses to encode what it
// could not decode, and is smaller than JSON.
import t from 'tap';
import type { Message } from '../../core/raft/index.js';
import { TransportError, decodeMessages, encodeMessages } from '../../core/transport/index.js';
import { MAX_CONTEXT_BYTES, MAX_ID_BYTES, encodeMessage, joinMessageFrame } from '../../core/transport/codec.js';
import { entries, everyMessage, pseudoRandomBytes } from './helpers.js';

t.test('every message type round-trips exactly, one per frame and all in one frame', async (t) => {
  const all = everyMessage();
  const types = new Set(all.map((m) => m.type));
  t.equal(types.size, 13, 'the fixture covers all 13 message types');
  for (const m of all) t.same(decodeMessages(encodeMessages([m])), [m], `${m.type} alone`);
  const decoded = decodeMessages(encodeMessages(all));
  t.same(decoded, all, 'all in one frame, in order');
  t.same(decodeMessages(encodeMessages([])), [], 'an empty frame');
});

t.test('decoded data is a plain Uint8Array that does not alias the caller’s frame buffer', async (t) => {
  const frame = encodeMessages(everyMessage().slice(0, 1));
  const [m] = decodeMessages(frame);
  if (m?.type !== 'append') throw new Error('expected an append');
  const data = m.entries[0]!.data;
  t.equal(Object.getPrototypeOf(data), Uint8Array.prototype, 'a plain Uint8Array');
  t.not(data.buffer, frame.buffer, 'its own buffer');
  frame.fill(0);
  t.same(data, pseudoRandomBytes(300, 7), 'unchanged when the frame buffer is reused');
});

t.test('decoding accepts a Buffer (what ws delivers) and a view at an offset', async (t) => {
  const frame = encodeMessages(everyMessage());
  t.same(decodeMessages(Buffer.from(frame)), everyMessage(), 'Buffer');
  const padded = new Uint8Array(frame.byteLength + 10);
  padded.set(frame, 7);
  t.same(decodeMessages(padded.subarray(7, 7 + frame.byteLength)), everyMessage(), 'subarray');
});

t.test('messages encoded one by one and joined equal the frame encoded at once', async (t) => {
  const all = everyMessage();
  const parts = all.map(encodeMessage);
  const joined = joinMessageFrame(parts, parts.reduce((n, p) => n + p.byteLength, 0));
  t.same(joined, encodeMessages(all));
});

t.test('what cannot be decoded is refused at encoding with TRANSPORT_BAD_MESSAGE', async (t) => {
  const hb = { type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 1, context: 1 } as const;
  const bad: Array<[string, Message]> = [
    ['negative term', { ...hb, term: -1 }],
    ['fractional commit', { ...hb, commit: 1.5 }],
    ['unsafe integer', { ...hb, context: 2 ** 53 }],
    ['NaN', { ...hb, term: Number.NaN }],
    ['long id', { ...hb, from: 'x'.repeat(MAX_ID_BYTES + 1) }],
    ['long context', { type: 'readIndex', from: 'a', to: 'b', term: 0, context: 'c'.repeat(MAX_CONTEXT_BYTES + 1) }],
  ];
  for (const [what, m] of bad) {
    t.throws(() => encodeMessages([m]), { name: 'TransportError', code: 'TRANSPORT_BAD_MESSAGE' }, what);
  }
  t.ok(new TransportError('TRANSPORT_BAD_FRAME', 'x') instanceof Error, 'TransportError is an Error');
});

t.test('binary is smaller than JSON with base64 data', async (t) => {
  const append: Message = { type: 'append', from: 'member-1', to: 'member-2', term: 3, prevLogIndex: 1000, prevLogTerm: 3, commit: 999, entries: entries(1001, 64, 256, 3) };
  const binary = encodeMessages([append]).byteLength;
  const json = JSON.stringify({ ...append, entries: append.entries.map((e) => ({ ...e, data: Buffer.from(e.data).toString('base64') })) }).length;
  t.ok(binary < 64 * 256 * 1.05, `append of 64 x 256 B: ${binary} bytes, within 5% of its data`);
  t.ok(binary < json * 0.8, `binary ${binary} < 80% of JSON ${json}`);
});
