// Joins what the WAL and the snapshot store recovered into the PersistedState that
// RawNode.restart takes, checking that the two agree. They are written separately (the
// snapshot first, then the WAL's marker), so after a crash the snapshot may be newer than
// the marker; the other way round, entries the WAL already dropped would be missing.
import type { PersistedState, Snapshot } from '../raft/types.js';
import { CORRUPT_ADVICE, StorageError } from './errors.js';
import type { RecoveredLog } from './replay.js';

export function toPersistedState(recovered: RecoveredLog, snapshot: Snapshot | undefined): PersistedState {
  const snapIndex = snapshot?.metadata.index ?? 0;
  if (recovered.snapshotIndex > snapIndex) {
    throw new StorageError(
      'STORAGE_CORRUPT',
      `the WAL covers entries up to ${recovered.snapshotIndex} with a snapshot, but the newest ` +
        `usable snapshot is at ${snapIndex}: the entries between are lost. To recover, ${CORRUPT_ADVICE}.`,
    );
  }
  let entries = recovered.entries.filter((e) => e.index > snapIndex);
  const atSnapshot = recovered.entries.find((e) => e.index === snapIndex);
  // A snapshot from the leader replaces a log that disagrees with it at its index: the
  // entries after that point belong to another history (the marker would have dropped them).
  if (snapshot !== undefined && atSnapshot !== undefined && atSnapshot.term !== snapshot.metadata.term) entries = [];
  const state: PersistedState = { hardState: recovered.hardState, entries };
  return snapshot === undefined ? state : { ...state, snapshot };
}
