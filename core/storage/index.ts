// The public surface of the storage layer: import from here, not from the files behind it.
export { StorageError, CORRUPT_ADVICE } from './errors.js';
export type { StorageErrorCode, StorageErrorDetails } from './errors.js';
export { crc32c } from './crc32c.js';
export { DataDir } from './data-dir.js';
export type { DataDirIdentity } from './data-dir.js';
export { LOCK_FILE } from './lock.js';
export { DEFAULT_SEGMENT_BYTES, Wal } from './wal.js';
export type { RecoveredLog, WalOptions } from './wal.js';
export { MAX_RECORD_BYTES } from './record.js';
export { SnapshotStore } from './snapshot-store.js';
export type { SnapshotStoreOptions } from './snapshot-store.js';
export { toPersistedState } from './persisted-state.js';
