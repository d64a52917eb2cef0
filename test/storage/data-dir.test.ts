// The data dir: its identity is created once and then read back, a dir of another cluster is
// refused, and the lock file keeps a second process (or a second open in this one) out —
// until its owner dies, when the stale lock is taken over. The cross-process cases use a
// real child process holding the dir, killed with SIGKILL to leave a stale lock behind.
import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDir, LOCK_FILE, StorageError } from '../../core/storage/index.js';
import { tempDir } from './helpers.js';

const ME = { memberId: 'm1', clusterId: 'c1', name: 'alpha' };
const storageIndex = fileURLToPath(new URL('../../core/storage/index.js', import.meta.url));

t.test('created once, then reopened with the stored identity', async (t) => {
  const dir = join(await tempDir(t), 'deep', 'member');
  const first = await DataDir.open(dir, ME);
  t.equal(first.created, true);
  t.same(first.dataDir.identity, ME);
  t.equal(first.dataDir.walDir, join(dir, 'wal'));
  t.equal(first.dataDir.snapDir, join(dir, 'snap'));
  t.same((await readdir(dir)).sort(), ['cairn.lock', 'identity.json', 'snap', 'wal']);
  t.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid), 'the lock holds our pid');
  await first.dataDir.close();
  t.notOk((await readdir(dir)).includes(LOCK_FILE), 'close releases the lock');
  const second = await DataDir.open(dir, { memberId: 'other', clusterId: 'c1', name: 'beta' }, 'c1');
  t.equal(second.created, false);
  t.same(second.dataDir.identity, ME, 'the stored identity wins over the one offered');
  await second.dataDir.close();
  await second.dataDir.close(); // idempotent
});

t.test('a data dir of another cluster is refused, and the lock is released', async (t) => {
  const dir = await tempDir(t);
  await (await DataDir.open(dir, ME)).dataDir.close();
  await t.rejects(DataDir.open(dir, { ...ME, clusterId: 'c2' }, 'c2'), {
    code: 'STORAGE_WRONG_CLUSTER',
    message: /belongs to cluster c1 \(member m1\), not to cluster c2/,
  });
  t.notOk((await readdir(dir)).includes(LOCK_FILE), 'no lock left behind');
  const again = await DataDir.open(dir, ME, 'c1');
  await again.dataDir.close();
  const fresh = await tempDir(t);
  await t.rejects(DataDir.open(fresh, ME, 'c9'), { code: 'STORAGE_WRONG_CLUSTER' }, 'checked before creating, too');
  t.same(await readdir(fresh), [], 'nothing created');
});

t.test('a second open while the dir is locked is refused with STORAGE_LOCKED', async (t) => {
  const dir = await tempDir(t);
  const first = await DataDir.open(dir, ME);
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_LOCKED', message: new RegExp(`held by the live process ${process.pid}`) });
  await first.dataDir.close();
  const second = await DataDir.open(dir, ME);
  t.same(second.warnings, []);
  await second.dataDir.close();
});

/** A child process that opens `dir` and holds it until its stdin closes. */
async function holder(dir: string): Promise<ChildProcess> {
  const code = `
    const { DataDir } = await import(${JSON.stringify(storageIndex)});
    const { dataDir } = await DataDir.open(${JSON.stringify(dir)}, ${JSON.stringify(ME)});
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await dataDir.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
    child.on('exit', (status) => reject(new Error(`holder exited early (${status})`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.on('exit', () => resolve()));
}

t.test('another live process holding the dir: STORAGE_LOCKED; after it exits, the dir opens', async (t) => {
  const dir = await tempDir(t);
  const child = await holder(dir);
  t.teardown(() => child.kill('SIGKILL'));
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_LOCKED', message: new RegExp(`live process ${child.pid}`) });
  child.stdin!.end();
  await exited(child);
  const opened = await DataDir.open(dir, ME);
  t.same(opened.warnings, [], 'a cleanly released lock is not stale');
  await opened.dataDir.close();
});

t.test('the stale lock of a process killed with SIGKILL is taken over, with a warning', async (t) => {
  const dir = await tempDir(t);
  const child = await holder(dir);
  child.kill('SIGKILL');
  await exited(child);
  t.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(child.pid), 'the dead process left its lock');
  const opened = await DataDir.open(dir, ME);
  t.match(opened.warnings, [new RegExp(`took over the stale lock of process ${child.pid}`)]);
  t.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid), 'now ours');
  t.notOk((await readdir(dir)).some((f) => f.includes('.stale-')), 'nothing left aside');
  await opened.dataDir.close();
});

t.test('a lock file without a pid is left to the operator', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, LOCK_FILE), '');
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_LOCKED', message: /holds no pid.*delete the lock file/ });
  await writeFile(join(dir, LOCK_FILE), 'garbage\n');
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_LOCKED' });
});

t.test('a damaged identity, or a log without one, is STORAGE_CORRUPT', async (t) => {
  const dir = await tempDir(t);
  await (await DataDir.open(dir, ME)).dataDir.close();
  const identity = join(dir, 'identity.json');
  await writeFile(identity, '{"version":1,"memberId":"m1"');
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_CORRUPT', message: /not valid JSON/ });
  await writeFile(identity, JSON.stringify({ version: 1, memberId: 'm1', clusterId: '', name: 'a' }));
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_CORRUPT', message: /clusterId must be a non-empty string/ });
  await rm(identity);
  await writeFile(join(dir, 'wal', '0000000000000000-0000000000000001.wal'), 'x');
  await t.rejects(DataDir.open(dir, ME), { code: 'STORAGE_CORRUPT', message: /no identity\.json but its wal\/ holds data/ });
  t.notOk((await readdir(dir)).includes(LOCK_FILE), 'the lock is released on every refusal');
  const err = await DataDir.open(dir, ME).catch((e: unknown) => e);
  t.ok(err instanceof StorageError && err instanceof Error && err.name === 'StorageError', 'a StorageError is an Error');
});

t.test('an identity to create must be well formed', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(DataDir.open(dir, { memberId: '', clusterId: 'c', name: 'n' }), /memberId must be a non-empty string/);
});
