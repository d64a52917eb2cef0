// service.watch: a stream of the service's full instance list, sent first as it stands and
// then after every change (a registration, status change, deregistration or expiry; TTL
// refreshes emit no event and so send nothing). The list is kept from the member's live watch
// events; the watcher is registered in the same synchronous step as the first read, and the
// hub delivers events synchronously with apply, so no change can fall between the two.
import { ErrorCode, StoreError } from '../../core/store/index.js';
import { MemberError } from '../../server/errors.js';
import { toKvEvent } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { RecipeContext } from '../method.js';
import { instancesOfDir, InstanceSet, serviceKey } from './instance.js';
import type { Instance } from './instance.js';

export interface ServiceWatchNotification {
  instances: Instance[];
  /** The store index of the change this list reflects (the current index for the first one). */
  index: number;
}

/** The service's instances in this member's store, read synchronously. */
function localInstances(member: MemberApi, dirKey: string): Instance[] {
  try {
    const { node } = member.store.get(dirKey, { sorted: true }, Date.now());
    return node.dir === true ? instancesOfDir(node) : [];
  } catch (error) {
    if (error instanceof StoreError && error.code === ErrorCode.KeyNotFound) return [];
    throw error;
  }
}

export async function watch(ctx: RecipeContext, raw: Record<string, unknown>): Promise<{ subscription: string; index: number }> {
  const { service } = raw as { service: string };
  const member = ctx.member;
  // The first list is at least as new as every write acknowledged before this call.
  await member.readBarrier();
  // A connection that closed during the barrier has already closed its streams: open none.
  if (ctx.closed.aborted) throw new MemberError(-32000, `service.watch of ${service}: the connection closed`, false);
  const dirKey = serviceKey(service);
  const sub = ctx.subscriptions.open();
  let set = new InstanceSet(dirKey, localInstances(member, dirKey));
  const publish = (index: number): void => {
    const notification: ServiceWatchNotification = { instances: set.list(), index };
    if (sub.push(notification) !== 'slow') return;
    // Each notification is a whole list, so a consumer that fell behind only has to watch again.
    sub.end({ code: 401, message: `service.watch of ${service}: the client reads too slowly and fell behind; watch again (the first notification is the whole current list)`, data: { index: member.store.index } });
  };
  const startIndex = member.store.index;
  publish(startIndex);
  const remove = member.watchHub.add({
    key: dirKey,
    recursive: true,
    deliver: (event) => {
      if (set.apply(toKvEvent(event))) publish(event.index);
    },
    // A snapshot replaced the store: events between may be gone, but the list is whole, so
    // reading it again and sending it keeps the stream exact about the state it reports.
    reset: () => {
      set = new InstanceSet(dirKey, localInstances(member, dirKey));
      publish(member.store.index);
    },
  });
  sub.onClose = remove;
  return { subscription: sub.id, index: startIndex };
}
