// Snapshot encoding of the whole store state (index, tree, event history). Nodes are written
// depth first, children in insertion order, so the same sequence of operations always yields
// byte-identical snapshots on every member.
//
// Format 2 (written since issue 8) is binary: JSON.stringify of the tree was most of a
// snapshot's cost (100–160 ms of 150–190 for 50,000 keys of 256 B), and a snapshot blocks
// the member's Ready loop. Little-endian throughout:
//
//   8 bytes    magic "\0cairnS2" (format 1, JSON text, starts with "{" instead)
//   f64        index          u32  historySize
//   node       the root; a node is:
//     u8         flags: 1 directory, 2 has expireAt, 4 has ttlMs
//     str        key;  str value (keys only)
//     f64        createdIndex, modifiedIndex;  f64 expireAt, f64 ttlMs (when flagged)
//     u32        child count, then the children (directories only)
//   str        the event history as JSON (a few hundred KB at most)
//
// where str is a u32 byte length and UTF-8 bytes. Format 1 snapshots (older data dirs) are
// still read.
import type { StoreEvent } from './history.js';
import type { NodeFields, TreeNode } from './node.js';

export interface StoreState {
  index: number;
  historySize: number;
  root: TreeNode;
  events: readonly StoreEvent[];
}

const MAGIC = Buffer.from('\0cairnS2', 'latin1');
const DIR = 1;
const HAS_EXPIRE = 2;
const HAS_TTL = 4;

/**
 * The size of the last snapshot encoded, from which the next one's room is reckoned: a store
 * changes little between snapshots (one that grows by 10,000 keys of 256 B between snapshots
 * at 100,000 keys grows by a tenth). Growing the buffer copies all that was written, while
 * room never written is mostly never backed: the kernel maps a page of a large allocation
 * when it is first written.
 */
let lastEncodedBytes = 64 * 1024;

/**
 * Buffer's own UTF-8 writer. `buf.write(s, offset, 'utf8')` reaches it after sorting out its
 * optional arguments: 240 against 205 ns per 256-byte string on the benchmark machine, and a
 * snapshot writes two strings per key. Node has had utf8Write on every Buffer since its first
 * releases; the fallback only guards against a runtime without it.
 */
type Utf8Write = (this: Buffer, s: string, offset: number) => number;
const utf8Write: Utf8Write = (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write
  ?? function (this: Buffer, s: string, offset: number): number { return this.write(s, offset, 'utf8'); };

/**
 * A growing little-endian buffer; strings are written in place, their length patched after.
 * copy() takes bytes from an earlier encoding; consecutive ranges of it are joined into one
 * copy, done before the next write.
 */
export class StateWriter {
  private buf: Buffer;
  private pos = 0;
  private runFrom: Uint8Array | undefined;
  private runStart = 0;
  private runEnd = 0;

  /**
   * Writes into `reuse` when it has room for the last encoding's size and a tenth more
   * (growing it if need be), else into a new buffer of twice that size, so that a store
   * that keeps growing can write into it again for a few snapshots.
   */
  constructor(reuse?: Buffer) {
    const room = lastEncodedBytes + Math.ceil(lastEncodedBytes / 10);
    this.buf = reuse !== undefined && reuse.length >= room ? reuse : Buffer.allocUnsafe(2 * lastEncodedBytes + 1024 * 1024);
  }

  /** The whole buffer written into (finish() returns the written part of it). */
  get memory(): Buffer {
    return this.buf;
  }

  /** Bytes written so far, counting a pending copy. */
  get position(): number {
    return this.pos + this.runEnd - this.runStart;
  }

  private ensure(n: number): void {
    if (this.runEnd !== this.runStart) this.flushRun();
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private flushRun(): void {
    const n = this.runEnd - this.runStart;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(this.runFrom!.subarray(this.runStart, this.runEnd), this.pos);
    this.pos += n;
    this.runStart = this.runEnd = 0;
  }

  /** Appends from[start, end): joined with the previous copy when it continues it. */
  copy(from: Uint8Array, start: number, end: number): void {
    if (from === this.runFrom && start === this.runEnd && this.runEnd !== this.runStart) {
      this.runEnd = end;
      return;
    }
    if (this.runEnd !== this.runStart) this.flushRun();
    this.runFrom = from;
    this.runStart = start;
    this.runEnd = end;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    this.ensure(4 + s.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const written = utf8Write.call(this.buf, s, this.pos + 4);
    this.buf.writeUInt32LE(written, this.pos);
    this.pos += 4 + written;
  }

  finish(): Uint8Array {
    if (this.runEnd !== this.runStart) this.flushRun();
    lastEncodedBytes = this.pos;
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads what SnapshotWriter wrote; any read past the end throws naming the offset. */
class SnapshotReader {
  private pos = MAGIC.length;

  constructor(private readonly buf: Buffer) {}

  private take(n: number): number {
    if (this.pos + n > this.buf.length) {
      throw new Error(`store snapshot: truncated at byte ${this.pos} of ${this.buf.length}; it is damaged`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number { return this.buf[this.take(1)]!; }
  u32(): number { return this.buf.readUInt32LE(this.take(4)); }
  f64(): number { return this.buf.readDoubleLE(this.take(8)); }

  str(): string {
    const length = this.u32();
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new Error(`store snapshot: ${this.buf.length - this.pos} stray bytes at the end; it is damaged`);
  }
}

/** A node's own fields, then (directories) its child count: what precedes its children. */
export function writeNodeHead(w: StateWriter, n: NodeFields, childCount: number): void {
  w.u8((n.dir ? DIR : 0) | (n.expireAt !== null ? HAS_EXPIRE : 0) | (n.ttlMs !== null ? HAS_TTL : 0));
  w.str(n.key);
  if (!n.dir) w.str(n.value);
  w.f64(n.createdIndex);
  w.f64(n.modifiedIndex);
  if (n.expireAt !== null) w.f64(n.expireAt);
  if (n.ttlMs !== null) w.f64(n.ttlMs);
  if (n.dir) w.u32(childCount);
}

function writeNode(w: StateWriter, n: TreeNode): void {
  writeNodeHead(w, n, n.children?.size ?? 0);
  if (n.dir) for (const child of n.children?.values() ?? []) writeNode(w, child);
}

/** What precedes the tree: the magic, the index and the history's size. */
export function writeStateHead(w: StateWriter, index: number, historySize: number): void {
  w.bytes(MAGIC);
  w.f64(index);
  w.u32(historySize);
}

/** What follows the tree: the event history. */
function writeStateTail(w: StateWriter, events: readonly StoreEvent[]): void {
  w.str(JSON.stringify(events));
}

function readNode(r: SnapshotReader): TreeNode {
  const flags = r.u8();
  const dir = (flags & DIR) !== 0;
  const key = r.str();
  const value = dir ? '' : r.str();
  const createdIndex = r.f64();
  const modifiedIndex = r.f64();
  const expireAt = (flags & HAS_EXPIRE) !== 0 ? r.f64() : null;
  const ttlMs = (flags & HAS_TTL) !== 0 ? r.f64() : null;
  const node: TreeNode = { key, dir, value, children: null, createdIndex, modifiedIndex, expireAt, ttlMs,
    snapshotMark: 0, snapshotAt: 0, snapshotLength: -1,
  };
  if (dir) {
    const count = r.u32();
    node.children = new Map();
    for (let i = 0; i < count; i++) {
      const child = readNode(r);
      node.children.set(child.key.slice(child.key.lastIndexOf('/') + 1), child);
    }
  }
  return node;
}

export function encodeState(s: StoreState): Uint8Array {
  const w = new StateWriter();
  writeStateHead(w, s.index, s.historySize);
  writeNode(w, s.root);
  writeStateTail(w, s.events);
  return w.finish();
}

export function decodeState(bytes: Uint8Array): StoreState {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] === 0x7b) return decodeJsonState(buf); // "{": format 1
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('store snapshot: unknown format (neither cairn-store/1 nor /2); it is damaged or from a newer cairn');
  }
  const r = new SnapshotReader(buf);
  const index = r.f64();
  const historySize = r.u32();
  const root = readNode(r);
  const events = JSON.parse(r.str()) as StoreEvent[];
  r.end();
  return { index, historySize, root, events };
}

// Format 1: the same content as UTF-8 JSON, written before issue 8's change.
interface JsonNode {
  k: string; d: boolean; v: string; c: number; m: number; e: number | null; t: number | null; ch?: JsonNode[];
}

function fromJsonNode(e: JsonNode): TreeNode {
  const node: TreeNode = {
    key: e.k, dir: e.d, value: e.v, children: null,
    createdIndex: e.c, modifiedIndex: e.m, expireAt: e.e, ttlMs: e.t,
    snapshotMark: 0, snapshotAt: 0, snapshotLength: -1,
  };
  if (e.d) {
    node.children = new Map();
    for (const c of e.ch ?? []) node.children.set(c.k.slice(c.k.lastIndexOf('/') + 1), fromJsonNode(c));
  }
  return node;
}

function decodeJsonState(buf: Buffer): StoreState {
  const doc = JSON.parse(buf.toString('utf8')) as { format: string; index: number; historySize: number; root: JsonNode; events: StoreEvent[] };
  if (doc.format !== 'cairn-store/1') throw new Error(`unknown store snapshot format ${String(doc.format)}`);
  return { index: doc.index, historySize: doc.historySize, root: fromJsonNode(doc.root), events: doc.events };
}
