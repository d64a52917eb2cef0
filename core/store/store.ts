// The etcd v2 store as a pure, deterministic state machine: every operation takes the time of
// the log entry being applied (`nowMs`) and never reads a clock, so all members applying the
// same log reach the same tree, index, history and answers. One global index moves by exactly
// one on every successful change (expire and refresh included); failures never move it.
import { ErrorCode, StoreError } from './errors.js';
import { DEFAULT_HISTORY, EventHistory, type Action, type StoreEvent } from './history.js';
import { cloneView, load, newNode, repr, setDeadline, type NodeView, type TreeNode } from './node.js';
import { cleanKey, joinKey } from './path.js';
import { decodeState, encodeState, type StoreState } from './snapshot.js';
import { SnapshotInProgress, type Encoding } from './snapshot-in-progress.js';
import { setKind, StoreStats, type CountedOp, type SetKind } from './stats.js';
import { Tree } from './tree.js';
import { runTxn, type TxnRequest, type TxnResult } from './txn.js';
import { UndoLog } from './undo-log.js';

export interface KvResult {
  action: Action;
  node: NodeView;
  prevNode?: NodeView;
  index: number;
}

export interface GetOptions { recursive?: boolean; sorted?: boolean }
export interface SetOptions {
  value?: string; dir?: boolean; ttl?: number; refresh?: boolean;
  prevExist?: boolean; prevValue?: string; prevIndex?: number;
}
export interface CreateOptions { value?: string; dir?: boolean; ttl?: number }
export interface DeleteOptions { dir?: boolean; recursive?: boolean; prevValue?: string; prevIndex?: number }

export interface StoreOptions { historySize?: number }

export class Store {
  protected tree: Tree;
  protected history: EventHistory;
  protected currentIndex = 0;
  /** Told of every change as it is made (a txn that fails later rolls back its history only). */
  private eventListener: ((e: StoreEvent) => void) | undefined;
  /**
   * etcd's /v2/stats/store counters. Outside the state: not in snapshots, never read by an
   * operation. A store restored from a snapshot starts them at 0 (as etcd's does after a
   * restart); a txn rollback keeps them (its operations were attempted).
   */
  readonly stats = new StoreStats();
  /** A snapshot being encoded while writes go on (beginSnapshot). */
  private inProgress: SnapshotInProgress | undefined;
  /** The last finished one: the next copies the keys unchanged since from its bytes. */
  private lastEncoding: Encoding | undefined;
  /** The memory of the one before it, which the next encoding writes into (continueSnapshot). */
  private spareMemory: Buffer | undefined;
  /** What the running txn changed, for its rollback. */
  private undo: UndoLog | undefined;

  constructor(opts: StoreOptions = {}) {
    this.tree = this.newTree();
    this.history = new EventHistory(opts.historySize ?? DEFAULT_HISTORY);
  }

  private newTree(root?: TreeNode): Tree {
    const tree = new Tree(root);
    tree.beforeChange = (node, ancestors) => this.beforeChange(node, ancestors);
    return tree;
  }

  /**
   * Called before a node's fields or a directory's children change: copy on write for both.
   * `ancestors` are the directories above node from the root down, when the caller has them.
   */
  private beforeChange(node: TreeNode, ancestors: readonly TreeNode[] = this.tree.ancestors(node.key)): void {
    this.inProgress?.beforeChange(node, ancestors);
    // Its bytes in the last encoding are no longer its own, nor are those of any directory above it.
    node.snapshotLength = -1;
    for (const dir of ancestors) dir.snapshotLength = -1;
    this.undo?.beforeChange(node);
  }

  /** The store index: the index of the last successful change. */
  get index(): number {
    return this.currentIndex;
  }

  get(key: string, opts: GetOptions, nowMs: number): KvResult {
    return this.counted('get', () => this.peek(key, opts, nowMs));
  }

  /** A get that is not counted in the stats: a txn's compares read keys without serving a get. */
  peek(key: string, opts: GetOptions, nowMs: number): KvResult {
    const node = this.tree.get(cleanKey(key), this.currentIndex);
    const view = load(node, nowMs, opts.recursive === true, opts.sorted === true);
    return { action: 'get', node: view, index: this.currentIndex };
  }

  /** PUT: picks set/create/update/compareAndSwap from the conditions, as etcd's v2 handler. */
  set(rawKey: string, opts: SetOptions, nowMs: number): KvResult {
    const kind = setKind(opts);
    return this.counted(kind, () => this.setAs(kind, rawKey, opts, nowMs));
  }

  private setAs(kind: SetKind, rawKey: string, opts: SetOptions, nowMs: number): KvResult {
    const key = this.writable(rawKey);
    const ttlMs = opts.ttl === undefined ? null : opts.ttl * 1000;
    let value = opts.value ?? '';
    if (opts.refresh && opts.prevExist !== false) {
      // Refresh keeps the current value; the key must exist (100 otherwise).
      value = this.tree.get(key, this.currentIndex).value;
    }
    const refresh = opts.refresh === true;
    switch (kind) {
      case 'create': return this.put(key, value, opts.dir === true, ttlMs, false, refresh, nowMs);
      case 'compareAndSwap': return this.compareAndSwap(key, value, ttlMs, opts.prevValue, opts.prevIndex ?? 0, refresh, nowMs);
      case 'update': return this.update(key, value, ttlMs, refresh, nowMs);
      case 'set': return this.put(key, value, opts.dir === true, ttlMs, true, refresh, nowMs);
    }
  }

  /** POST: an in-order key, the directory plus the new index zero-padded to 20 digits. */
  create(rawKey: string, opts: CreateOptions, nowMs: number): KvResult {
    return this.counted('create', () => this.createInOrder(rawKey, opts, nowMs));
  }

  private createInOrder(rawKey: string, opts: CreateOptions, nowMs: number): KvResult {
    const dirKey = cleanKey(rawKey);
    const next = this.currentIndex + 1;
    const key = joinKey(dirKey, String(next).padStart(20, '0'));
    const dir = this.tree.find(dirKey, this.currentIndex);
    if (dir && !dir.dir) throw new StoreError(ErrorCode.NotDir, dirKey, this.currentIndex);
    const ttlMs = opts.ttl === undefined ? null : opts.ttl * 1000;
    return this.put(key, opts.value ?? '', opts.dir === true, ttlMs, false, false, nowMs);
  }

  delete(rawKey: string, opts: DeleteOptions, nowMs: number): KvResult {
    const prevIndex = opts.prevIndex ?? 0;
    const cad = opts.prevValue !== undefined || prevIndex > 0;
    return this.counted(cad ? 'compareAndDelete' : 'delete', () => this.deleteAs(cad, rawKey, opts, nowMs));
  }

  private deleteAs(cad: boolean, rawKey: string, opts: DeleteOptions, nowMs: number): KvResult {
    const key = cleanKey(rawKey);
    if (key === '/') {
      // etcd: a compareAndDelete on the root is "not a file", with no cause; any other delete is 107.
      if (cad) throw new StoreError(ErrorCode.NotFile, '', this.currentIndex);
      throw new StoreError(ErrorCode.RootReadOnly, '/', this.currentIndex);
    }
    const node = this.tree.get(key, this.currentIndex);
    if (cad) {
      if (node.dir) throw new StoreError(ErrorCode.NotFile, key, this.currentIndex);
      this.compare(node, opts.prevValue, opts.prevIndex ?? 0);
    } else if (node.dir) {
      const recursive = opts.recursive === true;
      if (!opts.dir && !recursive) throw new StoreError(ErrorCode.NotFile, key, this.currentIndex);
      if (!recursive && node.children!.size > 0) {
        throw new StoreError(ErrorCode.DirNotEmpty, key, this.currentIndex);
      }
    }
    return this.removeNode(node, cad ? 'compareAndDelete' : 'delete', nowMs);
  }

  /** Removes every node whose deadline is at or before nowMs, one `expire` event each. */
  expire(nowMs: number): KvResult[] {
    const out: KvResult[] = [];
    for (const node of this.tree.expiring()) {
      if (node.expireAt! > nowMs) break;
      // An ancestor dir that expired first already took this node with it.
      if (this.tree.find(node.key, this.currentIndex) !== node) continue;
      out.push(this.removeNode(node, 'expire', nowMs));
    }
    this.stats.recordExpired(out.length);
    return out;
  }

  /**
   * After a leader change (API.md): every deadline becomes at least nowMs (the new leader's
   * election time) plus that key's TTL, so keys kept alive through the old leader survive.
   * Only deadlines move: it is not a change of any key, so no index and no event.
   */
  extendDeadlines(nowMs: number): void {
    for (const node of this.tree.expiring()) {
      this.beforeChange(node);
      node.expireAt = Math.max(node.expireAt!, nowMs + node.ttlMs!);
    }
  }

  /**
   * The first event at or after waitIndex for key (or below it, when recursive). A caller
   * treats an absent or 0 waitIndex as "future only" (index + 1) before calling this.
   */
  eventsSince(waitIndex: number, rawKey: string, recursive: boolean): StoreEvent | null {
    return this.history.scan(waitIndex, cleanKey(rawKey), recursive, this.currentIndex);
  }

  /** Registers the one listener told of every event as it is committed (the watcher hub's feed). */
  onEvent(listener: ((e: StoreEvent) => void) | undefined): void {
    this.eventListener = listener;
  }

  /** The earliest TTL deadline in ms, or null when no key has one: when to propose expiry. */
  nextDeadline(): number | null {
    return this.tree.expiring()[0]?.expireAt ?? null;
  }

  /** All events from waitIndex on that a live watch would see (see EventHistory.replay). */
  replay(waitIndex: number, rawKey: string, recursive: boolean): StoreEvent[] {
    return this.history.replay(waitIndex, cleanKey(rawKey), recursive, this.currentIndex);
  }

  /** Oldest index still in the event history (0 when it is empty). */
  historyStart(): number {
    return this.history.startIndex();
  }

  /** Compares plus the chosen branch, all or nothing: a failing op rolls everything back. */
  txn(req: TxnRequest, nowMs: number): TxnResult {
    const undo = new UndoLog();
    const index = this.currentIndex;
    const history = this.history.mark();
    this.undo = undo;
    try {
      return { ...runTxn(this, req, nowMs), index: this.currentIndex };
    } catch (err) {
      undo.rollback();
      this.history.rollback(history);
      this.currentIndex = index;
      // The failing op saw the index of the ops before it, which are now undone.
      if (err instanceof StoreError) throw new StoreError(err.code, err.data.cause, this.currentIndex, err.oldestIndex);
      throw err;
    } finally {
      this.undo = undefined;
    }
  }

  /** Deterministic bytes of the whole state: index, tree and event history. */
  snapshot(): Uint8Array {
    return encodeState(this.state());
  }

  /**
   * Starts encoding the state at the current index, to be finished a slice at a time with
   * continueSnapshot() while writes go on (snapshot-in-progress.ts). One at a time. The
   * bytes will begin with `prefix` (a caller's header), so that joining needs no copy.
   */
  beginSnapshot(prefix?: Uint8Array): void {
    if (this.inProgress !== undefined) throw new Error('Store.beginSnapshot: a snapshot is already in progress; finish it first');
    const progress = new SnapshotInProgress(
      this.currentIndex, this.history.capacity, this.tree.root, [...this.history.all()],
      { prefix, last: this.lastEncoding, reuse: this.spareMemory },
    );
    this.spareMemory = undefined;
    this.inProgress = progress;
  }

  /** Whether a snapshot begun here is still being encoded (a restore drops it). */
  get snapshotInProgress(): boolean {
    return this.inProgress !== undefined;
  }

  /**
   * Encodes up to `budgetNodes` more nodes (or history events) of the snapshot in progress;
   * returns its bytes once done: the prefix, then exactly snapshot()'s bytes at the index it
   * began. Throws if none is in progress.
   *
   * The bytes stay valid until the second snapshot after this one begins, which writes into
   * their memory again: whoever keeps them longer must copy them. A new buffer for every
   * snapshot cost a page fault per 4 KB written, and the growth of the heap's external memory
   * made every member's garbage collector mark the whole heap about twice as often.
   */
  continueSnapshot(budgetNodes: number): Uint8Array | undefined {
    const progress = this.inProgress;
    if (progress === undefined) throw new Error('Store.continueSnapshot: no snapshot in progress; check snapshotInProgress and begin one');
    const bytes = progress.step(budgetNodes);
    if (bytes !== undefined) {
      this.spareMemory = this.lastEncoding?.memory;
      this.lastEncoding = progress.encoding;
      this.dropSnapshot();
    }
    return bytes;
  }

  private dropSnapshot(): void {
    this.inProgress = undefined;
  }

  static restore(bytes: Uint8Array): Store {
    const state = decodeState(bytes);
    const store = new Store({ historySize: state.historySize });
    store.adopt(state);
    return store;
  }

  private state(): StoreState {
    // Encoded at once by callers, so sharing live objects here is safe.
    return { index: this.currentIndex, historySize: this.history.capacity, root: this.tree.root, events: this.history.all() };
  }

  private adopt(state: StoreState): void {
    // The tree is replaced wholesale: a snapshot in progress cannot follow; it starts over.
    this.dropSnapshot();
    this.lastEncoding = undefined; // none of the new nodes is in it
    this.spareMemory = undefined;
    this.tree = this.newTree(state.root);
    this.history = new EventHistory(state.historySize, [...state.events]);
    this.currentIndex = state.index;
  }

  /** Runs one operation and counts its outcome; any throw is that operation's failure. */
  private counted<T>(op: CountedOp, run: () => T): T {
    let succeeded = false;
    try {
      const result = run();
      succeeded = true;
      return result;
    } finally {
      this.stats.record(op, succeeded);
    }
  }

  private writable(rawKey: string): string {
    const key = cleanKey(rawKey);
    if (key === '/') throw new StoreError(ErrorCode.RootReadOnly, '/', this.currentIndex);
    return key;
  }

  /** Set (replace=true) or create (replace=false) of a key or directory. */
  private put(
    key: string, value: string, dir: boolean, ttlMs: number | null,
    replace: boolean, refresh: boolean, nowMs: number,
  ): KvResult {
    const prev = this.tree.find(key, this.currentIndex);
    if (prev && !replace) throw new StoreError(ErrorCode.NodeExist, key, this.currentIndex);
    if (prev?.dir) throw new StoreError(ErrorCode.NotFile, key, this.currentIndex);
    // The parents need no check of their own: find() has already refused a file on the way (104);
    // it checks every directory on the way that exists.
    const index = this.currentIndex + 1;
    const node = newNode(key, dir, value, index, null);
    setDeadline(node, ttlMs, nowMs);
    const prevNode = prev ? repr(prev, nowMs) : undefined;
    if (prev) this.tree.remove(key);
    this.tree.insert(node, index);
    return this.commit(replace ? 'set' : 'create', repr(node, nowMs), prevNode, refresh);
  }

  private update(
    key: string, value: string, ttlMs: number | null, refresh: boolean, nowMs: number,
  ): KvResult {
    const node = this.tree.get(key, this.currentIndex);
    if (node.dir && value !== '') throw new StoreError(ErrorCode.NotFile, key, this.currentIndex);
    const prevNode = repr(node, nowMs);
    const index = this.currentIndex + 1;
    this.beforeChange(node);
    setDeadline(node, ttlMs, nowMs);
    this.tree.track(node);
    if (!node.dir) {
      node.value = value;
      node.modifiedIndex = index;
    }
    // etcd quirk (#5148): a dir TTL update answers with the new modifiedIndex but keeps the old.
    const view = { ...repr(node, nowMs), modifiedIndex: index };
    return this.commit('update', view, prevNode, refresh);
  }

  private compareAndSwap(
    key: string, value: string, ttlMs: number | null,
    prevValue: string | undefined, prevIndex: number, refresh: boolean, nowMs: number,
  ): KvResult {
    const node = this.tree.get(key, this.currentIndex);
    if (node.dir) throw new StoreError(ErrorCode.NotFile, key, this.currentIndex);
    this.compare(node, prevValue, prevIndex);
    const prevNode = repr(node, nowMs);
    this.beforeChange(node);
    node.value = value;
    setDeadline(node, ttlMs, nowMs);
    this.tree.track(node);
    node.modifiedIndex = this.currentIndex + 1;
    return this.commit('compareAndSwap', repr(node, nowMs), prevNode, refresh);
  }

  /** Throws 101 with etcd's cause: "[prevValue != value]", "[prevIndex != index]" or both. */
  private compare(node: TreeNode, prevValue: string | undefined, prevIndex: number): void {
    const valueBad = prevValue !== undefined && prevValue !== node.value;
    const indexBad = prevIndex > 0 && prevIndex !== node.modifiedIndex;
    if (!valueBad && !indexBad) return;
    const parts: string[] = [];
    if (valueBad) parts.push(`[${prevValue} != ${node.value}]`);
    if (indexBad) parts.push(`[${prevIndex} != ${node.modifiedIndex}]`);
    throw new StoreError(ErrorCode.TestFailed, parts.join(' '), this.currentIndex);
  }

  private removeNode(node: TreeNode, action: Action, nowMs: number): KvResult {
    const prevNode = repr(node, nowMs);
    const index = this.currentIndex + 1;
    const view: NodeView = node.dir
      ? { key: node.key, dir: true, createdIndex: node.createdIndex, modifiedIndex: index }
      : { key: node.key, createdIndex: node.createdIndex, modifiedIndex: index };
    this.tree.remove(node.key);
    return this.commit(action, view, prevNode, false);
  }

  /** Moves the index by one and records the event; the single place a change is counted. */
  private commit(action: Action, node: NodeView, prevNode: NodeView | undefined, refresh: boolean): KvResult {
    this.currentIndex += 1;
    const event: StoreEvent = { action, node, index: this.currentIndex };
    if (prevNode) event.prevNode = prevNode;
    if (refresh) event.refresh = true;
    this.history.add(event);
    this.eventListener?.(event);
    // The result is a copy: the event (and its nodes) now belongs to the frozen history.
    const result: KvResult = { action, node: cloneView(node), index: this.currentIndex };
    if (prevNode) result.prevNode = cloneView(prevNode);
    return result;
  }
}
