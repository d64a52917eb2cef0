// Shared helpers for the store tests: a fixed clock origin and an error-code assertion.
import { StoreError } from '../../core/store/errors.js';

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** Runs fn and returns the StoreError it throws (or a failing sentinel when none is thrown). */
export function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  throw new Error('expected a StoreError, none was thrown');
}

/** A seeded generator of numbers in [0, 1) for the randomized store tests (an LCG: a seed replays). */
export function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
}
