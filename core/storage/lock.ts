// The lock file that keeps two processes from using one data dir. It holds the owner's pid
// and is created with O_EXCL ('wx'), so exactly one process wins the creation.
//
// A lock whose pid is no longer alive (the owner crashed) is stale and is taken over: it is
// renamed away (atomic, so two processes cannot both remove it), re-read to make sure it
// was still the stale lock and not one a faster process had just created, then deleted, and
// the O_EXCL creation is retried. Limits: the pid check only works on the local host (do
// not share a data dir over a network filesystem), a recycled pid makes a stale lock look
// alive (then remove the file by hand, as the error says), and an empty lock file (a process
// that died between creating it and writing its pid) is also left to the operator.
import { link, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, ioError } from './errors.js';
import { errnoCode, removeFile } from './fs-util.js';

export const LOCK_FILE = 'cairn.lock';
const ATTEMPTS = 3;

export interface Lock {
  readonly path: string;
  /** The pid of a dead process whose stale lock was taken over, if any. */
  readonly takenOverFrom: number | undefined;
}

/** Takes the lock of `dir`; throws STORAGE_LOCKED if another live process holds it. */
export async function acquireLock(dir: string): Promise<Lock> {
  const path = join(dir, LOCK_FILE);
  let takenOverFrom: number | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await tryCreate(path)) return { path, takenOverFrom };
    const holder = await readPid(path);
    if (holder === 'gone') continue;
    if (holder === 'unreadable') {
      throw locked(path, 'holds no pid (a cairn process may be starting right now)');
    }
    if (isAlive(holder)) throw locked(path, `is held by the live process ${holder}`);
    if (await removeStale(path, holder)) takenOverFrom = holder;
  }
  throw locked(path, `changed hands ${ATTEMPTS} times while this process tried to take it`);
}

/** Deletes the lock if it is still ours. */
export async function releaseLock(lock: Lock): Promise<void> {
  if ((await readPid(lock.path)) === process.pid) await removeFile(lock.path);
}

async function tryCreate(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw ioError(`cannot create the lock file ${path}`, err);
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } catch (err) {
    throw ioError(`cannot write the lock file ${path}`, err);
  } finally {
    await handle.close();
  }
  return true;
}

async function readPid(path: string): Promise<number | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'gone';
    throw ioError(`cannot read the lock file ${path}`, err);
  }
  const m = /^(\d{1,10})\n?$/.exec(text);
  const pid = m === null ? NaN : Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 'unreadable';
}

/** Whether `pid` names a running process (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

/** Removes the lock of dead process `pid`; false if someone else's lock took its place. */
async function removeStale(path: string, pid: number): Promise<boolean> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw ioError(`cannot move the stale lock file ${path} aside`, err);
  }
  if ((await readPid(aside)) !== pid) {
    // A faster process replaced the stale lock with its own between our read and rename:
    // put it back (link fails rather than overwrite if yet another one appeared).
    await link(aside, path).catch(() => undefined);
    await removeFile(aside);
    return false;
  }
  await removeFile(aside);
  return true;
}

function locked(path: string, why: string): StorageError {
  return new StorageError(
    'STORAGE_LOCKED',
    `the data dir lock ${path} ${why}. Only one cairn process may use a data dir. If no ` +
      'cairn process is using it, delete the lock file and start again.',
    { file: path },
  );
}
