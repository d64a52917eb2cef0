// Keeping a waiter's key alive for as long as the client that asked waits (API.md Recipes:
// "the member serving it keeps the waiter's key alive for as long as the client's connection
// lives, and withdraws it when the connection closes or timeoutMs passes; if that member
// dies, the key lapses by its TTL"). Refreshes are TTL-only writes (refresh: true), so they
// wake no watcher; the withdrawal is a compare-and-delete on the key's createdIndex, so it
// can never remove a newer key of the same name.
import { MemberError } from '../server/errors.js';
import { StoreError } from '../core/store/index.js';
import { fromStoreError, kvDelete, kvSet } from '../server/kv-service.js';
import type { MemberApi } from '../server/member-api.js';

export interface KeptAlive {
  /** Stops refreshing and deletes the key (unless it is already gone). Idempotent. */
  withdraw(): Promise<void>;
  /** Stops refreshing but leaves the key (it was granted, or another write took it over). */
  release(): void;
  /** Aborted when a refresh finds the key gone: the waiter lost its place. */
  readonly lost: AbortSignal;
}

/**
 * Refreshes `key` (created by the caller with `ttlSeconds`, at `createdIndex`) every third of
 * its TTL until withdrawn, released, or `closed` fires (then it is withdrawn).
 */
export function keepAlive(member: MemberApi, key: string, ttlSeconds: number, createdIndex: number, closed: AbortSignal): KeptAlive {
  const lost = new AbortController();
  let stopped = false;
  const timer = setInterval(() => void refresh(), Math.max(100, (ttlSeconds * 1000) / 3));
  const refresh = async (): Promise<void> => {
    if (stopped) return;
    try {
      await kvSet(member, { key, ttl: ttlSeconds, refresh: true, prevExist: true });
    } catch (error) {
      // 100: the key expired or was deleted; anything else (no leader) is retried next round.
      if (error instanceof MemberError && error.code === 100) {
        stop();
        lost.abort(error);
      }
    }
  };
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
    closed.removeEventListener('abort', onClosed);
  };
  const withdraw = async (): Promise<void> => {
    if (stopped) return;
    stop();
    // This member's copy may trail the leader by a refresh: a 101 means read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await kvDelete(member, { key, prevIndex: modifiedIndexIfSame(member, key, createdIndex) });
        return;
      } catch (error) {
        if (!(error instanceof MemberError) || error.code === 100) return;
        if (error.code !== 101) throw error;
      }
    }
  };
  const onClosed = (): void => void withdraw().catch(() => { /* the TTL removes it */ });
  closed.addEventListener('abort', onClosed, { once: true });
  return { withdraw, release: stop, lost: lost.signal };
}

/** The key's modifiedIndex if it is still the incarnation created at createdIndex; else throws 100. */
function modifiedIndexIfSame(member: MemberApi, key: string, createdIndex: number): number {
  let node;
  try {
    node = member.store.get(key, {}, Date.now()).node;
  } catch (error) {
    throw error instanceof StoreError ? fromStoreError(error) : error;
  }
  if (node.createdIndex !== createdIndex) throw new MemberError(100, `${key} is a newer key now`, false);
  return node.modifiedIndex;
}
