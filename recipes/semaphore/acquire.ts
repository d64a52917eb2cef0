// semaphore.acquire: idempotent for a holder that already holds; without waiting, a slot only
// if one is free and nobody queues; otherwise a place in the queue (./queue.ts), served first
// come, first served. Only the first live waiter may take a slot, and it takes it in one
// transaction that swaps the state (compared on its modifiedIndex) and deletes its waiter key.
// Every other waiter watches only the waiter just ahead of it, so a grant wakes one request,
// not the whole queue. The wait ends at timeoutMs, when the client's connection closes, or
// when the waiter key is lost; the key is withdrawn on every path that did not grant.
import type { KvResult } from '../../core/api/types.js';
import { MemberError } from '../../server/errors.js';
import { kvTxn } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { KeptAlive } from '../keepalive.js';
import { keepAlive } from '../keepalive.js';
import { enqueue, readWaiters, WAITER_TTL_SECONDS } from './queue.js';
import type { Waiter } from './queue.js';
import { decodeState, encodeState, grant, holds } from './state.js';
import type { SemaphoreState } from './state.js';
import { changeState, ensureState, readLocal, stateKey } from './store.js';
import type { StateView } from './store.js';
import { nextChange } from './wake.js';

export interface AcquireResult {
  acquired: boolean;
  token?: number;
  state: SemaphoreState;
}

export interface AcquireRequest {
  readonly name: string;
  readonly holder: string;
  readonly wait: boolean;
  readonly timeoutMs?: number;
}

/** After a retryable failure (no leader, unknown outcome), wait this long before looking again. */
const RETRY_PAUSE_MS = 100;

const acquired = (state: SemaphoreState, holder: string): AcquireResult =>
  ({ acquired: true, token: state.tokens[holder] as number, state });

export async function acquire(member: MemberApi, closed: AbortSignal, req: AcquireRequest): Promise<AcquireResult> {
  const view = await ensureState(member, req.name);
  if (holds(view.state, req.holder)) return acquired(view.state, req.holder);
  if (!req.wait) return acquireNow(member, req);
  const deadlineMs = req.timeoutMs === undefined ? Infinity : Date.now() + req.timeoutMs;
  const waiter = await enqueue(member, req.name, req.holder);
  const kept = keepAlive(member, waiter.key, WAITER_TTL_SECONDS, waiter.createdIndex, closed);
  let granted = false;
  try {
    const result = await waitForTurn(member, req, waiter, { deadlineMs, closed, lost: kept.lost });
    granted = result.acquired;
    return result;
  } finally {
    await leaveQueue(kept, granted);
  }
}

/** wait:false — a free slot now, and only if nobody queues for one (they came first). */
async function acquireNow(member: MemberApi, req: AcquireRequest): Promise<AcquireResult> {
  const after = await changeState(member, req.name, (state) => {
    if (holds(state, req.holder) || state.semaphore <= 0 || readWaiters(member, req.name).length > 0) return null;
    return grant(state, req.holder);
  });
  const state = (after as StateView).state;
  return holds(state, req.holder) ? acquired(state, req.holder) : { acquired: false, state };
}

async function leaveQueue(kept: KeptAlive, granted: boolean): Promise<void> {
  if (granted) {
    kept.release(); // the granting transaction deleted the key
    return;
  }
  // If this fails (no leader), the key lapses by its TTL.
  await kept.withdraw().catch(() => undefined);
}

interface WaitBounds {
  readonly deadlineMs: number;
  readonly closed: AbortSignal;
  readonly lost: AbortSignal;
}

/** The wait loop: look, then take the slot or sleep until what was looked at changes. */
async function waitForTurn(member: MemberApi, req: AcquireRequest, me: Waiter, bounds: WaitBounds): Promise<AcquireResult> {
  for (;;) {
    const view = readLocal(member, req.name);
    if (view === null) throw new MemberError(301, `${stateKey(req.name)} was deleted while ${req.holder} waited; retry to start over`, true);
    if (holds(view.state, req.holder)) return acquired(view.state, req.holder);
    if (bounds.closed.aborted || Date.now() >= bounds.deadlineMs) return { acquired: false, state: view.state };
    const queue = readWaiters(member, req.name);
    const at = queue.findIndex((w) => w.key === me.key);
    if (at < 0 || bounds.lost.aborted) throw lostPlace(req);
    if (at === 0 && view.state.semaphore > 0) {
      const outcome = await tryGrant(member, req, me, view);
      if (outcome !== null) return outcome;
      continue;
    }
    // Synchronous since the reads above, so no event can fall in between.
    const watched = at === 0 ? stateKey(req.name) : (queue[at - 1] as Waiter).key;
    await nextChange(member, watched, bounds.deadlineMs, [bounds.closed, bounds.lost]);
  }
}

/** The head waiter's grant; null when it lost a race (look again) or the outcome is unknown. */
async function tryGrant(member: MemberApi, req: AcquireRequest, me: Waiter, view: StateView): Promise<AcquireResult | null> {
  const key = stateKey(req.name);
  try {
    const done = await kvTxn(member, {
      compare: [{ key, index: view.modifiedIndex }, { key: me.key, exists: true }],
      success: [{ set: { key, value: encodeState(grant(view.state, req.holder)), prevIndex: view.modifiedIndex } }, { delete: { key: me.key } }],
    });
    if (!done.succeeded) return null;
    const node = (done.results[0] as KvResult).node;
    return acquired(decodeState(node.key, node.value, node.modifiedIndex), req.holder);
  } catch (error) {
    if (!(error instanceof MemberError) || !error.retryable) throw error;
    // No leader, or not known to commit: look again after a pause; a grant that did land shows then.
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    return null;
  }
}

const lostPlace = (req: AcquireRequest): MemberError =>
  new MemberError(301, `${req.holder} lost its place in the ${req.name} queue (its waiter key lapsed, e.g. while this member had no quorum); retry`, true);
