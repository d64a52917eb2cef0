// The public surface of the Raft core: import from here, not from the files behind it.
export { RawNode } from './raw-node.js';
export type { LogView, Ready, Status } from './raw-node.js';
export type { RaftConfig, RaftOptions } from './config.js';
export { DEFAULT_CONFIG, resolveConfig } from './config.js';
export type { ConfChange, ConfChangeType } from './confchange.js';
export { applyConfChange, decodeConfChange, encodeConfChange, validateConfChange } from './confchange.js';
export { RaftError } from './errors.js';
export type { MaybeRaftError, RaftErrorCode } from './errors.js';
export type * from './messages.js';
export { assertNever } from './messages.js';
export type { ProgressState } from './progress.js';
export { seededRandom } from './random.js';
export type * from './types.js';
export { EMPTY_HARD_STATE, NO_NODE, isHardStateEqual } from './types.js';
