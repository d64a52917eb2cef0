// Garbage never crashes the decoder and never gets through it: random bytes, every
// truncation of valid frames, random mutations, forged huge lengths and each broken rule
// either throw TransportError('TRANSPORT_BAD_FRAME') naming the problem, or decode to
// messages that re-encode to the very same bytes (the encoding is canonical).
import t from 'tap';
import { seededRandom } from '../../core/raft/index.js';
import type { Message } from '../../core/raft/index.js';
import { TransportError, decodeMessages, encodeMessages } from '../../core/transport/index.js';
import { everyMessage } from './helpers.js';

const random = seededRandom(20240611);
const int = (n: number): number => Math.floor(random() * n);

/** Decodes `bytes`; returns 'rejected' on a bad-frame error and fails on any other error. */
function tryDecode(bytes: Uint8Array): Message[] | 'rejected' {
  try {
    return decodeMessages(bytes);
  } catch (error) {
    if (error instanceof TransportError && error.code === 'TRANSPORT_BAD_FRAME') return 'rejected';
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

t.test('random bytes are rejected without crashing', async (t) => {
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(int(200));
    for (let j = 0; j < bytes.length; j++) bytes[j] = int(256);
    // Half of them carry a valid header, to reach the message decoder.
    if (i % 2 === 0 && bytes.length >= 2) bytes.set([1, 1]);
    const result = tryDecode(bytes);
    if (result === 'rejected') rejected++;
    else if (!sameBytes(encodeMessages(result), bytes)) t.fail(`random frame ${i} decoded but is not canonical`);
  }
  t.ok(rejected > 2900, `${rejected} of 3000 rejected, the rest canonical`);
});

t.test('every truncation of a valid frame is rejected', async (t) => {
  const frame = encodeMessages(everyMessage());
  let rejected = 0;
  for (let length = 0; length < frame.byteLength; length++) {
    if (tryDecode(frame.subarray(0, length)) === 'rejected') rejected++;
  }
  t.equal(rejected, frame.byteLength, `all ${frame.byteLength} prefixes rejected`);
  t.equal(tryDecode(Uint8Array.of(...frame, 0)), 'rejected', 'a trailing byte is rejected');
});

t.test('mutated frames are rejected or decode canonically', async (t) => {
  const frames = everyMessage().map((m) => encodeMessages([m]));
  let rejected = 0;
  let decoded = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from(frames[i % frames.length]!);
    for (let flips = 1 + int(3); flips > 0; flips--) bytes[int(bytes.length)] = int(256);
    const result = tryDecode(bytes);
    if (result === 'rejected') {
      rejected++;
      continue;
    }
    decoded++;
    if (!sameBytes(encodeMessages(result), bytes)) t.fail(`mutation ${i} decoded but re-encodes differently`);
  }
  t.ok(rejected > 0 && decoded > 0, `${rejected} rejected, ${decoded} decoded to other valid messages`);
});

/** A frame from raw parts: numbers are bytes, strings are ASCII with a one-byte length. */
function frame(...parts: Array<number | string | number[]>): Uint8Array {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') bytes.push(p);
    else if (typeof p === 'string') bytes.push(p.length, ...Array.from(p, (c) => c.charCodeAt(0)));
    else bytes.push(...p);
  }
  return Uint8Array.from(bytes);
}

const HUGE = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]; // 2^53 - 1
const TOO_BIG = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]; // 2^53
const NINE_BYTES = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
const HEADER = [1, 1];
/** A heartbeat a -> b, term 1, commit 1, context 1 (type 3). */
const HB = [3, 'a', 'b', 1, 1, 1];
const cc = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

t.test('each broken rule is rejected with a reason that names it', async (t) => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', frame(), /shorter than a frame header/],
    ['wrong version', frame(2, 1, 0), /wire version 2/],
    ['unknown kind', frame(1, 9, 0), /unknown frame kind 9/],
    ['not a messages frame', frame(1, 3, 0), /not a messages frame/],
    ['huge message count', frame(...HEADER, HUGE), /cannot fit/],
    ['count beyond the bytes', frame(...HEADER, 2, ...HB), /cannot fit|truncated/],
    ['unsafe integer', frame(...HEADER, 1, 3, 'a', 'b', TOO_BIG, 1, 1), /not a safe integer/],
    ['nine-byte varint', frame(...HEADER, 1, 3, 'a', 'b', NINE_BYTES, 1, 1), /longer than 8 bytes/],
    ['overlong varint', frame(...HEADER, 1, 3, 'a', 'b', [0x81, 0x00], 1, 1), /overlong/],
    ['unknown message type', frame(...HEADER, 1, 99, 'a', 'b', 1), /unknown message type 99/],
    ['huge string length', frame(...HEADER, 1, 3, HUGE, 'b', 1, 1, 1), /from length .* exceeds/],
    ['empty id', frame(...HEADER, 1, 3, '', 'b', 1, 1, 1), /from is 0 bytes/],
    ['invalid UTF-8 id', frame(...HEADER, 1, 3, [2, 0xc3, 0x28], 'b', 1, 1, 1), /not valid UTF-8/],
    ['boolean 2', frame(...HEADER, 1, 6, 'a', 'b', 1, 2), /reject is 2/],
    ['trailing bytes', frame(...HEADER, 1, ...HB, 0), /trailing bytes/],
    ['from equals to', frame(...HEADER, 1, 3, 'a', 'a', 1, 1, 1), /from and to are both/],
    ['term 0 heartbeat', frame(...HEADER, 1, 3, 'a', 'b', 0, 1, 1), /term 0/],
    ['huge entry count', frame(...HEADER, 1, 1, 'a', 'b', 1, 0, 0, 0, HUGE), /entry count .* cannot fit/],
    ['huge entry data', frame(...HEADER, 1, 1, 'a', 'b', 1, 0, 0, 0, 1, 0, 1, 1, HUGE), /entry 0: data length .* exceeds/],
    ['unknown entry type', frame(...HEADER, 1, 1, 'a', 'b', 1, 0, 0, 0, 1, 7, 1, 1, 0), /unknown entry type 7/],
    ['gap in entries', frame(...HEADER, 1, 1, 'a', 'b', 1, 0, 0, 0, 1, 0, 1, 2, 0), /index 2, expected 1/],
    ['entry term above message term', frame(...HEADER, 1, 1, 'a', 'b', 1, 0, 0, 0, 1, 0, 2, 1, 0), /term 2, outside/],
    ['bad confChange data', frame(...HEADER, 1, 10, 'a', 'b', 0, 1, 1, 0, 0, 2, ...cc('{}').slice(1)), /confChange/],
    ['snapshot without voters', frame(...HEADER, 1, 9, 'a', 'b', 1, 1, 1, 0, 0, 0), /no voters/],
    ['snapshot with a duplicate member', frame(...HEADER, 1, 9, 'a', 'b', 1, 1, 1, 1, 1, 'a', 'a', 0), /appears twice/],
    ['snapshot at index 0', frame(...HEADER, 1, 9, 'a', 'b', 1, 0, 1, 1, 0, 'a', 0), /index 0/],
    ['huge snapshot data', frame(...HEADER, 1, 9, 'a', 'b', 1, 1, 1, 1, 0, 'a', HUGE), /snapshot data length .* exceeds/],
    ['long context', frame(...HEADER, 1, 11, 'a', 'b', 0, [0x81, 0x80, 0x04], new Array<number>(65537).fill(0x61)), /context is 65537 bytes/],
  ];
  for (const [what, bytes, reason] of cases) {
    t.throws(() => decodeMessages(bytes), { name: 'TransportError', code: 'TRANSPORT_BAD_FRAME', message: reason }, what);
  }
  t.same(decodeMessages(frame(...HEADER, 1, ...HB)), [{ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 1, context: 1 }], 'the base case decodes');
});

t.test('a reason says which message of the frame is bad', async (t) => {
  const good = encodeMessages([{ type: 'timeoutNow', from: 'a', to: 'b', term: 2 }]);
  const bytes = frame(...HEADER, 2, ...Array.from(good.subarray(3)), 3, 'a', 'b', 0, 1, 1);
  t.throws(() => decodeMessages(bytes), { message: /^bad frame: message 1: heartbeat: term 0/ });
});
