// The watcher hub: live watchers of a member, indexed by key, told of each store event as it
// is applied (etcd's watcherHub). A watcher on `/a/b` hears about `/a/b` itself, about keys
// below it when recursive, and about the deletion or expiry of any directory above it.
// Delivery is synchronous with apply, so a watcher registered between two applies misses
// nothing: what it did not see in the history it sees live.
import { cleanKey, matchesLive } from '../core/store/index.js';
import type { StoreEvent } from '../core/store/index.js';

export interface Watcher {
  readonly key: string;
  readonly recursive: boolean;
  /** Called for each matching event in index order; may remove the watcher. */
  deliver(event: StoreEvent): void;
  /** The store was replaced by a snapshot: events may have been missed; end or re-check. */
  reset(): void;
}

export class WatchHub {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Registers a watcher (its key is cleaned as the store cleans keys); returns its remover. */
  add(watcher: Watcher): () => void {
    const key = cleanKey(watcher.key);
    let set = this.byKey.get(key);
    if (set === undefined) this.byKey.set(key, (set = new Set()));
    set.add(watcher);
    this.count += 1;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(watcher);
      this.count -= 1;
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  notify(events: readonly StoreEvent[]): void {
    if (this.count === 0) return;
    for (const event of events) {
      for (const key of this.candidateKeys(event)) {
        // A copy: delivering may remove watchers (one-shot waits, ended streams).
        for (const watcher of [...(this.byKey.get(key) ?? [])]) {
          if (matchesLive(event, key, watcher.recursive)) watcher.deliver(event);
        }
      }
    }
  }

  /** Every watcher, once (to end them all, e.g. when a snapshot replaced the store). */
  all(): Watcher[] {
    return [...this.byKey.values()].flatMap((set) => [...set]);
  }

  /**
   * Keys whose watchers may care: the event's key and its ancestors, and, when a directory
   * was deleted or expired, every watched key below it.
   */
  private candidateKeys(event: StoreEvent): string[] {
    const keys = ancestorsAndSelf(event.node.key).filter((k) => this.byKey.has(k));
    const removal = event.action === 'delete' || event.action === 'expire' || event.action === 'compareAndDelete';
    if (removal && event.prevNode?.dir === true) {
      const prefix = `${event.prevNode.key}/`;
      for (const key of this.byKey.keys()) if (key.startsWith(prefix)) keys.push(key);
    }
    return keys;
  }
}

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`. */
function ancestorsAndSelf(key: string): string[] {
  const out = ['/'];
  let at = 0;
  while ((at = key.indexOf('/', at + 1)) > 0) out.push(key.slice(0, at));
  if (key !== '/') out.push(key);
  return out;
}
