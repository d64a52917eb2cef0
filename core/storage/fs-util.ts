// The few durable-file primitives the storage layer is built from. A rename or unlink is
// durable only once the directory holding it is synced, and a new file's data only once the
// file itself is: every helper here does both, so callers cannot forget one.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ioError } from './errors.js';

/** fsyncs a directory so the creations, renames and deletions in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    throw ioError(`cannot sync directory ${dir}`, err);
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `data` to `path` atomically: to `path.tmp` first, fsynced, then renamed over
 * `path`, then the directory fsynced. After a crash `path` holds the old or the new content,
 * never a mix; a leftover `.tmp` is an interrupted write its owner cleans up.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  let handle;
  try {
    handle = await open(tmp, 'w', 0o600);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    throw ioError(`cannot write ${tmp}`, err);
  } finally {
    await handle?.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    throw ioError(`cannot rename ${tmp} to ${path}`, err);
  }
  await syncDir(dirname(path));
}

/** Deletes a file; one already gone is fine (deletions are retried after a crash). */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot delete ${path}`, err);
  }
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
