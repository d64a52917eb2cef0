// Public surface of the store module: the state machine, its result and error types, and the
// watch-matching helpers a watcher hub needs. Import from here rather than from the parts.
export { Store } from './store.js';
export type { CreateOptions, DeleteOptions, GetOptions, KvResult, SetOptions, StoreOptions } from './store.js';
export { ErrorCode, StoreError } from './errors.js';
export type { StoreErrorCode, StoreErrorData } from './errors.js';
export { DEFAULT_HISTORY, matches, matchesLive } from './history.js';
export type { Action, StoreEvent } from './history.js';
export type { NodeView } from './node.js';
export { cleanKey, isHidden } from './path.js';
export type { TxnCompare, TxnOp, TxnRequest, TxnResult } from './txn.js';
export { StoreStats, setKind } from './stats.js';
export type { CountedOp, SetKind, StoreStatsJson } from './stats.js';
