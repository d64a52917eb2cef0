// The bounded event history behind waitIndex: a ring of the last N change events across all
// keys, scanned as etcd's EventHistory.scan does (first match at or after waitIndex).
import { ErrorCode, StoreError } from './errors.js';
import type { NodeView } from './node.js';
import { isUnder } from './path.js';

export type Action =
  | 'get' | 'set' | 'create' | 'update' | 'compareAndSwap' | 'delete' | 'compareAndDelete'
  | 'expire';

/** A change event; also the KvResult shape (minus raft fields) returned by writes. */
export interface StoreEvent {
  action: Action;
  node: NodeView;
  prevNode?: NodeView;
  index: number;
  /** Refresh writes are recorded (they take an index) but never delivered to watchers. */
  refresh?: true;
}

export const DEFAULT_HISTORY = 1000;

/** Whether an event concerns a watch on `key`; ancestor dir deletes/expiries match too. */
export function matches(e: StoreEvent, key: string, recursive: boolean): boolean {
  if (e.refresh) return false;
  if (e.node.key === key) return true;
  if (recursive && isUnder(e.node.key, key)) return true;
  const removal = e.action === 'delete' || e.action === 'expire';
  return removal && e.prevNode?.dir === true && isUnder(key, e.prevNode.key);
}

/**
 * Live-watch matching (etcd's watcherHub.notify): as `matches`, but a recursive watch is not
 * told about keys whose path below the watch root has a `_hidden` segment. The history scan
 * does not apply this filter, as in etcd (notes/etcd-v2.md §5 rule 4).
 */
export function matchesLive(e: StoreEvent, key: string, recursive: boolean): boolean {
  if (!matches(e, key, recursive)) return false;
  if (e.node.key === key || !isUnder(e.node.key, key)) return true;
  const below = e.node.key.slice(key === '/' ? 1 : key.length + 1);
  return !below.split('/').some((seg) => seg.startsWith('_'));
}

/** Freezes an event deeply: history entries are shared with callers and must not change. */
export function freezeEvent(e: StoreEvent): StoreEvent {
  Object.freeze(e);
  freezeView(e.node);
  if (e.prevNode !== undefined) freezeView(e.prevNode);
  return e;
}

/** A view's fields are strings, numbers and `nodes`, the only thing to descend into. */
function freezeView(view: NodeView): void {
  if (Object.isFrozen(view)) return;
  Object.freeze(view);
  if (view.nodes === undefined) return;
  Object.freeze(view.nodes);
  for (const child of view.nodes) freezeView(child);
}

/** Where the history stood when a txn began (mark), to cut its events off again (rollback). */
export interface HistoryMark {
  readonly events: StoreEvent[];
  readonly length: number;
  readonly first: number;
}

export class EventHistory {
  readonly capacity: number;
  /** Retained events are events[first..]; those before `first` have aged out. */
  private events: StoreEvent[] = [];
  private first = 0;

  constructor(capacity = DEFAULT_HISTORY, events: StoreEvent[] = []) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('history capacity must be >= 1');
    this.capacity = capacity;
    this.events = events.slice(-capacity).map(freezeEvent);
  }

  add(e: StoreEvent): void {
    this.events.push(freezeEvent(e));
    if (this.events.length - this.first > this.capacity) this.first++;
    // Aged-out events are cut once per `capacity` adds: cutting one per add moved the whole
    // array every write (a few percent of a member's CPU under load).
    if (this.first >= this.capacity) {
      this.events = this.events.slice(this.first);
      this.first = 0;
    }
  }

  mark(): HistoryMark {
    return { events: this.events, length: this.events.length, first: this.first };
  }

  /**
   * Drops the events added since `mark`. add() only ever pushes onto the array, or moves to a
   * fresh one, so the marked array still holds the marked events in its first `length` slots.
   */
  rollback(mark: HistoryMark): void {
    this.events = mark.events;
    this.events.length = mark.length;
    this.first = mark.first;
  }

  /** Index of the oldest retained event, or 0 when none is retained. */
  startIndex(): number {
    return this.events.length > this.first ? this.events[this.first]!.index : 0;
  }

  all(): readonly StoreEvent[] {
    return this.first === 0 ? this.events : this.events.slice(this.first);
  }

  /**
   * The first event at or after waitIndex matching key, or null if none yet (the caller
   * then waits for a live one). Throws 401 when waitIndex is older than the history.
   */
  scan(waitIndex: number, key: string, recursive: boolean, currentIndex: number): StoreEvent | null {
    this.checkRetained(waitIndex, currentIndex);
    for (let i = this.first; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.index >= waitIndex && matches(e, key, recursive)) return e;
    }
    return null;
  }

  /**
   * Every event at or after waitIndex that a live watch on key would be told of, in index
   * order: what a stream replays before it goes live, so it skips nothing in between.
   */
  replay(waitIndex: number, key: string, recursive: boolean, currentIndex: number): StoreEvent[] {
    this.checkRetained(waitIndex, currentIndex);
    return this.all().filter((e) => e.index >= waitIndex && matchesLive(e, key, recursive));
  }

  private checkRetained(waitIndex: number, currentIndex: number): void {
    const start = this.startIndex();
    if (waitIndex < start) {
      throw new StoreError(ErrorCode.EventIndexCleared,
        `the requested history has been cleared [${start}/${waitIndex}]`, currentIndex, start);
    }
  }
}
