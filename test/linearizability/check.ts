// checkHistory: is a recorded history of kv operations linearizable? Keys are independent
// objects, so the history is split per key and each key is searched on its own (Herlihy and
// Wing's locality; Porcupine's "P-compositionality"), which keeps every search small.
//
// Verdicts are never guessed: a key is bad only when the search has exhausted every order,
// and a key whose search ran out of time or states is reported in `undecidedKeys`. `ok` means
// "no key was proven bad", so undecided keys do not make it false; a caller that needs proof
// must also require `undecidedKeys` to be empty.
import type { CheckResult, KvOutput, Operation } from './history.js';
import { ILLEGAL, INITIAL_STATE, isInert, step, type KeyState } from './model.js';
import { WglSearch, type KeySearchResult, type KeyVerdict } from './search.js';

export interface CheckOptions {
  /** Wall-clock budget per key, in ms (default DEFAULT_TIME_BUDGET_MS). */
  readonly timeBudgetMs?: number;
  /** Cached (linearized set, state) pairs per key (default DEFAULT_STATE_BUDGET). */
  readonly stateBudget?: number;
}

export const DEFAULT_TIME_BUDGET_MS = 10_000;
/** Each cached pair holds a bitset of the key's ops: ~1e6 pairs of 500 ops is ~100 MB. */
export const DEFAULT_STATE_BUDGET = 1_000_000;

/** What the check found for one key. */
export interface KeyReport {
  readonly key: string;
  readonly verdict: KeyVerdict;
  /** Operations searched (inert ones, see model.ts isInert, are left out). */
  readonly opsChecked: number;
  readonly statesExplored: number;
  /** For a bad key: the longest linearizable prefix and the op that could not follow it. */
  readonly explanation?: string;
}

export interface HistoryReport extends CheckResult {
  /** One report per key, sorted by key. */
  readonly keys: readonly KeyReport[];
}

/** Check a whole history; `explanation` joins the explanations of every bad key. */
export function checkHistory(ops: readonly Operation[], options: CheckOptions = {}): HistoryReport {
  ops.forEach(validateOperation);
  const keys = [...partitionByKey(ops)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const reports = keys.map(([key, keyOps]) => checkKey(key, keyOps, options));
  const badKeys = reports.filter((r) => r.verdict === 'bad').map((r) => r.key);
  const undecidedKeys = reports.filter((r) => r.verdict === 'undecided').map((r) => r.key);
  const explanations = reports.flatMap((r) => (r.explanation === undefined ? [] : [r.explanation]));
  return {
    ok: badKeys.length === 0,
    badKeys,
    undecidedKeys,
    ...(explanations.length > 0 ? { explanation: explanations.join('\n\n') } : {}),
    keys: reports,
  };
}

/** Check the operations of one key (all must be on `key`). */
export function checkKey(
  key: string,
  ops: readonly Operation[],
  options: CheckOptions = {},
): KeyReport {
  const relevant = ops.filter((op) => !isInert(op.input, op.output));
  const timeBudgetMs = options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS;
  const stateBudget = options.stateBudget ?? DEFAULT_STATE_BUDGET;
  const limits = { deadlineMs: performance.now() + timeBudgetMs, stateBudget };
  const result = new WglSearch(relevant, limits).run();
  const report = {
    key,
    verdict: result.verdict,
    opsChecked: relevant.length,
    statesExplored: result.statesExplored,
  };
  if (result.verdict !== 'bad') return report;
  return { ...report, explanation: explain(key, relevant, result) };
}

function partitionByKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    const list = byKey.get(op.input.key);
    if (list === undefined) byKey.set(op.input.key, [op]);
    else list.push(op);
  }
  return byKey;
}

/** The gateway: refuse histories the recorder cannot have meant, rather than judge them. */
function validateOperation(op: Operation, index: number): void {
  const fail = (why: string): never => {
    throw new Error(`linearizability: operation #${index} (${describeOperation(op)}): ${why}`);
  };
  if (!Number.isFinite(op.call)) fail('call time is not a finite number');
  if (typeof op.input.key !== 'string') fail('key is not a string');
  if (op.output.status === 'unknown') return;
  if (!Number.isFinite(op.return)) fail('return time is not a finite number');
  if (op.return < op.call) fail('returned before it was called');
  if (op.input.kind === 'get' && op.output.status === 'ok' && op.output.value === undefined) {
    fail('a successful get must record its value (null for an absent key)');
  }
}

/** The longest linearizable prefix (its last few ops) and the op that could not follow it. */
function explain(key: string, ops: readonly Operation[], result: KeySearchResult): string {
  const shownMax = 10;
  const prefix = result.longestPrefix;
  let state: KeyState = INITIAL_STATE;
  for (const i of prefix) {
    const next = step(state, ops[i]!.input, ops[i]!.output);
    if (next === ILLEGAL) throw new Error('linearizability: the longest prefix does not replay');
    state = next;
  }
  const lines = [
    `key ${JSON.stringify(key)} is not linearizable (${ops.length} ops); ` +
      `the longest linearizable prefix has ${prefix.length} ops` +
      (prefix.length > shownMax ? `, the last ${shownMax} of which are:` : ':'),
    ...prefix.slice(-shownMax).map((i) => `  ${describeOperation(ops[i]!)}`),
    `  -> leaves the key ${state === null ? 'absent' : `= ${JSON.stringify(state)}`}`,
  ];
  if (result.blocker !== undefined) {
    const blocker = describeOperation(ops[result.blocker]!);
    lines.push(`then this op, which had returned, fits nowhere: ${blocker}`);
  }
  return lines.join('\n');
}

/** One line per op, e.g. `client 3 [10, 12] cas "k" "a"->"b" => fail 101`. */
export function describeOperation(op: Operation): string {
  const input = op.input;
  const args =
    input.kind === 'get' || input.kind === 'delete'
      ? ''
      : input.kind === 'cas'
        ? ` ${JSON.stringify(input.expected)}->${JSON.stringify(input.value)}`
        : ` ${JSON.stringify(input.value)}`;
  const end = op.output.status === 'unknown' ? '?' : String(op.return);
  return `client ${op.client} [${op.call}, ${end}] ${input.kind} ${JSON.stringify(input.key)}` +
    `${args} => ${describeOutput(op.output)}`;
}

function describeOutput(output: KvOutput): string {
  switch (output.status) {
    case 'ok':
      return output.value === undefined ? 'ok' : `ok ${JSON.stringify(output.value)}`;
    case 'fail':
      return `fail ${output.code}`;
    case 'unknown':
      return 'unknown';
  }
}
