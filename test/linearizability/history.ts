// The shape of a recorded history of kv operations, shared by the fault runner (which
// records it) and the linearizability checker (which judges it). Times are monotonic ms from
// the start of the run, as seen by the client that made the call.

/** One kv operation as the client issued it. */
export type KvInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'set'; readonly key: string; readonly value: string }
  /** compare-and-swap: set `value` only if the current value is `expected`. */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  /** create: set only if the key does not exist (prevExist: false). */
  | { readonly kind: 'create'; readonly key: string; readonly value: string };

/**
 * What came back. `unknown` is an operation whose outcome the client could not learn (302,
 * a timeout, a lost connection): it may have taken effect at any time after its call, or never.
 */
export type KvOutput =
  | { readonly status: 'ok'; readonly value?: string | null }
  /** A definite refusal (key not found, compare failed, already exists): no effect. */
  | { readonly status: 'fail'; readonly code: number }
  | { readonly status: 'unknown' };

export interface Operation {
  /** Which client (process or logical worker) made it; one operation at a time per client. */
  readonly client: number;
  readonly input: KvInput;
  readonly output: KvOutput;
  /** When the call was made. */
  readonly call: number;
  /** When the answer came; ignored (treated as never) for `unknown` outputs. */
  readonly return: number;
}

export interface CheckResult {
  readonly ok: boolean;
  /** Keys whose sub-history is not linearizable. */
  readonly badKeys: readonly string[];
  /** Keys the search gave up on within its budget (neither proven nor refuted). */
  readonly undecidedKeys: readonly string[];
  /** For a bad key: the longest linearizable prefix found, to help read the failure. */
  readonly explanation?: string;
}
