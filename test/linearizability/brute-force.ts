// The naive oracle for the randomized tests: linearizability straight from its definition.
// It tries every order of the whole history (all keys together, so it also checks that
// splitting per key is sound) that respects real time, on the sequential model. An unknown
// op returns at +infinity, so it may go anywhere after its call; when only unknown ops are
// left they go last, where nothing can observe them ("never happened"). Exponential: keep
// histories to about 8 operations.
import type { Operation } from './history.js';
import { ILLEGAL, step, type KeyState } from './model.js';

export function bruteForceLinearizable(ops: readonly Operation[]): boolean {
  const returns = ops.map((op) => (op.output.status === 'unknown' ? Infinity : op.return));
  const placed = new Array<boolean>(ops.length).fill(false);
  const states = new Map<string, KeyState>();

  /** Whether op i may go next: no unplaced op returned strictly before i was called. */
  const mayGoNext = (i: number): boolean =>
    ops.every((_, j) => j === i || placed[j] || !(returns[j]! < ops[i]!.call));

  const search = (): boolean => {
    if (ops.every((op, i) => placed[i] || op.output.status === 'unknown')) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i] || !mayGoNext(i)) continue;
      const op = ops[i]!;
      const before = states.get(op.input.key) ?? null;
      const after = step(before, op.input, op.output);
      if (after === ILLEGAL) continue;
      placed[i] = true;
      states.set(op.input.key, after);
      const found = search();
      placed[i] = false;
      states.set(op.input.key, before);
      if (found) return true;
    }
    return false;
  };
  return search();
}
