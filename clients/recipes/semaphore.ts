// Client-side helpers of the reboot semaphore (API.md "Reboot semaphore"), built on
// CairnClient.call: acquireSemaphore (waits in the server's FIFO queue; safe to retry, as
// acquire is idempotent for a holder), releaseSemaphore (settles an unknown outcome by
// reading the state before trying again), semaphoreStatus, setSemaphoreMax, and
// semaphoreWaiters (the queue, read from its keys).
import type { SemaphoreState } from '../../recipes/semaphore/state.js';
import type { CairnClient } from '../client.js';
import { badReplyError, isCairnError } from '../errors.js';
import type { CallOptions } from '../types.js';
import { expectKvResult, expectObject } from '../validate.js';

export type { SemaphoreState };

type Caller = Pick<CairnClient, 'call'>;

/** The semaphore a call names when it names none (locksmith's one semaphore). */
export const DEFAULT_SEMAPHORE = 'reboot';

export interface SemaphoreAcquireResult {
  acquired: boolean;
  /** The fencing token of the grant (the store index of the write that granted it). */
  token?: number;
  state: SemaphoreState;
}
export interface SemaphoreReleaseResult { released: true; state: SemaphoreState }
export interface SemaphoreStatus { state: SemaphoreState; token: number | null }

export interface AcquireSemaphoreOptions {
  name?: string;
  holder: string;
  /** Queue for a slot (default true); false answers at once. */
  wait?: boolean;
  /** How long the member waits for a slot before answering `acquired: false` (default: no limit). */
  timeoutMs?: number;
  /**
   * Extra time the call may take past `timeoutMs` (default 10,000 ms). To give up earlier,
   * close the client: the member withdraws the waiter when the connection closes.
   */
  marginMs?: number;
  signal?: AbortSignal;
}

export interface SemaphoreOptions extends CallOptions { name?: string }

const nameParam = (name: string | undefined): { name?: string } => (name === undefined ? {} : { name });

function expectState(method: string, value: unknown): SemaphoreState {
  const s = expectObject<Record<string, unknown>>(method, value);
  if (!Number.isSafeInteger(s['semaphore']) || !Number.isSafeInteger(s['max']) || !Array.isArray(s['holders'])) {
    throw badReplyError(method, 'a state without "semaphore", "max" and "holders"');
  }
  return s as unknown as SemaphoreState;
}

/**
 * Takes a slot for `holder`, waiting in arrival order unless `wait` is false. Holding already
 * is not an error: the answer carries the existing token. A lost connection is retried on
 * another member (the same holder cannot be granted twice).
 */
export async function acquireSemaphore(client: Caller, options: AcquireSemaphoreOptions): Promise<SemaphoreAcquireResult> {
  const { name, holder, wait, timeoutMs, marginMs, signal } = options;
  const params = { ...nameParam(name), holder, ...(wait === undefined ? {} : { wait }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
  const waits = wait !== false;
  const callTimeoutMs = !waits ? undefined : timeoutMs === undefined ? Infinity : timeoutMs + (marginMs ?? 10_000);
  const result = expectObject<SemaphoreAcquireResult>('semaphore.acquire', await client.call('semaphore.acquire', params, {
    idempotent: true, ...(signal === undefined ? {} : { signal }), ...(callTimeoutMs === undefined ? {} : { timeoutMs: callTimeoutMs }),
  }));
  expectState('semaphore.acquire', result.state);
  if (typeof result.acquired !== 'boolean') throw badReplyError('semaphore.acquire', 'no boolean "acquired"');
  return result;
}

/**
 * Gives `holder`'s slot back (any holder: an operator may release for a machine that is gone).
 * Error 501 if it holds nothing. When a release's outcome is unknown (a lost connection,
 * 302), the state is read: if the holder no longer holds, that release landed.
 */
export async function releaseSemaphore(client: Caller, holder: string, options: SemaphoreOptions = {}): Promise<SemaphoreReleaseResult> {
  const { name, ...call } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = expectObject<SemaphoreReleaseResult>('semaphore.release',
        await client.call('semaphore.release', { ...nameParam(name), holder }, call));
      expectState('semaphore.release', result.state);
      return result;
    } catch (error) {
      if (!isCairnError(error) || error.code !== 302 || attempt >= 2) throw error;
      const now = await semaphoreStatus(client, options);
      if (!now.state.holders.includes(holder)) return { released: true, state: now.state };
    }
  }
}

export async function semaphoreStatus(client: Caller, options: SemaphoreOptions = {}): Promise<SemaphoreStatus> {
  const { name, ...call } = options;
  const result = expectObject<SemaphoreStatus>('semaphore.status',
    await client.call('semaphore.status', nameParam(name), { ...call, idempotent: true }));
  expectState('semaphore.status', result.state);
  return result;
}

/** Sets the number of slots; lowering it below the holders evicts nobody (semaphore goes negative). */
export async function setSemaphoreMax(client: Caller, max: number, options: SemaphoreOptions = {}): Promise<{ state: SemaphoreState }> {
  const { name, ...call } = options;
  // Setting the same max twice is the same as once, so a lost reply may be retried.
  const result = expectObject<{ state: SemaphoreState }>('semaphore.setMax',
    await client.call('semaphore.setMax', { ...nameParam(name), max }, { ...call, idempotent: true }));
  expectState('semaphore.setMax', result.state);
  return result;
}

/** The holders waiting for a slot, first in line first (read from the waiter keys). */
export async function semaphoreWaiters(client: Caller, options: SemaphoreOptions = {}): Promise<string[]> {
  const { name, ...call } = options;
  const key = `/cairn/semaphore/${name ?? DEFAULT_SEMAPHORE}/waiters`;
  let result;
  try {
    result = expectKvResult('kv.get', await client.call('kv.get', { key, sorted: true }, call));
  } catch (error) {
    if (isCairnError(error) && error.code === 100) return [];
    throw error;
  }
  return (result.node.nodes ?? []).map((n) => {
    try {
      const holder = (JSON.parse(n.value ?? '') as { holder?: unknown }).holder;
      return typeof holder === 'string' ? holder : '?';
    } catch {
      return '?';
    }
  });
}
