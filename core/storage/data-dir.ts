// A member's data dir: who the member is (identity.json: member id, cluster id, name,
// written once when the dir is created), its lock file, and the wal/ and snap/ directories.
//
//   <dir>/identity.json   {"version":1,"memberId":..,"clusterId":..,"name":..}
//   <dir>/cairn.lock      pid of the process using the dir (see lock.ts)
//   <dir>/wal/            Wal segments
//   <dir>/snap/           SnapshotStore files
//
// The identity is what stops a member from joining a cluster with another cluster's log:
// pass `expectClusterId` and an existing dir of another cluster is refused.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CORRUPT_ADVICE, StorageError, corruptAt, ioError } from './errors.js';
import { errnoCode, syncDir, writeFileAtomic } from './fs-util.js';
import { acquireLock, releaseLock } from './lock.js';
import type { Lock } from './lock.js';

export interface DataDirIdentity {
  readonly memberId: string;
  readonly clusterId: string;
  readonly name: string;
}

const IDENTITY_FILE = 'identity.json';
const IDENTITY_VERSION = 1;

export class DataDir {
  readonly walDir: string;
  readonly snapDir: string;
  private released = false;

  private constructor(
    readonly dir: string,
    readonly identity: DataDirIdentity,
    private readonly lock: Lock,
  ) {
    this.walDir = join(dir, 'wal');
    this.snapDir = join(dir, 'snap');
  }

  /**
   * Takes the dir's lock, then creates it with identity `create` (created: true) or loads
   * the identity stored there (created: false; `create` is then ignored). With
   * `expectClusterId`, a dir of another cluster is refused with STORAGE_WRONG_CLUSTER.
   * `warnings` reports a stale lock taken over, for the caller to log.
   */
  static async open(
    dir: string,
    create: DataDirIdentity,
    expectClusterId?: string,
  ): Promise<{ dataDir: DataDir; created: boolean; warnings: string[] }> {
    checkIdentity(create, 'DataDir.open: the identity to create');
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError(`cannot create the data dir ${dir}`, err);
    }
    const lock = await acquireLock(dir);
    const warnings: string[] = [];
    if (lock.takenOverFrom !== undefined) {
      warnings.push(`data dir ${dir}: took over the stale lock of process ${lock.takenOverFrom}, which is no longer running`);
    }
    try {
      const { identity, created } = await loadOrCreate(dir, create, expectClusterId);
      await mkdir(join(dir, 'wal'), { recursive: true, mode: 0o700 });
      await mkdir(join(dir, 'snap'), { recursive: true, mode: 0o700 });
      if (created) await syncDir(dir);
      return { dataDir: new DataDir(dir, identity, lock), created, warnings };
    } catch (err) {
      await releaseLock(lock);
      throw err instanceof StorageError ? err : ioError(`cannot open the data dir ${dir}`, err);
    }
  }

  /** Releases the lock. The Wal and SnapshotStore must be closed first. */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await releaseLock(this.lock);
  }
}

async function loadOrCreate(
  dir: string,
  create: DataDirIdentity,
  expectClusterId: string | undefined,
): Promise<{ identity: DataDirIdentity; created: boolean }> {
  const stored = await readIdentity(dir);
  const identity = stored ?? create;
  if (expectClusterId !== undefined && identity.clusterId !== expectClusterId) {
    throw new StorageError(
      'STORAGE_WRONG_CLUSTER',
      `the data dir ${dir} belongs to cluster ${identity.clusterId} (member ${identity.memberId}), ` +
        `not to cluster ${expectClusterId}. Use another data dir for this cluster, or move this one ` +
        'aside if the member is meant to start afresh.',
      { file: join(dir, IDENTITY_FILE) },
    );
  }
  if (stored !== undefined) return { identity: stored, created: false };
  await refuseOrphanedLog(dir);
  const body = { version: IDENTITY_VERSION, memberId: create.memberId, clusterId: create.clusterId, name: create.name };
  await writeFileAtomic(join(dir, IDENTITY_FILE), Buffer.from(`${JSON.stringify(body)}\n`, 'utf8'));
  return { identity: { memberId: create.memberId, clusterId: create.clusterId, name: create.name }, created: true };
}

/** The stored identity, or undefined if the dir has none yet. */
async function readIdentity(dir: string): Promise<DataDirIdentity | undefined> {
  const path = join(dir, IDENTITY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw ioError(`cannot read ${path}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corruptAt(path, 0, 'identity file is not valid JSON');
  }
  const p = parsed as Record<string, unknown> | null;
  if (p === null || typeof p !== 'object' || p['version'] !== IDENTITY_VERSION) {
    throw corruptAt(path, 0, `identity file is not version ${IDENTITY_VERSION}`);
  }
  const identity = { memberId: p['memberId'], clusterId: p['clusterId'], name: p['name'] };
  try {
    checkIdentity(identity, 'identity file');
  } catch (err) {
    throw corruptAt(path, 0, (err as Error).message);
  }
  return identity as DataDirIdentity;
}

/** A dir with a log but no identity lost its identity file: guessing one would be unsafe. */
async function refuseOrphanedLog(dir: string): Promise<void> {
  for (const sub of ['wal', 'snap']) {
    let files: string[];
    try {
      files = await readdir(join(dir, sub));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw ioError(`cannot read ${join(dir, sub)}`, err);
    }
    if (files.length > 0) {
      throw new StorageError(
        'STORAGE_CORRUPT',
        `the data dir ${dir} has no ${IDENTITY_FILE} but its ${sub}/ holds data: the identity was lost, ` +
          `and guessing it could join this log to the wrong cluster. To recover, ${CORRUPT_ADVICE}.`,
        { file: join(dir, IDENTITY_FILE) },
      );
    }
  }
}

function checkIdentity(id: Record<keyof DataDirIdentity, unknown>, what: string): void {
  for (const key of ['memberId', 'clusterId'] as const) {
    if (typeof id[key] !== 'string' || id[key] === '') throw new TypeError(`${what}: ${key} must be a non-empty string`);
  }
  if (typeof id.name !== 'string') throw new TypeError(`${what}: name must be a string`);
}
