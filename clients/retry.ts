// Timing helpers for the client: exponential backoff with full jitter, a sleep that an
// AbortSignal cuts short, and signal linking whose listeners are removed again. Every timer
// made here is cleared on every path, so a closed client leaves nothing that keeps a process
// alive.
import { abortedError, isCairnError } from './errors.js';
import type { CairnError } from './errors.js';

export interface BackoffOptions {
  /** The first retry waits up to this long; each further one doubles it. */
  retryBaseMs: number;
  /** No single wait is longer than this. */
  retryMaxMs: number;
}

/**
 * Full jitter (a uniformly random wait between 0 and the exponential step): retrying clients
 * spread out instead of hitting a recovering cluster in lockstep.
 */
export function backoffMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * step);
}

/** Resolves after `ms`; rejects with an aborted CairnError as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal, what));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal, what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The error a fired signal stands for: the client's own signals carry a CairnError as their
 * reason (closed, deadline); a caller's signal is reported as aborted.
 */
export function abortReason(signal: AbortSignal | undefined, what: string): CairnError {
  const reason: unknown = signal?.reason;
  return isCairnError(reason) ? reason : abortedError(what);
}

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners this link added to its sources and clears its deadline. */
  dispose(): void;
}

/**
 * One signal that fires when any source fires, or when `deadlineMs` passes with `onDeadline`
 * as its reason. AbortSignal.any is not used because its listeners cannot be removed early,
 * and AbortSignal.timeout because its timer cannot be cleared.
 */
export function linkSignals(
  sources: readonly (AbortSignal | undefined)[],
  deadlineMs?: number,
  onDeadline?: () => Error,
): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((s): s is AbortSignal => s !== undefined);
  const fire = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
    dispose();
  };
  const listeners = present.map((source) => {
    const listener = (): void => fire(source.reason);
    return { source, listener };
  });
  let timer: NodeJS.Timeout | undefined;
  function dispose(): void {
    for (const { source, listener } of listeners) source.removeEventListener('abort', listener);
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }
  for (const { source, listener } of listeners) {
    if (source.aborted) {
      fire(source.reason);
      return { signal: controller.signal, dispose };
    }
    source.addEventListener('abort', listener, { once: true });
  }
  if (deadlineMs !== undefined && Number.isFinite(deadlineMs)) {
    timer = setTimeout(() => fire(onDeadline?.()), Math.max(0, deadlineMs - Date.now()));
  }
  return { signal: controller.signal, dispose };
}

export interface RetryPolicy extends BackoffOptions {
  /** How many times a failed attempt may be repeated (so at most maxRetries + 1 attempts). */
  maxRetries: number;
  random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, fails with an error `mayRetry` refuses, or the retries,
 * the deadline or `signal` run out; the last error is thrown. Waits between attempts use
 * backoffMs, and a wait that would end past `deadlineMs` is not started.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  signal: AbortSignal,
  deadlineMs: number,
  mayRetry: (error: CairnError) => boolean,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(signal);
    } catch (error) {
      if (!isCairnError(error)) throw error; // A bug, not an operating error: let it surface.
      if (signal.aborted) throw abortReason(signal, what);
      if (retry >= policy.maxRetries || !mayRetry(error)) throw error;
      const waitMs = backoffMs(retry, policy, policy.random);
      if (Date.now() + waitMs >= deadlineMs) throw error;
      await sleep(waitMs, signal, what);
    }
  }
}
