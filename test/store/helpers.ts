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
