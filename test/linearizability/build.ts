// Terse constructors for hand-written histories in the checker's tests, so each test reads as
// a timeline: `op(1, 0, 10, set('x', 'a'), ok())` is client 1 setting x to "a" over [0, 10].
import type { KvInput, KvOutput, Operation } from './history.js';

export const get = (key: string): KvInput => ({ kind: 'get', key });
export const set = (key: string, value: string): KvInput => ({ kind: 'set', key, value });
export const cas = (key: string, expected: string, value: string): KvInput => ({
  kind: 'cas',
  key,
  expected,
  value,
});
export const del = (key: string): KvInput => ({ kind: 'delete', key });
export const create = (key: string, value: string): KvInput => ({ kind: 'create', key, value });

/** A successful output; for get, `value` is what was read (null: the key was absent). */
export const ok = (value?: string | null): KvOutput =>
  value === undefined ? { status: 'ok' } : { status: 'ok', value };
export const fail = (code: number): KvOutput => ({ status: 'fail', code });
export const unknown: KvOutput = { status: 'unknown' };

export function op(
  client: number,
  call: number,
  ret: number,
  input: KvInput,
  output: KvOutput,
): Operation {
  return { client, call, return: ret, input, output };
}
