// The snapshot store: what save() writes loadNewest() reads back (metadata with the applied
// index, configuration and data, under one checksum); only the newest `keep` survive; a
// crash before the rename leaves the previous snapshot in force; damage is detected, with a
// fall back to an older snapshot when there is one and STORAGE_CORRUPT when there is not.
import t from 'tap';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../../core/raft/types.js';
import { SnapshotStore, StorageError } from '../../core/storage/index.js';
import { writeSnapshotFile } from '../../core/storage/snapshot-store.js';
import { crc32c } from '../../core/storage/crc32c.js';
import { tempDir } from './helpers.js';

function snap(index: number, term: number, bytes = 64): Snapshot {
  const data = Uint8Array.from({ length: bytes }, (_, i) => (index + i * 7) % 256);
  return { metadata: { index, term, confState: { voters: ['a', 'b', 'ç'], learners: index % 2 === 0 ? ['d'] : [] } }, data };
}

function plain(s: Snapshot | undefined): unknown {
  return s === undefined ? undefined : { metadata: s.metadata, data: Array.from(s.data) };
}

async function snapFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

t.test('an empty or missing directory has no snapshot', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(join(dir, 'snap'));
  t.same(await store.loadNewest(), { snapshot: undefined, warnings: [] });
});

t.test('save then loadNewest round trips metadata and data; the newest by index wins', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir, { keep: 5 });
  await store.save(snap(10, 2));
  t.same(plain((await store.loadNewest()).snapshot), plain(snap(10, 2)));
  await store.save(snap(300, 3, 100_000));
  await store.save(snap(20, 2)); // written later, but older by index
  const { snapshot, warnings } = await store.loadNewest();
  t.same(plain(snapshot), plain(snap(300, 3, 100_000)));
  t.same(warnings, []);
  await store.save({ metadata: { index: 301, term: 3, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) });
  t.same(plain((await store.loadNewest()).snapshot), plain({ metadata: { index: 301, term: 3, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) }), 'empty data and membership');
  t.same(await snapFiles(dir), [
    '000000000000000a-0000000000000002.snap',
    '0000000000000014-0000000000000002.snap',
    '000000000000012c-0000000000000003.snap',
    '000000000000012d-0000000000000003.snap',
  ], 'names sort by index');
});

t.test('prune keeps the newest N', async (t) => {
  for (const keep of [1, 2, 3]) {
    const dir = await tempDir(t);
    const store = new SnapshotStore(dir, keep === 2 ? {} : { keep });
    for (let i = 1; i <= 6; i++) await store.save(snap(i * 10, 1));
    const files = await snapFiles(dir);
    t.equal(files.length, keep, `keep ${keep}`);
    t.same(files.map((f) => parseInt(f.slice(0, 16), 16)), [60, 50, 40].slice(0, keep).reverse());
  }
  t.throws(() => new SnapshotStore('x', { keep: 0 }), /keep must be an integer >= 1/);
});

t.test('a crash between writing the .tmp file and renaming it leaves the previous snapshot', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir);
  await store.save(snap(10, 1));
  const next = join(dir, '0000000000000014-0000000000000001.snap.tmp');
  await writeFile(next, (await readFile(join(dir, '000000000000000a-0000000000000001.snap'))).subarray(0, 20));
  const { snapshot, warnings } = await store.loadNewest();
  t.same(plain(snapshot), plain(snap(10, 1)));
  t.equal(warnings.length, 1);
  t.match(warnings[0] ?? '', /0000000000000014-0000000000000001\.snap\.tmp: removed, a save that a crash interrupted/);
  t.same(await snapFiles(dir), ['000000000000000a-0000000000000001.snap'], 'the .tmp file is gone');
});

t.test('a flipped bit anywhere in the only snapshot: STORAGE_CORRUPT naming the file', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir);
  await store.save(snap(7, 1, 40));
  const path = join(dir, '0000000000000007-0000000000000001.snap');
  const good = await readFile(path);
  let missed = 0;
  for (let i = 0; i < good.length; i++) {
    const bad = Buffer.from(good);
    bad[i]! ^= 1 << (i % 8);
    await writeFile(path, bad);
    const err = await store.loadNewest().then(() => undefined, (e: unknown) => e);
    if (!(err instanceof StorageError && err.code === 'STORAGE_CORRUPT' && err.file === path && err.message.includes(path))) missed++;
  }
  t.equal(missed, 0, `${good.length} flips detected`);
  await writeFile(path, good.subarray(0, good.length - 1));
  await t.rejects(store.loadNewest(), { code: 'STORAGE_CORRUPT', message: /checksum/ }, 'truncated');
  await writeFile(path, Buffer.alloc(0));
  await t.rejects(store.loadNewest(), { code: 'STORAGE_CORRUPT', message: /not a cairn snapshot/ }, 'empty');
});

t.test('a damaged newest snapshot falls back to the older one, moved aside with a warning', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir);
  await store.save(snap(10, 1));
  await store.save(snap(20, 1));
  const newest = join(dir, '0000000000000014-0000000000000001.snap');
  const bytes = await readFile(newest);
  bytes[bytes.length - 10]! ^= 0xff;
  await writeFile(newest, bytes);
  const { snapshot, warnings } = await store.loadNewest();
  t.same(plain(snapshot), plain(snap(10, 1)));
  t.match(warnings, [/snapshot .*0000000000000014-0000000000000001\.snap is damaged \(at byte offset \d+\); moved it to .*\.corrupt/]);
  t.same(await snapFiles(dir), ['000000000000000a-0000000000000001.snap', '0000000000000014-0000000000000001.snap.corrupt']);
  await store.save(snap(30, 1));
  t.same(await snapFiles(dir), ['000000000000000a-0000000000000001.snap', '0000000000000014-0000000000000001.snap.corrupt', '000000000000001e-0000000000000001.snap'], 'the .corrupt file is out of pruning');
});

t.test('a file whose name disagrees with its metadata is refused', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir);
  await store.save(snap(10, 1));
  const { rename } = await import('node:fs/promises');
  await rename(join(dir, '000000000000000a-0000000000000001.snap'), join(dir, '000000000000000b-0000000000000001.snap'));
  await t.rejects(store.loadNewest(), { code: 'STORAGE_CORRUPT', message: /metadata says index 10 term 1, the file name 11 and 1/ });
});

t.test('a snapshot larger than one write piece (1 MiB) is checksummed across the pieces', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(join(dir, 'snap'));
  const big = snap(9, 3, 2.5 * 1024 * 1024 + 17);
  await store.save(big);
  const { snapshot, warnings } = await store.loadNewest();
  t.same(warnings, []);
  t.same(snapshot?.metadata, big.metadata);
  t.ok(Buffer.from(snapshot!.data).equals(Buffer.from(big.data)), 'the data reads back whole');
  const [name] = await snapFiles(join(dir, 'snap'));
  const file = await readFile(join(dir, 'snap', name!));
  file[1024 * 1024 + 100] ^= 1; // inside the second piece
  await writeFile(join(dir, 'snap', name!), file);
  await t.rejects(new SnapshotStore(join(dir, 'snap')).loadNewest(), { code: 'STORAGE_CORRUPT' }, 'a flipped bit in the second piece is caught');
});

t.test('each piece of a large snapshot is flushed before the next is written', async (t) => {
  // So that a WAL sync meanwhile waits for one piece at most, not for the whole snapshot.
  const calls: string[] = [];
  const handle = {
    write: async (bytes: Uint8Array) => { calls.push(`write ${bytes.byteLength}`); return { bytesWritten: bytes.byteLength, buffer: bytes }; },
    datasync: async () => { calls.push('datasync'); },
  };
  await writeSnapshotFile(handle as unknown as Parameters<typeof writeSnapshotFile>[0], snap(9, 3, 2.5 * 1024 * 1024));
  const pieces = calls.filter((c) => c === `write ${1024 * 1024}` || c === `write ${0.5 * 1024 * 1024}`);
  t.equal(pieces.length, 3, 'three pieces of data');
  for (const piece of pieces) {
    const at = calls.indexOf(piece);
    calls[at] = 'seen';
    t.equal(calls[at + 1], 'datasync', 'a flush right after each piece');
  }
});

t.test('a version 1 file (CRC-32C) still reads; an unknown version is damage', async (t) => {
  const dir = await tempDir(t);
  const store = new SnapshotStore(dir);
  await store.save(snap(12, 4, 3000));
  const path = join(dir, '000000000000000c-0000000000000004.snap');
  const v2 = await readFile(path);
  t.equal(v2.readUInt32LE(8), 2, 'new files are version 2');
  // The same file as an older cairn wrote it: version 1, checksummed with CRC-32C.
  const v1 = Buffer.from(v2);
  v1.writeUInt32LE(1, 8);
  v1.writeUInt32LE(crc32c(v1, 0, v1.length - 4), v1.length - 4);
  await writeFile(path, v1);
  t.same(plain((await store.loadNewest()).snapshot), plain(snap(12, 4, 3000)), 'version 1 decodes');
  const v3 = Buffer.from(v2);
  v3.writeUInt32LE(3, 8);
  await writeFile(path, v3);
  await t.rejects(store.loadNewest(), { code: 'STORAGE_CORRUPT', message: /format version 3 is unknown/ });
});
