// The fault runner's own checks, pure functions of a recorded history: the final value of
// every key is one some write could have left (so no acknowledged write is lost outright and
// nothing appears from nowhere), the last acknowledged write wins when nothing could have
// overtaken it, and availability (the fraction of 1 s windows with an answered operation).
// The linearizability check proper is test/linearizability's checkHistory (defaultChecker).
import { checkHistory } from '../linearizability/index.js';
import type { CheckResult, KvInput, Operation } from '../linearizability/index.js';

/** The checker's entry point (test/linearizability checkHistory's signature). */
export type Checker = (ops: readonly Operation[], options?: { timeBudgetMs?: number }) => CheckResult;

/** The linearizability checker the runner uses; a seam so a test can put another in. */
export const defaultChecker: Checker = checkHistory;

type Write = Operation & { readonly input: Exclude<KvInput, { kind: 'get' }> };

/** What a write leaves in the key when it takes effect: its value, or null for a delete. */
function written(op: Write): string | null {
  return op.input.kind === 'delete' ? null : op.input.value;
}

/** Writes that may have taken effect: acknowledged or of unknown outcome. */
function effectiveWrites(ops: readonly Operation[], key: string): Write[] {
  return ops.filter((op): op is Write => op.input.kind !== 'get' && op.input.key === key && op.output.status !== 'fail');
}

/**
 * Violations of the final state `finals` (key → value, null when absent) against `ops`:
 * a value no write (ok or unknown) wrote; a key absent though an acknowledged write made it
 * exist and no delete may have run; and, when the last acknowledged write was called after
 * every other possible write returned, a final value other than that write's.
 */
export function checkFinalState(ops: readonly Operation[], finals: ReadonlyMap<string, string | null>): string[] {
  const violations: string[] = [];
  for (const [key, final] of finals) {
    const writes = effectiveWrites(ops, key);
    const acked = writes.filter((w) => w.output.status === 'ok');
    if (final !== null && !writes.some((w) => written(w) === final)) {
      violations.push(`${key}: final value ${JSON.stringify(final)} was never written`);
    }
    if (final === null && acked.some((w) => written(w) !== null) && !writes.some((w) => written(w) === null)) {
      violations.push(`${key}: absent at the end, though an acknowledged write set it and no delete ran`);
    }
    const last = lastUnovertaken(writes, acked);
    if (last !== undefined && written(last) !== final) {
      violations.push(`${key}: final value ${JSON.stringify(final)}, but the last acknowledged write ` +
        `(client ${last.client}, ${last.input.kind} at ${last.call.toFixed(0)} ms) left ${JSON.stringify(written(last))}`);
    }
  }
  return violations;
}

/** The latest acknowledged write, if every other possible write was acknowledged before it was called. */
function lastUnovertaken(writes: readonly Write[], acked: readonly Write[]): Write | undefined {
  const last = acked.reduce<Write | undefined>((best, w) => (best === undefined || w.call > best.call ? w : best), undefined);
  if (last === undefined) return undefined;
  const others = writes.filter((w) => w !== last);
  const clear = others.every((w) => w.output.status === 'ok' && w.return < last.call);
  return clear ? last : undefined;
}

/** The fraction of the 1 s windows in [0, endMs) in which some operation was answered. */
export function availability(ops: readonly Operation[], endMs: number, answered: (op: Operation) => boolean): number {
  const windows = Math.max(1, Math.ceil(endMs / 1000));
  const hit = new Set<number>();
  for (const op of ops) if (answered(op) && op.return < windows * 1000) hit.add(Math.floor(op.return / 1000));
  return hit.size / windows;
}
