// Round trips through the WAL: what save() and saveSnapshotMarker() write is exactly what a
// fresh open() recovers — entries, hard state, Raft truncations, snapshot markers (keeping or
// replacing the entries after them), several segments, releaseTo, split batches — and saves
// that would break the log are refused before they reach the disk.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { EMPTY_HARD_STATE } from '../../core/raft/types.js';
import { Wal } from '../../core/storage/index.js';
import type { WalOptions } from '../../core/storage/index.js';
import { ent, ents, hs, plain, segmentFiles, tempDir } from './helpers.js';

async function reopen(dir: string, options?: WalOptions) {
  const opened = await Wal.open(dir, options);
  await opened.wal.close();
  return opened;
}

t.test('a new WAL recovers empty', async (t) => {
  const dir = await tempDir(t);
  const { wal, recovered, warnings } = await Wal.open(dir);
  await wal.close();
  t.same(recovered, { hardState: EMPTY_HARD_STATE, entries: [], snapshotIndex: 0, snapshotTerm: 0 });
  t.same(warnings, []);
  t.equal((await segmentFiles(dir)).length, 1, 'the first segment exists at once');
  const again = await reopen(dir);
  t.same(again.recovered.entries, []);
  t.same(again.warnings, []);
});

t.test('entries and hard state round trip', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 0), ents(1, 3, 1));
  await wal.save(hs(2, 'b', 2), ents(4, 6, 2, 1000));
  await wal.save(hs(2, 'b', 6), []);
  await wal.save(undefined, [{ index: 7, term: 2, type: 'normal', data: new Uint8Array(0) }]);
  await wal.close();
  const { recovered, warnings } = await reopen(dir);
  t.same(warnings, []);
  t.same(recovered.hardState, hs(2, 'b', 6), 'the last hard state saved');
  t.same(plain(recovered.entries), plain([...ents(1, 3, 1), ...ents(4, 6, 2, 1000), { index: 7, term: 2, type: 'normal', data: new Uint8Array(0) }]));
  t.ok(recovered.entries.every((e) => e.data instanceof Uint8Array));
  t.equal(recovered.entries.find((e) => e.index === 5)!.type, 'confChange', 'entry type survives');
});

t.test('a save whose first index is not past the end cuts the log there (Raft truncation)', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 1), ents(1, 6, 1));
  await wal.save(hs(2, 'c', 1), ents(3, 4, 2));
  await wal.close();
  let { recovered } = await reopen(dir);
  t.same(plain(recovered.entries), plain([...ents(1, 2, 1), ...ents(3, 4, 2)]), '5 and 6 are gone');
  const second = await Wal.open(dir);
  await second.wal.save(undefined, ents(2, 2, 3));
  await second.wal.save(undefined, ents(3, 5, 3));
  await second.wal.close();
  ({ recovered } = await reopen(dir));
  t.same(plain(recovered.entries), plain([ent(1, 1), ...ents(2, 5, 3)]), 'a cut after reopening is honoured too');
  t.same(recovered.hardState, hs(2, 'c', 1));
});

t.test('saves that would break the log are refused and write nothing', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(2, 'a', 0), ents(1, 3, 2));
  await t.rejects(wal.save(undefined, ents(5, 5, 2)), /gap after the last entry 3/);
  await t.rejects(wal.save(undefined, [ent(4, 2), ent(6, 2)]), /not contiguous/);
  await t.rejects(wal.save(undefined, [ent(4, 2), ent(5, 1)]), /below 2/);
  await t.rejects(wal.save(undefined, ents(4, 4, 1)), /below the term 2/);
  await t.rejects(wal.save(undefined, ents(0, 1, 2)), /at or below the snapshot marker 0/);
  await wal.saveSnapshotMarker(2, 2);
  await t.rejects(wal.save(undefined, ents(2, 4, 2)), /at or below the snapshot marker 2/);
  await t.rejects(wal.saveSnapshotMarker(1, 2), /below the current marker 2/);
  await t.rejects(wal.saveSnapshotMarker(2, 3), /repeats the current one/);
  await wal.save(undefined, ents(4, 4, 2));
  await wal.close();
  const { recovered } = await reopen(dir);
  t.same(plain(recovered.entries), plain(ents(3, 4, 2)), 'only the valid saves landed');
  t.equal(recovered.snapshotIndex, 2);
});

t.test('save(undefined, []) is a no-op; calls are queued in order without awaiting', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(undefined, []);
  const pending = [
    wal.save(hs(1, 'a', 0), ents(1, 2, 1)),
    wal.save(hs(1, 'a', 2), ents(3, 4, 1)),
    wal.saveSnapshotMarker(2, 1),
    wal.save(hs(1, 'a', 4), ents(5, 5, 1)),
  ];
  await Promise.all(pending);
  await wal.close();
  await t.rejects(wal.save(undefined, ents(6, 6, 1)), /after close/);
  const { recovered } = await reopen(dir);
  t.same(plain(recovered.entries), plain(ents(3, 5, 1)));
  t.same(recovered.hardState, hs(1, 'a', 4));
});

t.test('snapshot marker: entries after it stay when the log agrees at its index', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(3, 'a', 8), [...ents(1, 4, 1), ...ents(5, 10, 3)]);
  await wal.saveSnapshotMarker(6, 3);
  await wal.saveSnapshotMarker(6, 3); // repeating is a no-op
  await wal.close();
  const { recovered } = await reopen(dir);
  t.equal(recovered.snapshotIndex, 6);
  t.equal(recovered.snapshotTerm, 3);
  t.same(plain(recovered.entries), plain(ents(7, 10, 3)));
  t.same(recovered.hardState, hs(3, 'a', 8));
});

t.test('snapshot marker: a snapshot that disagrees with the log (or is past its end) replaces it', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(2, 'a', 3), ents(1, 8, 2));
  await wal.saveSnapshotMarker(6, 5); // the leader's snapshot: entry 6 has term 5 there
  await wal.close();
  let { recovered } = await reopen(dir);
  t.same(recovered.entries, [], 'entries 7 and 8 of the old history are dropped');
  t.equal(recovered.snapshotIndex, 6);
  const first = await Wal.open(dir);
  await first.wal.save(hs(5, 'b', 7), ents(7, 7, 5));
  await first.wal.close();
  ({ recovered } = await reopen(dir));
  t.same(plain(recovered.entries), plain(ents(7, 7, 5)), 'the new 7 follows the snapshot');
  const second = await Wal.open(dir);
  await second.wal.saveSnapshotMarker(20, 6);
  await second.wal.close();
  ({ recovered } = await reopen(dir));
  t.same(recovered.entries, [], 'a snapshot past the end leaves no entries');
  t.equal(recovered.snapshotIndex, 20);
  const third = await Wal.open(dir);
  await third.wal.save(undefined, ents(21, 22, 6));
  await third.wal.close();
  ({ recovered } = await reopen(dir));
  t.same(plain(recovered.entries), plain(ents(21, 22, 6)), 'the log continues after the snapshot');
});

t.test('many segments with a tiny segmentBytes; reopening continues the last one', async (t) => {
  const dir = await tempDir(t);
  const options = { segmentBytes: 300 };
  const { wal } = await Wal.open(dir, options);
  for (let i = 1; i <= 30; i++) await wal.save(hs(1, 'a', i - 1), ents(i, i, 1, 100));
  t.equal(wal.segmentNames().length, 15, 'two saves of 168 bytes per 300-byte segment (after its 81-byte header)');
  t.same(await segmentFiles(dir), wal.segmentNames());
  await wal.close();
  const { wal: w2, recovered } = await Wal.open(dir, options);
  t.same(plain(recovered.entries), plain(ents(1, 30, 1, 100)));
  t.same(recovered.hardState, hs(1, 'a', 29));
  await w2.save(hs(1, 'a', 30), ents(31, 31, 1, 100));
  await w2.close();
  const again = await reopen(dir, options);
  t.same(plain(again.recovered.entries), plain(ents(1, 31, 1, 100)));
  t.same(again.warnings, []);
});

t.test('releaseTo deletes whole old segments covered by the marker, never the current one', async (t) => {
  const dir = await tempDir(t);
  const options = { segmentBytes: 300 };
  const { wal } = await Wal.open(dir, options);
  for (let i = 1; i <= 20; i++) await wal.save(hs(1, 'a', i), ents(i, i, 1, 100));
  await wal.releaseTo(1000);
  t.equal(wal.segmentNames().length, 10, 'nothing goes without a snapshot marker');
  await wal.saveSnapshotMarker(9, 1);
  const before = wal.segmentNames().length;
  await wal.releaseTo(1000);
  const left = wal.segmentNames();
  t.equal(before - left.length, 4, 'the four segments holding entries 1..8 go (capped at the marker 9)');
  t.same(await segmentFiles(dir), left);
  await wal.close();
  let { recovered } = await reopen(dir, options);
  t.same(plain(recovered.entries), plain(ents(10, 20, 1, 100)));
  t.equal(recovered.snapshotIndex, 9);
  t.same(recovered.hardState, hs(1, 'a', 20));
  const second = await Wal.open(dir, options);
  await second.wal.saveSnapshotMarker(20, 1);
  await second.wal.releaseTo(20);
  t.equal(second.wal.segmentNames().length, 1, 'everything but the current segment');
  await second.wal.save(hs(2, 'b', 20), ents(21, 21, 2));
  await second.wal.close();
  ({ recovered } = await reopen(dir, options));
  t.same(plain(recovered.entries), plain(ents(21, 21, 2)));
  t.same(recovered.hardState, hs(2, 'b', 20), 'the hard state lives on in the segment header');
  t.equal(recovered.snapshotIndex, 20);
});

t.test('a save bigger than a record is split into chunks and recovered whole', async (t) => {
  const dir = await tempDir(t);
  const options = { maxRecordBytes: 1024 };
  const { wal } = await Wal.open(dir, options);
  await wal.save(hs(1, 'a', 0), ents(1, 40, 1, 100));
  await t.rejects(wal.save(undefined, ents(41, 41, 1, 2000)), /does not fit in one 1024-byte record/);
  await wal.save(hs(1, 'a', 40), ents(41, 42, 1));
  await wal.close();
  const { recovered, warnings } = await reopen(dir, options);
  t.same(warnings, []);
  t.same(plain(recovered.entries), plain(ents(1, 42, 1, 100).map((e) => (e.index > 40 ? ent(e.index, 1) : e))));
  t.same(recovered.hardState, hs(1, 'a', 40));
});

t.test('leftover files: a .tmp segment is removed with a warning, strangers are ignored', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 0), ents(1, 1, 1));
  await wal.close();
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/0000000000000001-0000000000000002.wal.tmp`, 'half a segment');
  await writeFile(`${dir}/notes.txt`, 'hello');
  const { recovered, warnings } = await reopen(dir);
  t.same(plain(recovered.entries), plain(ents(1, 1, 1)));
  t.equal(warnings.length, 2);
  t.match(warnings[0] ?? '', /removed 0000000000000001-0000000000000002\.wal\.tmp/);
  t.match(warnings[1] ?? '', /ignoring notes\.txt/);
  t.notOk((await readdir(dir)).some((f) => f.endsWith('.tmp')));
});

t.test('a failed write is fatal to the instance: later calls fail with STORAGE_IO, recovery is clean', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 0), ents(1, 2, 1));
  // Pull the file out from under the WAL, as a failing disk would.
  const handle = (wal as unknown as { handle: { close(): Promise<void> } }).handle;
  await handle.close();
  await t.rejects(wal.save(hs(1, 'a', 2), ents(3, 3, 1)), { code: 'STORAGE_IO', message: /restart the member/ });
  await t.rejects(wal.save(hs(1, 'a', 2), []), { code: 'STORAGE_IO' }, 'and stays failed');
  await t.rejects(wal.saveSnapshotMarker(1, 1), { code: 'STORAGE_IO' });
  await wal.close().catch(() => undefined);
  const { recovered, warnings } = await reopen(dir);
  t.same(plain(recovered.entries), plain(ents(1, 2, 1)));
  t.same(warnings, []);
});
