// Encodes the store as it was at one index while later writes go on, a slice at a time, so a
// member never stops for the whole encoding (about 1 µs per key: 100 ms at 100,000 keys).
// The bytes are exactly what encodeState would have produced at that index.
//
// Copy on write: the store calls beforeChange(node) before it changes a node's fields or a
// directory's children. A node the encoder has not reached yet is frozen then: its fields
// and its list of children as they were. The encoder uses the frozen copy when it gets there.
// A node it has passed needs nothing; the encoder marks what it passed on the node itself
// (snapshotMark), as a Set of 100,000 passed nodes was a third of the encoding's time.
// A removed node is never changed again: a replacing write
// makes a new node, and only a txn's rollback puts a removed node back, as it was. So a frozen
// list of children always holds the nodes that were there at the snapshot's index, each
// unchanged or frozen.
//
// Copying from the last encoding: at the default --snapshot-count every member encodes the
// whole store every 10,000 entries, about 1 µs per key, so a store of 300,000 keys cost each
// member 30 µs per entry. Most keys have not changed since the last encoding, and a key's
// bytes do not depend on anything around it: the encoder copies them from there (see
// TreeNode.snapshotAt), and the copies of keys that were written next to each other then
// are joined into one. A directory with nothing changed below it is copied in one piece,
// without visiting its keys. A directory's bytes are its own only if nothing below it
// changed from the snapshot's index to the end of its subtree's encoding (changedBelow).
import type { StoreEvent } from './history.js';
import type { NodeFields, TreeNode } from './node.js';
import { StateWriter, writeNodeHead, writeStateHead } from './snapshot.js';

/** A finished encoding, whose keys' bytes the next one may copy. */
export interface Encoding {
  readonly mark: number;
  readonly bytes: Uint8Array;
  /** The buffer `bytes` is the start of, for a later encoding to write into again. */
  readonly memory: Buffer;
}

export interface EncodingOptions {
  /** Written before everything (a caller's header), so that joining needs no copy. */
  readonly prefix?: Uint8Array;
  /** The store's previous finished encoding, to copy unchanged keys from. */
  readonly last?: Encoding;
  /** A buffer no longer in use to write into, instead of a new one. */
  readonly reuse?: Buffer;
}

interface Frozen {
  readonly fields: NodeFields;
  readonly children: readonly TreeNode[];
}

/** A directory being written: its children as of the snapshot, and the next to write. */
interface Frame {
  readonly children: readonly TreeNode[];
  next: number;
  /** The directory (none for the frame that holds the root) and where its bytes began. */
  readonly dir?: TreeNode;
  readonly at: number;
}

/** A directory's snapshotLength while its subtree is being written, until its frame is done. */
const WRITING = -2;

const fieldsOf = (n: TreeNode): NodeFields => ({
  key: n.key, dir: n.dir, value: n.value, createdIndex: n.createdIndex,
  modifiedIndex: n.modifiedIndex, expireAt: n.expireAt, ttlMs: n.ttlMs,
});

const childrenOf = (n: TreeNode): TreeNode[] => (n.children === null ? [] : [...n.children.values()]);
const NO_CHILDREN: readonly TreeNode[] = [];

/** Numbers the encodings, so that a node's snapshotMark names the one that passed it. */
let encodings = 0;

export class SnapshotInProgress {
  private readonly writer: StateWriter;
  private readonly last: Encoding | undefined;
  readonly mark = ++encodings;
  private readonly frozen = new Map<TreeNode, Frozen>();
  /**
   * Directories something below which changed since this encoding began: the bytes written
   * for them are those of the snapshot's index, not of what they hold now.
   */
  private readonly changedBelow = new Set<TreeNode>();
  private readonly stack: Frame[] = [];
  private readonly events: readonly StoreEvent[];
  /**
   * The history's JSON, one event at a time, in the first steps: at the end, in one go,
   * stringifying 1,000 events with their values held the loop for several milliseconds.
   * The events are frozen, so their JSON now is their JSON at the snapshot's index.
   */
  private readonly eventsJson: string[] = [];
  private result: Uint8Array | undefined;

  /** `events` must be a copy: the history goes on. */
  constructor(
    readonly index: number, historySize: number, root: TreeNode, events: readonly StoreEvent[],
    options: EncodingOptions = {},
  ) {
    this.events = events;
    this.last = options.last;
    this.writer = new StateWriter(options.reuse);
    if (options.prefix !== undefined) this.writer.bytes(options.prefix);
    writeStateHead(this.writer, index, historySize);
    this.stack.push({ children: [root], next: 0, at: 0 });
  }

  /** Call before changing `node`'s fields or children while this snapshot is in progress. */
  beforeChange(node: TreeNode, ancestors: readonly TreeNode[]): void {
    for (const dir of ancestors) this.changedBelow.add(dir);
    if (node.snapshotMark === this.mark || this.frozen.has(node)) return;
    this.frozen.set(node, { fields: fieldsOf(node), children: childrenOf(node) });
  }

  get done(): boolean {
    return this.result !== undefined;
  }

  /** Once done: the encoding, for the next one to copy from and the one after to reuse. */
  get encoding(): Encoding | undefined {
    return this.result === undefined ? undefined : { mark: this.mark, bytes: this.result, memory: this.writer.memory };
  }

  /** Writes up to `budget` more nodes or events; returns the snapshot's bytes once all are written. */
  step(budget: number): Uint8Array | undefined {
    for (let n = 0; n < budget && this.result === undefined; n++) {
      if (this.eventsJson.length < this.events.length) {
        this.eventsJson.push(JSON.stringify(this.events[this.eventsJson.length]));
        continue;
      }
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        // Exactly writeStateTail's JSON.stringify(events), assembled from the pieces.
        this.writer.str(`[${this.eventsJson.join(',')}]`);
        this.result = this.writer.finish();
        break;
      }
      if (top.next >= top.children.length) {
        this.stack.pop();
        // Its subtree's bytes end here; unless something below it changed meanwhile, they are its own.
        if (top.dir?.snapshotLength === WRITING) {
          top.dir.snapshotAt = top.at;
          top.dir.snapshotLength = this.writer.position - top.at;
        }
        n--; // popping writes nothing
        continue;
      }
      this.writeOne(top.children[top.next++]!);
    }
    return this.result;
  }

  private writeOne(node: TreeNode): void {
    const frozen = this.frozen.size === 0 ? undefined : this.frozen.get(node);
    if (frozen === undefined) {
      if (!node.dir) {
        this.writeKey(node);
        return;
      }
      if (this.copiedWhole(node)) return;
    }
    const fields = frozen?.fields ?? node;
    const children = fields.dir ? frozen?.children ?? childrenOf(node) : NO_CHILDREN;
    const at = this.writer.position;
    node.snapshotMark = this.mark;
    // A frozen node was changed: Store's beforeChange has made it not copyable already.
    if (frozen === undefined && !this.changedBelow.has(node)) node.snapshotLength = WRITING;
    writeNodeHead(this.writer, fields, children.length);
    if (fields.dir) this.stack.push({ children, next: 0, dir: node, at });
  }

  /**
   * A directory with nothing changed in its subtree since the last encoding: its bytes there
   * (head and every descendant) are copied in one piece, without visiting its keys. Those
   * keep their places in older encodings, which the next encoding does not copy from: if
   * the directory changes later, its keys are encoded again once.
   */
  private copiedWhole(dir: TreeNode): boolean {
    const last = this.last;
    if (last === undefined || dir.snapshotMark !== last.mark || dir.snapshotLength < 0) return false;
    const at = this.writer.position;
    this.writer.copy(last.bytes, dir.snapshotAt, dir.snapshotAt + dir.snapshotLength);
    dir.snapshotMark = this.mark;
    dir.snapshotAt = at;
    return true;
  }

  /**
   * A key unchanged since the snapshot began: copied from the last encoding when it can be.
   * (A frozen key was changed, so Store's beforeChange has already made it not copyable.)
   */
  private writeKey(node: TreeNode): void {
    const at = this.writer.position;
    const last = this.last;
    if (last !== undefined && node.snapshotMark === last.mark && node.snapshotLength >= 0) {
      this.writer.copy(last.bytes, node.snapshotAt, node.snapshotAt + node.snapshotLength);
    } else {
      writeNodeHead(this.writer, node, 0);
      node.snapshotLength = this.writer.position - at;
    }
    node.snapshotMark = this.mark;
    node.snapshotAt = at;
  }
}
