// The snapshot stream on its own: a sender cuts a snapshot into a header and chunks, an
// assembler puts it back together, and anything out of order, oversized or unannounced is
// refused as a bad frame.
import t from 'tap';
import type { SnapshotMessage } from '../../core/raft/index.js';
import { FrameKind, readFrameHeader } from '../../core/transport/codec.js';
import { TransportError } from '../../core/transport/index.js';
import {
  SnapshotAssembler,
  SnapshotSender,
  decodeSnapshotAck,
  encodeSnapshotAck,
  encodeSnapshotChunk,
  encodeSnapshotHeader,
} from '../../core/transport/snapshot-stream.js';
import { pseudoRandomBytes, snapshotMessage } from './helpers.js';

function framesOf(sender: SnapshotSender): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let frame = sender.nextFrame(); frame !== undefined; frame = sender.nextFrame()) frames.push(frame);
  return frames;
}

function feed(assembler: SnapshotAssembler, frame: Uint8Array): { streamId: number; message: SnapshotMessage } | undefined {
  const { kind, reader } = readFrameHeader(frame);
  return assembler.accept(kind, reader);
}

t.test('a snapshot is cut into a header and chunks and reassembled intact', async (t) => {
  const data = pseudoRandomBytes(10_000, 3);
  const m = snapshotMessage('a', 'b', data);
  const sender = new SnapshotSender(m, 7, 3_000);
  const frames = framesOf(sender);
  t.equal(frames.length, 1 + 4, 'header and 4 chunks (3000 + 3000 + 3000 + 1000)');
  t.ok(sender.done);
  t.ok(frames.every((f) => f.byteLength <= 3_000 + 16), 'no frame much larger than a chunk');
  const assembler = new SnapshotAssembler(1 << 20);
  const results = frames.map((f) => feed(assembler, f));
  t.same(results.slice(0, -1), [undefined, undefined, undefined, undefined], 'nothing until the last chunk');
  const done = results.at(-1);
  t.equal(done?.streamId, 7);
  t.same(done?.message, m, 'the same message, data included');
  t.equal(assembler.bufferedBytes, 0, 'nothing held afterwards');
});

t.test('the stream sends the data as it was when it began, whatever happens to it after', async (t) => {
  const data = Buffer.from(pseudoRandomBytes(10_000, 4)); // a Buffer, as a store's snapshot is
  const original = Buffer.from(data);
  const m = snapshotMessage('a', 'b', data);
  const sender = new SnapshotSender(m, 3, 3_000);
  const first = sender.nextFrame()!;
  data.fill(0); // the member's store writes into a snapshot's memory again later
  const assembler = new SnapshotAssembler(1 << 20);
  let done = feed(assembler, first);
  for (let frame = sender.nextFrame(); frame !== undefined; frame = sender.nextFrame()) done = feed(assembler, frame);
  t.ok(done !== undefined && Buffer.from(done.message.snapshot.data).equals(original), 'the data as it was');
});

t.test('an empty snapshot completes with its header', async (t) => {
  const m = snapshotMessage('a', 'b', new Uint8Array(0));
  const frames = framesOf(new SnapshotSender(m, 1, 100));
  t.equal(frames.length, 1);
  t.same(feed(new SnapshotAssembler(100), frames[0]!)?.message, m);
});

t.test('out-of-order, unannounced, oversized and stray frames are refused', async (t) => {
  const m = snapshotMessage('a', 'b', pseudoRandomBytes(100, 1));
  const header = encodeSnapshotHeader(5, m);
  const bad = { name: 'TransportError', code: 'TRANSPORT_BAD_FRAME' };
  const cases: Array<[string, Uint8Array[], RegExp]> = [
    ['chunk without header', [encodeSnapshotChunk(5, 0, new Uint8Array(10))], /stream 5, which is not open/],
    ['chunk of another stream', [header, encodeSnapshotChunk(6, 0, new Uint8Array(10))], /stream 6/],
    ['skipped offset', [header, encodeSnapshotChunk(5, 10, new Uint8Array(10))], /offset 10, expected 0/],
    ['past the total', [header, encodeSnapshotChunk(5, 0, new Uint8Array(101))], /past the announced 100/],
    ['empty chunk', [header, encodeSnapshotChunk(5, 0, new Uint8Array(0))], /empty chunk/],
    ['oversized', [encodeSnapshotHeader(1, snapshotMessage('a', 'b', new Uint8Array(2000)))], /over the 1000-byte limit/],
    ['ack in the stream', [encodeSnapshotAck(5, true)], /not part of a snapshot stream/],
  ];
  for (const [what, frames, reason] of cases) {
    const assembler = new SnapshotAssembler(1000);
    t.throws(() => frames.forEach((f) => feed(assembler, f)), { ...bad, message: reason }, what);
    t.equal(assembler.bufferedBytes, 0, `${what}: nothing held after the refusal`);
  }
  const withData = encodeSnapshotHeader(1, m);
  // Forge a header whose message carries data: re-encode with the data inside.
  const forged = Uint8Array.from([...withData.subarray(0, withData.byteLength - 1), 1, 42]);
  t.throws(() => feed(new SnapshotAssembler(1000), forged), { ...bad, message: /data belongs in chunks/ }, 'header with data');
});

t.test('a new header abandons an unfinished stream', async (t) => {
  const first = snapshotMessage('a', 'b', pseudoRandomBytes(100, 1));
  const second = snapshotMessage('a', 'b', pseudoRandomBytes(50, 2));
  const assembler = new SnapshotAssembler(1000);
  const f1 = framesOf(new SnapshotSender(first, 1, 30));
  feed(assembler, f1[0]!);
  feed(assembler, f1[1]!);
  t.equal(assembler.bufferedBytes, 30);
  const f2 = framesOf(new SnapshotSender(second, 2, 30));
  const results = f2.map((f) => feed(assembler, f));
  t.same(results.at(-1)?.message, second);
  t.throws(() => feed(assembler, f1[2]!), TransportError, 'the abandoned stream cannot continue');
});

t.test('acks round-trip and are checked', async (t) => {
  t.same(decodeSnapshotAck(encodeSnapshotAck(2 ** 40, true)), { streamId: 2 ** 40, ok: true });
  t.same(decodeSnapshotAck(encodeSnapshotAck(3, false)), { streamId: 3, ok: false });
  t.throws(() => decodeSnapshotAck(Uint8Array.of(1, FrameKind.snapshotAck, 3, 1, 0)), { message: /trailing/ });
  t.throws(() => decodeSnapshotAck(Uint8Array.of(1, FrameKind.messages, 0)), { message: /where a snapshot ack was expected/ });
});
