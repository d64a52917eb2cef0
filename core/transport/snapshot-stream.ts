// Snapshots travel in pieces: one header frame (the 'snapshot' message without its data,
// plus the data's size), then data chunks of at most snapshotChunkBytes, each naming its
// offset. The sender produces chunks one at a time so the socket, not memory, sets the
// pace and heartbeats can slip in between chunks; the receiver checks every offset and the
// total before it hands over one whole Message, then answers with an ack frame on the same
// socket so the leader learns the outcome (rawNode.reportSnapshot).
import type { SnapshotMessage } from '../raft/index.js';
import { FrameKind, messageSize, readFrameHeader, readMessage, writeFrameHeader, writeMessage } from './codec.js';
import { badFrame, withinFrame } from './errors.js';
import { ByteReader, ByteWriter, varintSize } from './wire.js';

const FRAME_HEADER_BYTES = 2;
const EMPTY = new Uint8Array(0);

/** Produces the frames of one outgoing snapshot, one at a time. */
export class SnapshotSender {
  private offset = 0;
  private headerSent = false;
  readonly message: SnapshotMessage;

  /**
   * Takes a copy of the snapshot's data: a stream to a slow follower can outlive the
   * sender's own use of those bytes (a member's store writes into a snapshot's memory again
   * two snapshots later, core/store/store.ts), and a snapshot is sent rarely.
   */
  constructor(
    message: SnapshotMessage,
    readonly streamId: number,
    private readonly chunkBytes: number,
  ) {
    // new Uint8Array(data) copies; data.slice() would not when data is a Buffer.
    this.message = { ...message, snapshot: { ...message.snapshot, data: new Uint8Array(message.snapshot.data) } };
  }

  /** Total bytes of snapshot data in this stream. */
  get totalBytes(): number {
    return this.message.snapshot.data.byteLength;
  }

  /** True once every frame was produced. */
  get done(): boolean {
    return this.headerSent && this.offset >= this.totalBytes;
  }

  /** The next frame to send, or undefined when done. */
  nextFrame(): Uint8Array | undefined {
    if (!this.headerSent) {
      this.headerSent = true;
      return encodeSnapshotHeader(this.streamId, this.message);
    }
    if (this.offset >= this.totalBytes) return undefined;
    const end = Math.min(this.offset + this.chunkBytes, this.totalBytes);
    const frame = encodeSnapshotChunk(this.streamId, this.offset, this.message.snapshot.data.subarray(this.offset, end));
    this.offset = end;
    return frame;
  }
}

export function encodeSnapshotHeader(streamId: number, m: SnapshotMessage): Uint8Array {
  const withoutData: SnapshotMessage = { ...m, snapshot: { metadata: m.snapshot.metadata, data: EMPTY } };
  const total = m.snapshot.data.byteLength;
  const w = new ByteWriter(FRAME_HEADER_BYTES + varintSize(streamId) + varintSize(total) + messageSize(withoutData));
  writeFrameHeader(w, FrameKind.snapshotHeader);
  w.varint(streamId, 'stream id');
  w.varint(total, 'snapshot size');
  writeMessage(w, withoutData);
  return w.finish();
}

export function encodeSnapshotChunk(streamId: number, offset: number, data: Uint8Array): Uint8Array {
  const w = new ByteWriter(FRAME_HEADER_BYTES + varintSize(streamId) + varintSize(offset) + data.byteLength);
  writeFrameHeader(w, FrameKind.snapshotChunk);
  w.varint(streamId, 'stream id');
  w.varint(offset, 'chunk offset');
  // The chunk's data runs to the end of the frame: the frame length is its length.
  w.raw(data);
  return w.finish();
}

export function encodeSnapshotAck(streamId: number, ok: boolean): Uint8Array {
  const w = new ByteWriter(FRAME_HEADER_BYTES + varintSize(streamId) + 1);
  writeFrameHeader(w, FrameKind.snapshotAck);
  w.varint(streamId, 'stream id');
  w.bool(ok);
  return w.finish();
}

export function decodeSnapshotAck(bytes: Uint8Array): { streamId: number; ok: boolean } {
  const { kind, reader } = readFrameHeader(bytes);
  if (kind !== FrameKind.snapshotAck) throw badFrame(`frame kind ${kind} where a snapshot ack was expected`);
  const streamId = reader.varint('stream id');
  const ok = reader.bool('ack');
  reader.end('the snapshot ack');
  return { streamId, ok };
}

interface Incoming {
  readonly streamId: number;
  readonly message: SnapshotMessage;
  readonly total: number;
  readonly chunks: Uint8Array[];
  received: number;
}

/**
 * Reassembles the snapshot streams arriving on one connection. Only one stream is open at
 * a time: a new header abandons an unfinished stream (its sender gave up on it).
 */
export class SnapshotAssembler {
  private incoming: Incoming | undefined;

  constructor(private readonly maxSnapshotBytes: number) {}

  /** Bytes held for the unfinished stream. */
  get bufferedBytes(): number {
    return this.incoming?.received ?? 0;
  }

  /** Handles a header or chunk frame (reader after the frame header); returns a completed stream. */
  accept(kind: FrameKind, reader: ByteReader): { streamId: number; message: SnapshotMessage } | undefined {
    try {
      if (kind === FrameKind.snapshotHeader) this.startStream(reader);
      else if (kind === FrameKind.snapshotChunk) this.addChunk(reader);
      else throw badFrame(`frame kind ${kind} is not part of a snapshot stream`);
    } catch (error) {
      this.incoming = undefined;
      throw withinFrame(error, 'snapshot stream');
    }
    return this.takeIfComplete();
  }

  private startStream(reader: ByteReader): void {
    const streamId = reader.varint('stream id');
    const total = reader.varint('snapshot size');
    if (total > this.maxSnapshotBytes) {
      throw badFrame(`snapshot of ${total} bytes is over the ${this.maxSnapshotBytes}-byte limit`);
    }
    const message = readMessage(reader);
    reader.end('the snapshot header');
    if (message.type !== 'snapshot') throw badFrame(`header carries a ${message.type} message, expected snapshot`);
    if (message.snapshot.data.byteLength !== 0) throw badFrame('header carries snapshot data; data belongs in chunks');
    this.incoming = { streamId, message, total, chunks: [], received: 0 };
  }

  private addChunk(reader: ByteReader): void {
    const streamId = reader.varint('stream id');
    const offset = reader.varint('chunk offset');
    const s = this.incoming;
    if (s === undefined || s.streamId !== streamId) throw badFrame(`chunk of stream ${streamId}, which is not open`);
    if (offset !== s.received) throw badFrame(`chunk at offset ${offset}, expected ${s.received}`);
    if (reader.remaining === 0) throw badFrame('empty chunk');
    if (s.received + reader.remaining > s.total) {
      throw badFrame(`chunk ends at ${s.received + reader.remaining}, past the announced ${s.total} bytes`);
    }
    const data = reader.rest();
    s.chunks.push(data);
    s.received += data.byteLength;
  }

  private takeIfComplete(): { streamId: number; message: SnapshotMessage } | undefined {
    const s = this.incoming;
    if (s === undefined || s.received < s.total) return undefined;
    this.incoming = undefined;
    const data = new Uint8Array(s.total);
    let at = 0;
    for (const chunk of s.chunks) {
      data.set(chunk, at);
      at += chunk.byteLength;
    }
    const { metadata } = s.message.snapshot;
    return { streamId: s.streamId, message: { ...s.message, snapshot: { metadata, data } } };
  }
}
