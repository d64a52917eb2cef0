// Operation counters of the v2 store, in the shape of etcd's /v2/stats/store. They live beside
// the store's state and never in it: they are not in snapshots and never change an answer,
// so the store stays a deterministic state machine. Writes are counted as they are applied,
// so every member counts them; gets are counted by whichever member serves them.
import type { SetOptions } from './store.js';

/** What a PUT does, chosen from its conditions (the branch order of Store.set, which uses it). */
export type SetKind = 'set' | 'create' | 'update' | 'compareAndSwap';

export function setKind(opts: SetOptions): SetKind {
  if (opts.prevExist === false) return 'create';
  // prevIndex=0 means "no index condition", as in etcd.
  if (opts.prevValue !== undefined || (opts.prevIndex ?? 0) > 0) return 'compareAndSwap';
  if (opts.prevExist === true) return 'update';
  return 'set';
}

/** The operations etcd counts, each with a success and a failure counter. */
export type CountedOp = 'get' | SetKind | 'delete' | 'compareAndDelete';

/** etcd's JSON field order, which tools that print the stats keep. */
export interface StoreStatsJson {
  getsSuccess: number; getsFail: number;
  setsSuccess: number; setsFail: number;
  deleteSuccess: number; deleteFail: number;
  updateSuccess: number; updateFail: number;
  createSuccess: number; createFail: number;
  compareAndSwapSuccess: number; compareAndSwapFail: number;
  compareAndDeleteSuccess: number; compareAndDeleteFail: number;
  expireCount: number;
}

/** etcd's field-name prefix for each counted operation ("gets", "sets": etcd's plurals). */
const PREFIX: Readonly<Record<CountedOp, string>> = {
  get: 'gets', set: 'sets', delete: 'delete', update: 'update', create: 'create',
  compareAndSwap: 'compareAndSwap', compareAndDelete: 'compareAndDelete',
};

export class StoreStats {
  private readonly counts = new Map<string, number>();

  /** Counts one operation's outcome. */
  record(op: CountedOp, succeeded: boolean): void {
    const name = `${PREFIX[op]}${succeeded ? 'Success' : 'Fail'}`;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  /** Counts keys removed by expiry (one per expired node, as etcd). */
  recordExpired(n: number): void {
    this.counts.set('expireCount', (this.counts.get('expireCount') ?? 0) + n);
  }

  /** A copy of the counters, every field present (0 when never counted). */
  toJSON(): StoreStatsJson {
    const c = (name: string): number => this.counts.get(name) ?? 0;
    const pair = (op: CountedOp): [number, number] => [c(`${PREFIX[op]}Success`), c(`${PREFIX[op]}Fail`)];
    const [getsSuccess, getsFail] = pair('get');
    const [setsSuccess, setsFail] = pair('set');
    const [deleteSuccess, deleteFail] = pair('delete');
    const [updateSuccess, updateFail] = pair('update');
    const [createSuccess, createFail] = pair('create');
    const [compareAndSwapSuccess, compareAndSwapFail] = pair('compareAndSwap');
    const [compareAndDeleteSuccess, compareAndDeleteFail] = pair('compareAndDelete');
    return {
      getsSuccess, getsFail, setsSuccess, setsFail, deleteSuccess, deleteFail, updateSuccess, updateFail,
      createSuccess, createFail, compareAndSwapSuccess, compareAndSwapFail,
      compareAndDeleteSuccess, compareAndDeleteFail, expireCount: c('expireCount'),
    };
  }
}
