// Where a semaphore lives in the store and how it is read and changed: the state key
// (/cairn/semaphore/<name>/state) created with max 1 on first use, read locally or after a
// read barrier, and changed only by compare-and-swap on its modifiedIndex, so a crash or a
// leader change between any two steps leaves it consistent.
import { MemberError } from '../../server/errors.js';
import { StoreError } from '../../core/store/index.js';
import type { NodeView } from '../../core/store/index.js';
import { fromStoreError, kvSet } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import { decodeState, encodeState, initialState } from './state.js';
import type { SemaphoreState } from './state.js';

export const DEFAULT_NAME = 'reboot';
export const stateKey = (name: string): string => `/cairn/semaphore/${name}/state`;
export const waitersKey = (name: string): string => `/cairn/semaphore/${name}/waiters`;

/** How many compare-and-swap rounds a change may lose to other writers before giving up. */
const MAX_CAS_ROUNDS = 64;

/** The state with its tokens resolved, and the modifiedIndex a change must compare against. */
export interface StateView {
  readonly state: SemaphoreState;
  readonly modifiedIndex: number;
}

/** A node of this member's store, or null if the key does not exist. */
export function localNode(member: MemberApi, key: string, sorted = false): NodeView | null {
  try {
    // The clock only renders a `ttl` nobody reads here; decisions never use it.
    return member.store.get(key, { sorted }, Date.now()).node;
  } catch (error) {
    if (error instanceof StoreError && error.code === 100) return null;
    throw error instanceof StoreError ? fromStoreError(error) : error;
  }
}

/** The state as this member has applied it; null if the semaphore was never used. */
export function readLocal(member: MemberApi, name: string): StateView | null {
  const node = localNode(member, stateKey(name));
  if (node === null) return null;
  return { state: decodeState(node.key, node.value, node.modifiedIndex), modifiedIndex: node.modifiedIndex };
}

/** The state as of now (linearizable): everything committed before the call is seen. */
export async function readFresh(member: MemberApi, name: string): Promise<StateView | null> {
  await member.readBarrier();
  return readLocal(member, name);
}

/** The state, created with max 1 if this is the semaphore's first use (racing creators agree). */
export async function ensureState(member: MemberApi, name: string): Promise<StateView> {
  const found = await readFresh(member, name);
  if (found !== null) return found;
  try {
    const created = await kvSet(member, { key: stateKey(name), value: encodeState(initialState()), prevExist: false });
    return { state: initialState(), modifiedIndex: created.node.modifiedIndex };
  } catch (error) {
    // 105: another request created it first; that write is applied here now.
    if (!(error instanceof MemberError) || error.code !== 105) throw error;
    const now = readLocal(member, name);
    if (now === null) throw new MemberError(301, `${stateKey(name)} was created and deleted at once; retry`, true);
    return now;
  }
}

/**
 * Applies `change` to the current state by compare-and-swap until one write lands. `change`
 * returns null to write nothing (the answer is then the state it was given), or throws to
 * refuse. After a lost compare this member has applied the winning write, so a local re-read
 * is fresh enough for the next round.
 */
export async function changeState(
  member: MemberApi,
  name: string,
  change: (state: SemaphoreState) => SemaphoreState | null,
  create = true,
): Promise<StateView | null> {
  let view = create ? await ensureState(member, name) : await readFresh(member, name);
  for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
    if (view === null) return null;
    const next = change(view.state);
    if (next === null) return view;
    try {
      const written = await kvSet(member, { key: stateKey(name), value: encodeState(next), prevIndex: view.modifiedIndex });
      const node = written.node;
      return { state: decodeState(node.key, node.value, node.modifiedIndex), modifiedIndex: node.modifiedIndex };
    } catch (error) {
      // 101: someone changed it first; 100: someone deleted it (an operator starting over).
      if (!(error instanceof MemberError) || (error.code !== 101 && error.code !== 100)) throw error;
    }
    view = create ? await ensureState(member, name) : readLocal(member, name);
  }
  throw new MemberError(301, `${stateKey(name)} changed ${MAX_CAS_ROUNDS} times while this request tried to change it; retry`, true);
}
