// The semaphore's wait queue: one in-order key per waiting acquire under
// /cairn/semaphore/<name>/waiters/, with a TTL that the serving member keeps alive
// (../keepalive.ts). Arrival order is key order, so the first live key is served first.
// A waiter's value names its holder and carries a request id, so a create whose reply was
// lost (302) can be found again instead of leaving an orphan ahead of everyone (ZooKeeper's
// "guid in the sequential node" advice).
import { nanoid } from 'nanoid';
import { MemberError } from '../../server/errors.js';
import { kvCreate } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import { localNode, waitersKey } from './store.js';

/**
 * A waiter key's TTL (s). While its member lives it is refreshed every third of this; when that
 * member dies, the waiters behind it are blocked for about this long.
 */
export const WAITER_TTL_SECONDS = 5;

export interface Waiter {
  readonly key: string;
  readonly holder: string;
  readonly createdIndex: number;
  readonly request: string;
}

/** The live waiters in arrival order, as this member has applied them. */
export function readWaiters(member: MemberApi, name: string): Waiter[] {
  const dir = localNode(member, waitersKey(name), true);
  const out: Waiter[] = [];
  for (const node of dir?.nodes ?? []) {
    if (node.dir === true) continue;
    const parsed = parseWaiter(node.value);
    out.push({ key: node.key, createdIndex: node.createdIndex, holder: parsed.holder, request: parsed.request });
  }
  return out;
}

function parseWaiter(text: string | undefined): { holder: string; request: string } {
  try {
    const v = JSON.parse(text ?? '') as { holder?: unknown; request?: unknown };
    return { holder: typeof v.holder === 'string' ? v.holder : '', request: typeof v.request === 'string' ? v.request : '' };
  } catch {
    // A key an operator put there by hand still counts as a place in the queue.
    return { holder: '', request: '' };
  }
}

/** Puts `holder` at the end of the queue; returns its waiter key. */
export async function enqueue(member: MemberApi, name: string, holder: string): Promise<Waiter> {
  const request = nanoid();
  try {
    const created = await kvCreate(member, { key: waitersKey(name), value: JSON.stringify({ holder, request }), ttl: WAITER_TTL_SECONDS });
    return { key: created.node.key, holder, createdIndex: created.node.createdIndex, request };
  } catch (error) {
    if (!(error instanceof MemberError) || error.code !== 302) throw error;
    // The outcome is unknown: if the key landed, adopt it rather than leave it to block others.
    await member.readBarrier();
    const landed = readWaiters(member, name).find((w) => w.request === request);
    if (landed === undefined) throw error;
    return landed;
  }
}
