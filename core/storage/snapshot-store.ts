// The member's snapshots on disk: one file per snapshot (format in snapshot-file.ts), named
// <index>-<term>.snap with 16 hex digits each so names sort by index.
//
// save(): written to <name>.tmp, fsynced, renamed, directory fsynced, then older snapshots
// beyond the newest `keep` are deleted. A crash leaves the previous snapshots intact plus at
// most a .tmp file, which loadNewest() removes with a warning.
//
// loadNewest(): the newest snapshot that verifies. A newest snapshot that fails its checksum
// is renamed to <name>.snap.corrupt (kept for inspection, out of the way of pruning) and an older
// valid one is returned, with a warning; if no snapshot verifies, STORAGE_CORRUPT. Falling
// back is only sound if the WAL still holds the entries after the older snapshot: the caller
// checks that (toPersistedState does), which is why the WAL should be released only up to
// the oldest snapshot kept.
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../raft/types.js';
import { StorageError, corruptAt, ioError } from './errors.js';
import { removeFile, syncDir } from './fs-util.js';
import { SnapshotFileError, decodeSnapshotFile, snapshotChecksum, snapshotFileParts, snapshotFileTrailer } from './snapshot-file.js';

/**
 * How much data is checksummed, written and flushed at a time. The checksum of a whole large
 * snapshot at once held the event loop for tens of milliseconds; piece by piece, other work
 * runs while each piece is being written.
 */
const WRITE_PIECE_BYTES = 1024 * 1024;

/**
 * Writes the file's header, data and checksum, computing the checksum piece by piece, and
 * flushes each piece to disk before writing the next. Why: the WAL's fdatasync shares the
 * file system journal with this file, and a WAL sync that came while tens of megabytes of
 * snapshot were waiting to be flushed waited for them (WAL saves of 20-60 ms right after
 * each snapshot, 3 members, 64 puts in flight). Flushed a piece at a time, a WAL sync waits
 * for at most one piece; the snapshot takes longer to write, in the background. Side by side,
 * 4 runs of 20 s each: put p99 48.8-60.1 against 44.9-47.5 ms.
 */
export async function writeSnapshotFile(handle: Pick<FileHandle, 'write' | 'datasync'>, snapshot: Snapshot): Promise<void> {
  const { header, data } = snapshotFileParts(snapshot);
  let crc = snapshotChecksum(header);
  await handle.write(header);
  for (let at = 0; at < data.length; at += WRITE_PIECE_BYTES) {
    const piece = data.subarray(at, Math.min(data.length, at + WRITE_PIECE_BYTES));
    crc = snapshotChecksum(piece, crc);
    await handle.write(piece);
    await handle.datasync();
  }
  await handle.write(snapshotFileTrailer(crc));
}

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export interface SnapshotStoreOptions {
  /** How many snapshots to keep (the newest ones). Default 2, at least 1. */
  readonly keep?: number;
}

interface SnapName {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

export class SnapshotStore {
  private readonly keep: number;

  constructor(
    readonly dir: string,
    options: SnapshotStoreOptions = {},
  ) {
    this.keep = options.keep ?? 2;
    if (!Number.isSafeInteger(this.keep) || this.keep < 1) {
      throw new RangeError(`SnapshotStore: keep must be an integer >= 1, got ${options.keep}`);
    }
  }

  /** Saves `snapshot` durably, then prunes the oldest beyond `keep`. */
  async save(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    const name = snapFileName(index, term);
    const path = join(this.dir, name);
    const tmp = `${path}.tmp`;
    let handle: FileHandle | undefined;
    try {
      await mkdir(this.dir, { recursive: true });
      handle = await open(tmp, 'w', 0o600);
      await writeSnapshotFile(handle, snapshot);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(tmp, path);
    } catch (err) {
      await handle?.close();
      throw ioError(`cannot write snapshot ${path}`, err);
    }
    await syncDir(this.dir);
    await this.prune();
  }

  /** The newest snapshot that verifies (undefined if there is none), and what was cleaned up. */
  async loadNewest(): Promise<{ snapshot: Snapshot | undefined; warnings: string[] }> {
    const warnings: string[] = [];
    const names = await this.list(warnings);
    const damaged: { path: string; err: StorageError }[] = [];
    for (const n of names) {
      const path = join(this.dir, n.name);
      let snapshot: Snapshot;
      try {
        snapshot = await readSnapshot(path, n);
      } catch (err) {
        if (!(err instanceof StorageError) || err.code !== 'STORAGE_CORRUPT') throw err;
        damaged.push({ path, err });
        continue;
      }
      for (const d of damaged) {
        await moveAside(d.path);
        warnings.push(
          `snapshot ${d.path} is damaged (at byte offset ${d.err.offset}); moved it to ${d.path}.corrupt ` +
            `and fell back to the older snapshot ${path}`,
        );
      }
      if (damaged.length > 0) await syncDir(this.dir);
      return { snapshot, warnings };
    }
    // Nothing to fall back to: refuse, naming the newest damaged file.
    if (damaged.length > 0) throw damaged[0]!.err;
    return { snapshot: undefined, warnings };
  }

  /** The snapshot files, newest first; removes leftover .tmp files with a warning. */
  private async list(warnings?: string[]): Promise<SnapName[]> {
    let files: string[];
    try {
      await mkdir(this.dir, { recursive: true });
      files = await readdir(this.dir);
    } catch (err) {
      throw ioError(`cannot read the snapshot directory ${this.dir}`, err);
    }
    const names: SnapName[] = [];
    for (const file of files) {
      const m = NAME.exec(file);
      if (m !== null) {
        names.push({ name: file, index: parseInt(m[1]!, 16), term: parseInt(m[2]!, 16) });
      } else if (file.endsWith('.tmp') && warnings !== undefined) {
        await removeFile(join(this.dir, file));
        warnings.push(`snapshot ${join(this.dir, file)}: removed, a save that a crash interrupted`);
      }
    }
    return names.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  private async prune(): Promise<void> {
    const names = await this.list();
    const old = names.slice(this.keep);
    for (const n of old) await removeFile(join(this.dir, n.name));
    if (old.length > 0) await syncDir(this.dir);
  }
}

export function snapFileName(index: number, term: number): string {
  return `${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.snap`;
}

async function readSnapshot(path: string, n: SnapName): Promise<Snapshot> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw ioError(`cannot read snapshot ${path}`, err);
  }
  let snapshot: Snapshot;
  try {
    snapshot = decodeSnapshotFile(buf);
  } catch (err) {
    if (err instanceof SnapshotFileError) throw corruptAt(path, err.offset, err.message);
    throw err;
  }
  const { index, term } = snapshot.metadata;
  if (index !== n.index || term !== n.term) {
    throw corruptAt(path, 0, `metadata says index ${index} term ${term}, the file name ${n.index} and ${n.term}`);
  }
  return snapshot;
}

async function moveAside(path: string): Promise<void> {
  try {
    await rename(path, `${path}.corrupt`);
  } catch (err) {
    throw ioError(`cannot move the damaged snapshot ${path} aside`, err);
  }
}
