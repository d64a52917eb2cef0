// The reboot semaphore's state value, as locksmith keeps it ({"semaphore":available,"max":n,
// "holders":[...]}), plus each holder's fencing token and the latest token, and the pure
// transitions on it (grant, release, setMax). No I/O here: store access is ./store.ts.
//
// A write cannot know its own store index in advance, yet a grant's token is exactly that
// index. So a stored token of 0 means "granted by the write that made this value": its token
// is the state node's modifiedIndex. Every later write resolves those 0s from the value it
// replaces (whose modifiedIndex it compared against), and every API result shows them resolved.
import { MemberError } from '../../server/errors.js';

export interface SemaphoreState {
  /** Free slots: max minus holders; negative after setMax lowered max below the holders. */
  semaphore: number;
  max: number;
  /** Holders in grant order. */
  holders: string[];
  /** Each holder's fencing token: the store index of the write that granted it. */
  tokens: Record<string, number>;
  /** The token of the latest grant, held or not; null before the first grant. */
  token: number | null;
}

/** Marks a token as "this write's own index" in a value about to be written. */
const PENDING = 0;

/** A semaphore seen for the first time: one slot, nobody holding (locksmith's default). */
export function initialState(max = 1): SemaphoreState {
  return { semaphore: max, max, holders: [], tokens: {}, token: null };
}

export const holds = (state: SemaphoreState, holder: string): boolean => state.holders.includes(holder);

/** `holder` takes a slot; its token (and the latest token) become this write's index. */
export function grant(state: SemaphoreState, holder: string): SemaphoreState {
  if (holds(state, holder)) throw new Error(`grant: ${holder} already holds`);
  return {
    semaphore: state.semaphore - 1,
    max: state.max,
    holders: [...state.holders, holder],
    tokens: { ...state.tokens, [holder]: PENDING },
    token: PENDING,
  };
}

/** `holder` gives its slot back. */
export function release(state: SemaphoreState, holder: string): SemaphoreState {
  if (!holds(state, holder)) throw new Error(`release: ${holder} holds nothing`);
  const tokens = { ...state.tokens };
  delete tokens[holder];
  return { ...state, semaphore: state.semaphore + 1, holders: state.holders.filter((h) => h !== holder), tokens };
}

/** A new max; the free count moves by the same amount and may go negative (locksmith's SetMax). */
export function withMax(state: SemaphoreState, max: number): SemaphoreState {
  return { ...state, semaphore: state.semaphore + (max - state.max), max };
}

export function encodeState(state: SemaphoreState): string {
  return JSON.stringify(state);
}

/**
 * The stored value as a state with every token resolved (`modifiedIndex` is the state node's).
 * Accepts locksmith's own shape too ("holders": null, no tokens): a holder without a token
 * is taken as granted by the write that made the value.
 */
export function decodeState(key: string, text: string | undefined, modifiedIndex: number): SemaphoreState {
  const bad = (why: string): MemberError =>
    new MemberError(-32603, `${key} does not hold a semaphore state (${why}); fix it with kv.set or delete it to start over with max 1`, false);
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw bad('not a JSON object');
  const r = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(r['semaphore']) || !Number.isSafeInteger(r['max'])) throw bad('"semaphore" and "max" must be integers');
  const holders = r['holders'] ?? [];
  if (!Array.isArray(holders) || !holders.every((h) => typeof h === 'string')) throw bad('"holders" must be a list of strings');
  const storedTokens = (r['tokens'] ?? {}) as Record<string, unknown>;
  const resolve = (t: unknown): number => (Number.isSafeInteger(t) && (t as number) > 0 ? (t as number) : modifiedIndex);
  const tokens: Record<string, number> = {};
  for (const h of holders as string[]) tokens[h] = resolve(storedTokens[h]);
  const latest = r['token'];
  const token = latest === null || latest === undefined ? null : resolve(latest);
  return { semaphore: r['semaphore'] as number, max: r['max'] as number, holders: [...(holders as string[])], tokens, token };
}
