// Sleeping until one key changes, for a waiter that looked and must wait: resolves on the
// next event for the key (or a snapshot install, which may have hidden one), at the deadline,
// or when any of the given signals fires. The watcher is registered synchronously, so a
// caller that read the store in the same tick misses nothing; it is removed on every path.
import type { MemberApi } from '../../server/member-api.js';

export function nextChange(member: MemberApi, key: string, deadlineMs: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      remove();
      if (timer !== undefined) clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', finish);
      resolve();
    };
    const remove = member.watchHub.add({ key, recursive: false, deliver: finish, reset: finish });
    for (const s of signals) {
      if (s.aborted) {
        finish();
        return;
      }
      s.addEventListener('abort', finish, { once: true });
    }
    if (Number.isFinite(deadlineMs)) timer = setTimeout(finish, Math.max(0, deadlineMs - Date.now()));
  });
}
