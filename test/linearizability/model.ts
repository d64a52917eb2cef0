// The sequential specification of one key of the v2 kv store, as the linearizability checker
// sees it: the state is the key's value, or null when the key is absent. `step` says whether
// an operation with a recorded output is legal in a state and, if so, the state after it.
//
// Deliberate choices (each errs towards "legal", so the model never manufactures a violation):
//   - Only get's value is checked; a value echoed by set/cas/delete/create is ignored.
//   - A get of a missing key may come back as `fail` 100 instead of `ok` with null.
//   - A `fail` whose code the model does not predict for that kind (say a 500, or a 400 from
//     a malformed request) is a refusal for some other reason: legal in every state, no effect.
//   - An `unknown` output is legal in every state and has the op's sequential effect. An
//     unknown op that is better left out is linearized after everything else by the search,
//     where its effect can no longer be observed: that is how Porcupine models "never happened".
import type { KvInput, KvOutput } from './history.js';

/** A key's value; null when the key does not exist. */
export type KeyState = string | null;

/** The key's state before the history begins. */
export const INITIAL_STATE: KeyState = null;

/** Returned by `step` when the recorded output cannot happen in the given state. */
export const ILLEGAL: unique symbol = Symbol('linearizability.illegal');

/** The etcd v2 error codes the model predicts: key not found, compare failed, node exists. */
export const CODE_KEY_NOT_FOUND = 100;
export const CODE_COMPARE_FAILED = 101;
export const CODE_NODE_EXISTS = 105;

/** The state after `input` runs alone on `state`, whatever its result. */
export function effect(state: KeyState, input: KvInput): KeyState {
  switch (input.kind) {
    case 'get':
      return state;
    case 'set':
      return input.value;
    case 'cas':
      return state === input.expected ? input.value : state;
    case 'delete':
      return null;
    case 'create':
      return state === null ? input.value : state;
  }
}

/** The code `input` fails with in `state`, or null when it succeeds there. */
export function failureCode(state: KeyState, input: KvInput): number | null {
  switch (input.kind) {
    case 'get':
    case 'delete':
      return state === null ? CODE_KEY_NOT_FOUND : null;
    case 'set':
      return null;
    case 'cas':
      if (state === null) return CODE_KEY_NOT_FOUND;
      return state === input.expected ? null : CODE_COMPARE_FAILED;
    case 'create':
      return state === null ? null : CODE_NODE_EXISTS;
  }
}

/**
 * Whether a `fail` with `code` tells the model anything about the state. Codes outside the
 * ones an operation of that kind can fail with carry no information (see the file header).
 */
export function isInformativeFailure(input: KvInput, code: number): boolean {
  switch (input.kind) {
    case 'get':
    case 'delete':
      return code === CODE_KEY_NOT_FOUND;
    case 'set':
      return false;
    case 'cas':
      return code === CODE_KEY_NOT_FOUND || code === CODE_COMPARE_FAILED;
    case 'create':
      return code === CODE_NODE_EXISTS;
  }
}

/**
 * Whether an operation can be dropped from a history without changing its verdict: it has no
 * effect in any state and every state explains its output.
 */
export function isInert(input: KvInput, output: KvOutput): boolean {
  if (output.status === 'fail') return !isInformativeFailure(input, output.code);
  return output.status === 'unknown' && input.kind === 'get';
}

/** The state after `input` with the recorded `output`, or ILLEGAL if that output cannot be. */
export function step(state: KeyState, input: KvInput, output: KvOutput): KeyState | typeof ILLEGAL {
  switch (output.status) {
    case 'unknown':
      return effect(state, input);
    case 'fail':
      if (!isInformativeFailure(input, output.code)) return state;
      return failureCode(state, input) === output.code ? state : ILLEGAL;
    case 'ok':
      // A get succeeds on an absent key too (reading null): only its value must match.
      // `undefined` is refused at the gateway (check.ts).
      if (input.kind === 'get') return (output.value ?? null) === state ? state : ILLEGAL;
      return failureCode(state, input) === null ? effect(state, input) : ILLEGAL;
  }
}
