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
// At each configuration the candidates (calls before the first remaining return) are tried
// definite ops first, unknown ops only after: so a configuration is usually first reached
// with as few unknown ops as possible, and the cache's dominance rule (visited.ts) then
// prunes the same configuration with more of them. And unknown ops with the same input are
// interchangeable once both are called (neither ever has to precede anything), so they are
// linearized in call order only: a symmetry that removes their permutations and subsets.
import type { Operation } from './history.js';
import { ILLEGAL, INITIAL_STATE, step, type KeyState } from './model.js';
import { VisitedCache, zobrist } from './visited.js';

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

/** For each unknown op, the unknown op with the same input called just before it, or -1. */
function previousTwins(ops: readonly Operation[]): Int32Array {
  const twins = new Int32Array(ops.length).fill(-1);
  const lastBySignature = new Map<string, number>();
  const byCall = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  for (const i of byCall) {
    const { input, output } = ops[i]!;
    if (output.status !== 'unknown') continue;
    const fields =
      input.kind === 'cas' ? [input.expected, input.value] : 'value' in input ? [input.value] : [];
    const signature = JSON.stringify([input.kind, ...fields]);
    twins[i] = lastBySignature.get(signature) ?? -1;
    lastBySignature.set(signature, i);
  }
  return twins;
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

/** Iterations between clock reads: performance.now() is too slow to call every step. */
const CLOCK_CHECK_INTERVAL = 1024;

/** Which candidates a walk of the list considers: definite calls first, then unknown ones. */
type Phase = 'definite' | 'unknown';

interface Choice {
  readonly call: EventNode;
  readonly phase: Phase;
  readonly state: KeyState;
  readonly hash: number;
}

/** One search over one key's ops; `run` may be called once. */
export class WglSearch {
  private readonly head: EventNode;
  private readonly bits: Uint32Array;
  private readonly unknown: readonly boolean[];
  private readonly twins: Int32Array;
  private readonly cache: VisitedCache;
  private readonly stateIds = new Map<KeyState, number>();
  private readonly stack: Choice[] = [];
  private state: KeyState = INITIAL_STATE;
  /** Zobrist hash of the definite ops linearized so far. */
  private hash = 0;
  private longestLength = 0;
  private longestPrefix: number[] = [];
  private blocker: number | undefined = undefined;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly limits: SearchLimits,
  ) {
    this.head = buildEvents(ops);
    const words = Math.max(1, Math.ceil(ops.length / 32));
    this.bits = new Uint32Array(words);
    this.unknown = ops.map((op) => op.output.status === 'unknown');
    const unknownMask = new Uint32Array(words);
    this.unknown.forEach((isUnknown, i) => {
      if (isUnknown) unknownMask[i >>> 5]! |= 1 << (i & 31);
    });
    this.cache = new VisitedCache(unknownMask);
    this.twins = previousTwins(ops);
  }

  run(): KeySearchResult {
    let node = this.head.next;
    let phase: Phase = 'definite';
    let iterations = 0;
    while (node !== null) {
      if (++iterations % CLOCK_CHECK_INTERVAL === 0 && this.overBudget()) {
        return this.result('undecided');
      }
      if (node.match !== null) {
        const candidate = this.isCandidate(node.op, phase);
        if (!candidate || !this.tryLinearize(node, phase)) node = node.next;
        else [node, phase] = [this.head.next, 'definite'];
      } else if (node.unknownReturn) {
        break; // only unknown ops are left: place them last (see the header)
      } else if (phase === 'definite') {
        [node, phase] = [this.head.next, 'unknown'];
      } else {
        if (this.blocker === undefined) this.recordBlocker(node.op);
        const resumed = this.backtrack();
        if (resumed === null) return this.result('bad');
        [node, phase] = [resumed.call.next, resumed.phase];
      }
    }
    return this.result('ok');
  }

  /** Whether a walk in `phase` may linearize op `i` (its call is known to be in reach). */
  private isCandidate(i: number, phase: Phase): boolean {
    if (!this.unknown[i]) return phase === 'definite';
    const twin = this.twins[i]!;
    return phase === 'unknown' && (twin === -1 || this.isLinearized(twin));
  }

  private isLinearized(i: number): boolean {
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  private recordBlocker(op: number): void {
    this.blocker = op;
    this.longestPrefix = this.stack.map((entry) => entry.call.op);
  }

  private overBudget(): boolean {
    return this.cache.size > this.limits.stateBudget || performance.now() > this.limits.deadlineMs;
  }

  /** Try to linearize `call` now; on success it is lifted and pushed on the stack. */
  private tryLinearize(call: EventNode, phase: Phase): boolean {
    const op = this.ops[call.op]!;
    const next = step(this.state, op.input, op.output);
    if (next === ILLEGAL) return false;
    const hash = this.unknown[call.op] ? this.hash : (this.hash ^ zobrist(call.op)) >>> 0;
    if (!this.cache.addWith(this.bits, hash, call.op, this.stateId(next))) return false;
    this.stack.push({ call, phase, state: this.state, hash: this.hash });
    this.state = next;
    this.hash = hash;
    this.bits[call.op >>> 5]! |= 1 << (call.op & 31);
    lift(call);
    if (this.stack.length > this.longestLength) {
      // A new best: the stack is still this prefix when the walk is next stopped by a return
      // (any success in between would be a longer one), so it is copied then, in `run`.
      this.longestLength = this.stack.length;
      this.blocker = undefined;
    }
    return true;
  }

  /** Undo the last linearization and return it, or null when nothing is left to undo. */
  private backtrack(): Choice | null {
    const top = this.stack.pop();
    if (top === undefined) return null;
    this.state = top.state;
    this.hash = top.hash;
    this.bits[top.call.op >>> 5]! &= ~(1 << (top.call.op & 31));
    unlift(top.call);
    return top;
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
