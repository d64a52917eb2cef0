// Shape checks on what members send, done once where a reply enters the client, so the
// code behind (watch resume arithmetic above all) can trust an event's `index`. They check
// what the client relies on, not every field of API.md.
import type { KvEvent, KvResult, TxnResult, WatchNotice, WatchStarted } from '../core/api/types.js';
import { badReplyError } from './errors.js';

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isIndex = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function eventProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (typeof value['action'] !== 'string') return 'no "action"';
  if (!isObject(value['node']) || typeof value['node']['key'] !== 'string') return 'no "node" with a "key"';
  if (!isIndex(value['index'])) return 'no whole-number "index"';
  return undefined;
}

/** A kv.get/set/create/delete result. */
export function expectKvResult(method: string, value: unknown): KvResult {
  const problem = eventProblem(value);
  if (problem !== undefined) throw badReplyError(method, problem);
  return value as unknown as KvResult;
}

/** A kv.wait result: an event, or null when its timeoutMs passed. */
export function expectKvEventOrNull(method: string, value: unknown): KvEvent | null {
  if (value === null) return null;
  const problem = eventProblem(value);
  if (problem !== undefined) throw badReplyError(method, problem);
  return value as unknown as KvEvent;
}

export function expectTxnResult(method: string, value: unknown): TxnResult {
  if (!isObject(value) || typeof value['succeeded'] !== 'boolean' || !Array.isArray(value['results'])) {
    throw badReplyError(method, 'no "succeeded" and "results"');
  }
  return value as unknown as TxnResult;
}

export function expectWatchStarted(method: string, value: unknown): WatchStarted {
  if (!isObject(value) || typeof value['subscription'] !== 'string' || !isIndex(value['index'])) {
    throw badReplyError(method, 'no "subscription" and whole-number "index"');
  }
  return value as unknown as WatchStarted;
}

/** One kv.watch notification: an event or a progress mark. */
export function expectWatchNotice(method: string, value: unknown): WatchNotice {
  if (isObject(value) && 'progress' in value) {
    if (isIndex(value['progress'])) return { progress: value['progress'] };
    throw badReplyError(method, 'a "progress" that is not a whole number');
  }
  const problem = eventProblem(value);
  if (problem !== undefined) throw badReplyError(method, `watch event: ${problem}`);
  return value as unknown as KvEvent;
}

export function expectObject<T>(method: string, value: unknown): T {
  if (!isObject(value)) throw badReplyError(method, 'the result is not an object');
  return value as T;
}
