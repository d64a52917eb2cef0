// The Wing–Gong linearizability search with Lowe's memoization, as Porcupine implements it
// (anishathalye/porcupine checker.go, checkSingle), for the operations of one key.
//
// The history becomes a doubly linked list of call and return events in time order. The search
// walks it from the head: at a call it tries to linearize that operation now (the model must
// accept it) and, if so, lifts its call and return out of the list and starts again from the
// head; at a return it has met an operation that had to be linearized already, so it undoes
// the last choice (backtracks). The list empties exactly when every operation is placed.
// Memoizing (set of linearized ops, model state) pairs prunes the search: reaching the same pair
// twice cannot lead anywhere new (Lowe, "Testing for linearizability", 2017).
//
// Time ties: at equal times calls sort before returns, so an operation that returns at t and
// one that is called at t count as concurrent. That only ever admits more orders, so it can
// never turn a good history bad.
//
// Unknown outputs: their return is at +infinity, after every real event. Once the walk meets
// such a return, every operation left is unknown; the model accepts them in any state and
// nothing observes their effect, so they are placed last (or, equally, "never happened").
import type { Operation } from './history.js';
import { ILLEGAL, INITIAL_STATE, step, type KeyState } from './model.js';

export type KeyVerdict = 'ok' | 'bad' | 'undecided';

export interface SearchLimits {
  /** performance.now() after which the search gives up. */
  readonly deadlineMs: number;
  /** How many (linearized set, state) pairs the cache may hold before the search gives up. */
  readonly stateBudget: number;
}

export interface KeySearchResult {
  readonly verdict: KeyVerdict;
  /** Indexes into the ops: the longest sequence the search managed to linearize. */
  readonly longestPrefix: readonly number[];
  /** The op whose return forced the first backtrack from the longest prefix (bad keys). */
  readonly blocker: number | undefined;
  /** How many (linearized set, state) pairs were cached. */
  readonly statesExplored: number;
}

interface EventNode {
  readonly op: number;
  /** For a call: its return node. For a return: null. */
  readonly match: EventNode | null;
  /** A return at +infinity (an unknown output). */
  readonly unknownReturn: boolean;
  prev: EventNode | null;
  next: EventNode | null;
}

/** Build the event list and return its sentinel head. */
function buildEvents(ops: readonly Operation[]): EventNode {
  const events: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((op, i) => {
    const returnTime = op.output.status === 'unknown' ? Infinity : op.return;
    events.push({ time: op.call, isCall: true, op: i }, { time: returnTime, isCall: false, op: i });
  });
  // Calls before returns at equal times: concurrent (see the header). Array sort is stable.
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall));
  const returns = new Map<number, EventNode>();
  for (const e of events) {
    if (e.isCall) continue;
    const unknownReturn = ops[e.op]!.output.status === 'unknown';
    returns.set(e.op, { op: e.op, match: null, unknownReturn, prev: null, next: null });
  }
  const head: EventNode = { op: -1, match: null, unknownReturn: false, prev: null, next: null };
  let tail = head;
  for (const e of events) {
    const node: EventNode = e.isCall
      ? { op: e.op, match: returns.get(e.op)!, unknownReturn: false, prev: null, next: null }
      : returns.get(e.op)!;
    node.prev = tail;
    tail.next = node;
    tail = node;
  }
  return head;
}

/** Remove a call and its return from the list. */
function lift(call: EventNode): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Undo `lift`: the nodes still point at their old neighbours, so relink in reverse order. */
function unlift(call: EventNode): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

/** A fixed, well-mixed 32-bit value per op index (Zobrist hashing of the linearized set). */
function zobrist(i: number): number {
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The memo of (linearized set, state) pairs already reached. */
class VisitedCache {
  private readonly buckets = new Map<number, { bits: Uint32Array; state: number }[]>();
  size = 0;

  /** Adds (bits ∪ {op}, state) unless it is there already; says whether it was added. */
  addWith(bits: Uint32Array, hash: number, op: number, state: number): boolean {
    const key = (hash ^ Math.imul(state + 1, 0x27d4eb2d)) >>> 0;
    const word = op >>> 5;
    const mask = 1 << (op & 31);
    const bucket = this.buckets.get(key);
    for (const entry of bucket ?? []) {
      if (entry.state === state && sameWith(entry.bits, bits, word, mask)) return false;
    }
    const copy = bits.slice();
    copy[word]! |= mask;
    const entry = { bits: copy, state };
    if (bucket === undefined) this.buckets.set(key, [entry]);
    else bucket.push(entry);
    this.size += 1;
    return true;
  }
}

/** Whether `stored` equals `bits` with `mask` set in word `word`, without copying `bits`. */
function sameWith(stored: Uint32Array, bits: Uint32Array, word: number, mask: number): boolean {
  for (let w = 0; w < bits.length; w++) {
    const expected = w === word ? (bits[w]! | mask) >>> 0 : bits[w]!;
    if (stored[w] !== expected) return false;
  }
  return true;
}

/** Iterations between clock reads: performance.now() is too slow to call every step. */
const CLOCK_CHECK_INTERVAL = 1024;

/** One search over one key's ops; `run` may be called once. */
export class WglSearch {
  private readonly head: EventNode;
  private readonly bits: Uint32Array;
  private readonly cache = new VisitedCache();
  private readonly stateIds = new Map<KeyState, number>();
  private readonly stack: { call: EventNode; state: KeyState; hash: number }[] = [];
  private state: KeyState = INITIAL_STATE;
  private hash = 0;
  private longestPrefix: number[] = [];
  private blocker: number | undefined = undefined;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly limits: SearchLimits,
  ) {
    this.head = buildEvents(ops);
    this.bits = new Uint32Array(Math.max(1, Math.ceil(ops.length / 32)));
  }

  run(): KeySearchResult {
    let node = this.head.next;
    let iterations = 0;
    while (node !== null) {
      if (++iterations % CLOCK_CHECK_INTERVAL === 0 && this.overBudget()) {
        return this.result('undecided');
      }
      if (node.match !== null) {
        node = this.tryLinearize(node) ? this.head.next : node.next;
      } else if (node.unknownReturn) {
        break; // only unknown ops are left: place them last (see the header)
      } else {
        if (this.blocker === undefined) this.blocker = node.op;
        const resumed = this.backtrack();
        if (resumed === null) return this.result('bad');
        node = resumed.next;
      }
    }
    return this.result('ok');
  }

  private overBudget(): boolean {
    return this.cache.size > this.limits.stateBudget || performance.now() > this.limits.deadlineMs;
  }

  /** Try to linearize `call` now; on success it is lifted and pushed on the stack. */
  private tryLinearize(call: EventNode): boolean {
    const op = this.ops[call.op]!;
    const next = step(this.state, op.input, op.output);
    if (next === ILLEGAL) return false;
    if (!this.cache.addWith(this.bits, this.hash, call.op, this.stateId(next))) return false;
    this.stack.push({ call, state: this.state, hash: this.hash });
    this.state = next;
    this.hash = (this.hash ^ zobrist(call.op)) >>> 0;
    this.bits[call.op >>> 5]! |= 1 << (call.op & 31);
    lift(call);
    if (this.stack.length > this.longestPrefix.length) {
      // A new best: its blocker is the next return the walk meets (see `run`).
      this.longestPrefix = this.stack.map((entry) => entry.call.op);
      this.blocker = undefined;
    }
    return true;
  }

  /** Undo the last linearization; returns its call node, or null when nothing is left to undo. */
  private backtrack(): EventNode | null {
    const top = this.stack.pop();
    if (top === undefined) return null;
    this.state = top.state;
    this.hash = top.hash;
    this.bits[top.call.op >>> 5]! &= ~(1 << (top.call.op & 31));
    unlift(top.call);
    return top.call;
  }

  private stateId(state: KeyState): number {
    let id = this.stateIds.get(state);
    if (id === undefined) {
      id = this.stateIds.size;
      this.stateIds.set(state, id);
    }
    return id;
  }

  private result(verdict: KeyVerdict): KeySearchResult {
    return {
      verdict,
      longestPrefix: this.longestPrefix,
      blocker: this.blocker,
      statesExplored: this.cache.size,
    };
  }
}
