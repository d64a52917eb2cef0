// The binary encoding of Raft messages. A frame starts with the wire version and a frame
// kind; a messages frame then holds a count and the messages back to back. Every integer is
// a varint, every string and byte field is length-prefixed, so a typical append costs a few
// bytes per entry on top of its data (JSON with base64 costs a third more data plus field
// names; bench/codec.ts measures it). Decoding checks every field (see validate.ts for the
// rules across fields) and throws TransportError('TRANSPORT_BAD_FRAME') naming the problem.
import { assertNever } from '../raft/index.js';
import type { ConfState, Entry, EntryType, Message, MessageType } from '../raft/index.js';
import { badFrame, withinFrame } from './errors.js';
import { validateMessage } from './validate.js';
import { ByteReader, ByteWriter, bytesFieldSize, stringFieldSize, varintSize } from './wire.js';

/** Bumped on any incompatible change; a peer with another version is refused at handshake. */
export const WIRE_VERSION = 1;

export const FrameKind = {
  /** Raft messages (encodeMessages). */
  messages: 1,
  /** The start of a streamed snapshot: its message without data, and the data's size. */
  snapshotHeader: 2,
  /** One piece of a streamed snapshot's data. */
  snapshotChunk: 3,
  /** The receiver's word that a streamed snapshot arrived whole and was delivered. */
  snapshotAck: 4,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const FRAME_HEADER_BYTES = 2;
/** Longest member id accepted on the wire. */
export const MAX_ID_BYTES = 1024;
/** Longest ReadIndex context accepted on the wire. */
export const MAX_CONTEXT_BYTES = 64 * 1024;

const TYPE_CODES: Readonly<Record<MessageType, number>> = {
  append: 1, appendResponse: 2, heartbeat: 3, heartbeatResponse: 4, vote: 5, voteResponse: 6,
  preVote: 7, preVoteResponse: 8, snapshot: 9, propose: 10, readIndex: 11, readIndexResponse: 12,
  timeoutNow: 13,
};
const TYPES_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as MessageType]),
);
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'confChange'];
/** Smallest encodings, used to bound counts by the bytes left before allocating arrays. */
const MIN_MESSAGE_BYTES = 6; // type, from (2), to (2), term
const MIN_ENTRY_BYTES = 4; // type, term, index, data length
const MIN_ID_BYTES = 2; // length, one byte

/** Writes the two header bytes every frame starts with. */
export function writeFrameHeader(w: ByteWriter, kind: FrameKind): void {
  w.u8(WIRE_VERSION);
  w.u8(kind);
}

/** Reads and checks the frame header; returns the kind and a reader positioned after it. */
export function readFrameHeader(bytes: Uint8Array): { kind: FrameKind; reader: ByteReader } {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw badFrame(`${bytes.byteLength} bytes is shorter than a frame header`);
  if (bytes[0] !== WIRE_VERSION) throw badFrame(`wire version ${bytes[0]}, expected ${WIRE_VERSION}`);
  const kind = bytes[1]!;
  if (kind < FrameKind.messages || kind > FrameKind.snapshotAck) throw badFrame(`unknown frame kind ${kind}`);
  return { kind: kind as FrameKind, reader: new ByteReader(bytes, FRAME_HEADER_BYTES) };
}

/** Encodes messages into one frame. Throws TRANSPORT_BAD_MESSAGE if a field cannot be represented. */
export function encodeMessages(messages: readonly Message[]): Uint8Array {
  let size = FRAME_HEADER_BYTES + varintSize(messages.length);
  for (const m of messages) size += messageSize(m);
  const w = new ByteWriter(size);
  writeFrameHeader(w, FrameKind.messages);
  w.varint(messages.length, 'message count');
  for (const m of messages) writeMessage(w, m);
  return w.finish();
}

/**
 * Encodes one message on its own, for a send queue that accounts bytes per message and
 * joins them into frames later (joinMessageFrame). Throws like encodeMessages.
 */
export function encodeMessage(m: Message): Uint8Array {
  const w = new ByteWriter(messageSize(m));
  writeMessage(w, m);
  return w.finish();
}

/** Frame overhead on top of the messages it holds, at most (header and an 8-byte count). */
export const MAX_FRAME_OVERHEAD = FRAME_HEADER_BYTES + 8;

/** A messages frame made of messages encoded with encodeMessage; `bytes` is their total size. */
export function joinMessageFrame(encoded: readonly Uint8Array[], bytes: number): Uint8Array {
  const w = new ByteWriter(FRAME_HEADER_BYTES + varintSize(encoded.length) + bytes);
  writeFrameHeader(w, FrameKind.messages);
  w.varint(encoded.length, 'message count');
  for (const m of encoded) w.raw(m);
  return w.finish();
}

/** Decodes and validates a messages frame; throws TRANSPORT_BAD_FRAME naming the problem. */
export function decodeMessages(bytes: Uint8Array): Message[] {
  // Entry data are views into one private copy of the frame: the caller's buffer (often a
  // slice of a larger socket buffer) may be reused or kept alive otherwise.
  const { kind, reader } = readFrameHeader(new Uint8Array(bytes));
  if (kind !== FrameKind.messages) throw badFrame(`frame kind ${kind} is not a messages frame`);
  const count = reader.count('message count', MIN_MESSAGE_BYTES);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    try {
      messages.push(readMessage(reader));
    } catch (error) {
      throw withinFrame(error, `message ${i}`);
    }
  }
  reader.end('the last message');
  return messages;
}

/** The exact encoded size of one message (also what the send queue accounts for it). */
export function messageSize(m: Message): number {
  let size = 1 + stringFieldSize(m.from) + stringFieldSize(m.to) + varintSize(m.term);
  switch (m.type) {
    case 'append':
      size += varintSize(m.prevLogIndex) + varintSize(m.prevLogTerm) + varintSize(m.commit) + entriesSize(m.entries);
      break;
    case 'appendResponse':
      size += varintSize(m.index) + 1 + varintSize(m.hintIndex) + varintSize(m.hintTerm);
      break;
    case 'heartbeat':
      size += varintSize(m.commit) + varintSize(m.context);
      break;
    case 'heartbeatResponse':
      size += varintSize(m.context);
      break;
    case 'vote':
    case 'preVote':
      size += varintSize(m.lastLogIndex) + varintSize(m.lastLogTerm) + 1;
      break;
    case 'voteResponse':
    case 'preVoteResponse':
      size += 1;
      break;
    case 'snapshot': {
      const { metadata, data } = m.snapshot;
      size += varintSize(metadata.index) + varintSize(metadata.term) + confStateSize(metadata.confState) + bytesFieldSize(data);
      break;
    }
    case 'propose':
      size += entriesSize(m.entries);
      break;
    case 'readIndex':
      size += stringFieldSize(m.context);
      break;
    case 'readIndexResponse':
      size += varintSize(m.index) + stringFieldSize(m.context);
      break;
    case 'timeoutNow':
      break;
    default:
      assertNever(m);
  }
  return size;
}

function entriesSize(entries: readonly Entry[]): number {
  let size = varintSize(entries.length);
  for (const e of entries) size += 1 + varintSize(e.term) + varintSize(e.index) + bytesFieldSize(e.data);
  return size;
}

function confStateSize(conf: ConfState): number {
  let size = varintSize(conf.voters.length) + varintSize(conf.learners.length);
  for (const id of conf.voters) size += stringFieldSize(id);
  for (const id of conf.learners) size += stringFieldSize(id);
  return size;
}

/** Writes one message; its size must have been counted with messageSize. */
export function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(TYPE_CODES[m.type]);
  w.string(m.from, MAX_ID_BYTES, 'from');
  w.string(m.to, MAX_ID_BYTES, 'to');
  w.varint(m.term, 'term');
  switch (m.type) {
    case 'append':
      w.varint(m.prevLogIndex, 'prevLogIndex');
      w.varint(m.prevLogTerm, 'prevLogTerm');
      w.varint(m.commit, 'commit');
      writeEntries(w, m.entries);
      break;
    case 'appendResponse':
      w.varint(m.index, 'index');
      w.bool(m.reject);
      w.varint(m.hintIndex, 'hintIndex');
      w.varint(m.hintTerm, 'hintTerm');
      break;
    case 'heartbeat':
      w.varint(m.commit, 'commit');
      w.varint(m.context, 'context');
      break;
    case 'heartbeatResponse':
      w.varint(m.context, 'context');
      break;
    case 'vote':
    case 'preVote':
      w.varint(m.lastLogIndex, 'lastLogIndex');
      w.varint(m.lastLogTerm, 'lastLogTerm');
      w.bool(m.transfer);
      break;
    case 'voteResponse':
    case 'preVoteResponse':
      w.bool(m.reject);
      break;
    case 'snapshot':
      w.varint(m.snapshot.metadata.index, 'snapshot index');
      w.varint(m.snapshot.metadata.term, 'snapshot term');
      writeConfState(w, m.snapshot.metadata.confState);
      w.data(m.snapshot.data, 'snapshot data');
      break;
    case 'propose':
      writeEntries(w, m.entries);
      break;
    case 'readIndex':
      w.string(m.context, MAX_CONTEXT_BYTES, 'context');
      break;
    case 'readIndexResponse':
      w.varint(m.index, 'index');
      w.string(m.context, MAX_CONTEXT_BYTES, 'context');
      break;
    case 'timeoutNow':
      break;
    default:
      assertNever(m);
  }
}

function writeEntries(w: ByteWriter, entries: readonly Entry[]): void {
  w.varint(entries.length, 'entry count');
  for (const e of entries) {
    w.u8(e.type === 'normal' ? 0 : 1);
    w.varint(e.term, 'entry term');
    w.varint(e.index, 'entry index');
    w.data(e.data, 'entry data');
  }
}

function writeConfState(w: ByteWriter, conf: ConfState): void {
  w.varint(conf.voters.length, 'voter count');
  w.varint(conf.learners.length, 'learner count');
  for (const id of conf.voters) w.string(id, MAX_ID_BYTES, 'voter');
  for (const id of conf.learners) w.string(id, MAX_ID_BYTES, 'learner');
}

/** Reads one message and checks it (field by field here, across fields in validate.ts). */
export function readMessage(r: ByteReader): Message {
  const code = r.u8('type');
  const type = TYPES_BY_CODE.get(code);
  if (type === undefined) throw badFrame(`unknown message type ${code}`);
  try {
    const from = r.string('from', 1, MAX_ID_BYTES);
    const to = r.string('to', 1, MAX_ID_BYTES);
    const term = r.varint('term');
    const m = readBody(r, type, from, to, term);
    validateMessage(m);
    return m;
  } catch (error) {
    throw withinFrame(error, type);
  }
}

/** The rest of a message after its envelope. Object literals, not spreads: decoding is hot. */
function readBody(r: ByteReader, type: MessageType, from: string, to: string, term: number): Message {
  switch (type) {
    case 'append': {
      const prevLogIndex = r.varint('prevLogIndex');
      const prevLogTerm = r.varint('prevLogTerm');
      const commit = r.varint('commit');
      return { type, from, to, term, prevLogIndex, prevLogTerm, commit, entries: readEntries(r) };
    }
    case 'appendResponse': {
      const index = r.varint('index');
      const reject = r.bool('reject');
      return { type, from, to, term, index, reject, hintIndex: r.varint('hintIndex'), hintTerm: r.varint('hintTerm') };
    }
    case 'heartbeat': {
      const commit = r.varint('commit');
      return { type, from, to, term, commit, context: r.varint('context') };
    }
    case 'heartbeatResponse':
      return { type, from, to, term, context: r.varint('context') };
    case 'vote':
    case 'preVote': {
      const lastLogIndex = r.varint('lastLogIndex');
      const lastLogTerm = r.varint('lastLogTerm');
      return { type, from, to, term, lastLogIndex, lastLogTerm, transfer: r.bool('transfer') };
    }
    case 'voteResponse':
    case 'preVoteResponse':
      return { type, from, to, term, reject: r.bool('reject') };
    case 'snapshot': {
      const index = r.varint('snapshot index');
      const snapshotTerm = r.varint('snapshot term');
      const confState = readConfState(r);
      const data = r.data('snapshot data');
      return { type, from, to, term, snapshot: { metadata: { index, term: snapshotTerm, confState }, data } };
    }
    case 'propose':
      return { type, from, to, term, entries: readEntries(r) };
    case 'readIndex':
      return { type, from, to, term, context: r.string('context', 0, MAX_CONTEXT_BYTES) };
    case 'readIndexResponse': {
      const index = r.varint('index');
      return { type, from, to, term, index, context: r.string('context', 0, MAX_CONTEXT_BYTES) };
    }
    case 'timeoutNow':
      return { type, from, to, term };
    default:
      return assertNever(type);
  }
}

function readEntries(r: ByteReader): Entry[] {
  const count = r.count('entry count', MIN_ENTRY_BYTES);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const code = r.u8('type');
      const type = ENTRY_TYPES[code];
      if (type === undefined) throw badFrame(`unknown entry type ${code}`);
      const term = r.varint('term');
      const index = r.varint('index');
      entries.push({ term, index, type, data: r.data('data') });
    } catch (error) {
      throw withinFrame(error, `entry ${i}`);
    }
  }
  return entries;
}

function readConfState(r: ByteReader): ConfState {
  const voterCount = r.count('voter count', MIN_ID_BYTES);
  const learnerCount = r.count('learner count', MIN_ID_BYTES);
  const voters: string[] = [];
  const learners: string[] = [];
  for (let i = 0; i < voterCount; i++) voters.push(r.string('voter', 1, MAX_ID_BYTES));
  for (let i = 0; i < learnerCount; i++) learners.push(r.string('learner', 1, MAX_ID_BYTES));
  return { voters, learners };
}
