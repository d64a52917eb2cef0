// Crash recovery of the WAL. A torn tail — the file cut at any byte of the batch being
// written, or a last record with sectors that were never written — is cut off with a
// warning and everything before it recovered. Damage anywhere else, or a complete last
// record with a flipped bit (the etcd rule: no zeroed sector, so not a crash), refuses to
// open with STORAGE_CORRUPT naming the file and byte offset.
import t from 'tap';
import type { Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry, HardState } from '../../core/raft/types.js';
import { EMPTY_HARD_STATE } from '../../core/raft/types.js';
import { StorageError, Wal } from '../../core/storage/index.js';
import type { RecoveredLog, WalOptions } from '../../core/storage/index.js';
import { ent, ents, hs, plain, recordSpans, segmentFiles, tempDir } from './helpers.js';

interface Expected {
  readonly hardState: HardState;
  readonly entries: Entry[];
  readonly snapshotIndex: number;
}

/** The saves of the fixture and, by hand, the log after each (index k = after k batches). */
const STATES: Expected[] = [
  { hardState: EMPTY_HARD_STATE, entries: [], snapshotIndex: 0 },
  { hardState: hs(1, 'a', 0), entries: ents(1, 3, 1), snapshotIndex: 0 },
  { hardState: hs(1, 'a', 3), entries: [...ents(1, 3, 1), ...ents(4, 5, 1, 600)], snapshotIndex: 0 },
  { hardState: hs(1, 'a', 3), entries: [...ents(3, 3, 1), ...ents(4, 5, 1, 600)], snapshotIndex: 2 },
  { hardState: hs(2, 'b', 3), entries: [ent(3, 1), ent(4, 2)], snapshotIndex: 2 },
  { hardState: hs(2, 'b', 4), entries: [ent(3, 1), ent(4, 2)], snapshotIndex: 2 },
];

async function writeFixture(dir: string, options?: WalOptions): Promise<void> {
  const { wal } = await Wal.open(dir, options);
  await wal.save(hs(1, 'a', 0), ents(1, 3, 1));
  await wal.save(hs(1, 'a', 3), ents(4, 5, 1, 600));
  await wal.saveSnapshotMarker(2, 1);
  await wal.save(hs(2, 'b', 3), [ent(4, 2)]);
  await wal.save(hs(2, 'b', 4), []);
  await wal.close();
}

function comparable(log: Expected | RecoveredLog): unknown {
  return { hardState: { ...log.hardState }, entries: plain(log.entries), snapshotIndex: log.snapshotIndex };
}

function sameLog(t: Test, got: RecoveredLog, want: Expected, what: string): boolean {
  return t.same(comparable(got), comparable(want), what);
}

/** The fixture's single segment: its path, bytes and records (spans[0] is the header). */
async function fixture(t: Test, options?: WalOptions) {
  const dir = await tempDir(t);
  await writeFixture(dir, options);
  const [name] = await segmentFiles(dir);
  const path = join(dir, name!);
  const bytes = await readFile(path);
  return { dir, path, bytes, spans: recordSpans(bytes) };
}

async function expectCorrupt(t: Test, dir: string, file: string, offset: number, what: string): Promise<void> {
  try {
    const { wal } = await Wal.open(dir);
    await wal.close();
    t.fail(`${what}: opened`);
  } catch (err) {
    const ok = err instanceof StorageError && err.code === 'STORAGE_CORRUPT' && err.file === file && err.offset === offset &&
      err.message.includes(file) && err.message.includes(`byte offset ${offset}`);
    if (!ok) t.fail(`${what}: ${String(err)} (offset ${(err as StorageError).offset})`);
  }
}

t.test('the fixture recovers whole, as written', async (t) => {
  const { dir, spans } = await fixture(t);
  t.equal(spans.length, STATES.length, 'a header and one record per batch');
  const { wal, recovered, warnings } = await Wal.open(dir);
  await wal.close();
  t.same(warnings, []);
  sameLog(t, recovered, STATES[STATES.length - 1]!, 'recovered');
});

t.test('torn tail: the segment cut at every byte after its header recovers the batches before the cut', async (t) => {
  const { dir, path, bytes, spans } = await fixture(t);
  const boundaries = spans.map((s) => s.end);
  let failures = 0;
  for (let cut = spans[0]!.end; cut <= bytes.length; cut++) {
    await writeFile(path, bytes.subarray(0, cut));
    const whole = boundaries.filter((b) => b <= cut).length - 1; // batches entirely before the cut
    const { wal, recovered, warnings } = await Wal.open(dir);
    const atBoundary = boundaries.includes(cut);
    let ok = isDeepStrictEqual(comparable(recovered), comparable(STATES[whole]!));
    ok &&= warnings.length === (atBoundary ? 0 : 1);
    ok &&= atBoundary || /cut \d+ bytes at byte offset \d+/.test(warnings[0] ?? '');
    ok &&= (await stat(path)).size === boundaries[whole];
    // The log goes on from the cut: a new save lands and survives a reopen (every 8th cut).
    if (cut % 8 === 0) await wal.save(hs(9, 'z', 0), []);
    await wal.close();
    if (cut % 8 === 0) {
      const again = await Wal.open(dir);
      await again.wal.close();
      ok &&= again.warnings.length === 0 && again.recovered.hardState.term === 9;
    }
    if (!ok) {
      failures++;
      t.fail(`cut at ${cut}: ${JSON.stringify(warnings)}`);
    }
  }
  t.equal(failures, 0, `${bytes.length - spans[0]!.end + 1} cuts`);
});

t.test('a segment cut inside its header is corruption (segments are renamed into place complete)', async (t) => {
  const { dir, path, bytes, spans } = await fixture(t);
  for (const cut of [0, 5, spans[0]!.end - 1]) {
    await writeFile(path, bytes.subarray(0, cut));
    await expectCorrupt(t, dir, path, 0, `cut at ${cut}`);
  }
  t.pass('every cut refused');
});

t.test('a flipped bit in any byte of a record that is not the last: STORAGE_CORRUPT naming file and offset', async (t) => {
  const { dir, path, bytes, spans } = await fixture(t);
  const victim = spans[1]!;
  for (let i = victim.start; i < victim.end; i++) {
    const damaged = Buffer.from(bytes);
    damaged[i]! ^= 1 << (i % 8);
    await writeFile(path, damaged);
    await expectCorrupt(t, dir, path, victim.start, `bit flipped at ${i}`);
  }
  t.pass(`${victim.end - victim.start} flips refused`);
});

t.test('a flipped bit in the length of a middle record is not mistaken for a torn tail', async (t) => {
  const { dir, path, bytes, spans } = await fixture(t);
  const damaged = Buffer.from(bytes);
  damaged[spans[2]!.start + 2]! ^= 0x01; // length + 65536: past the end of the file, under the limit
  await writeFile(path, damaged);
  await expectCorrupt(t, dir, path, spans[2]!.start, 'length flipped');
  t.pass();
});

t.test('a flipped bit in the complete last record is corruption, not a torn tail (the etcd rule)', async (t) => {
  const { dir, path, bytes, spans } = await fixture(t);
  const last = spans[spans.length - 1]!;
  for (let i = last.start; i < last.end; i++) {
    const damaged = Buffer.from(bytes);
    damaged[i]! ^= 0x10;
    await writeFile(path, damaged);
    await expectCorrupt(t, dir, path, last.start, `bit flipped at ${i}`);
  }
  t.pass(`${last.end - last.start} flips refused`);
});

/** Zeroes the 512-byte-aligned sector of the file that holds `offset`, within [lo, hi). */
function zeroSector(buf: Buffer, offset: number, lo: number, hi: number): Buffer {
  const out = Buffer.from(buf);
  const start = Math.max(lo, offset - (offset % 512));
  out.fill(0, start, Math.min(hi, start + 512 - (start % 512)));
  return out;
}

t.test('a last record with a sector never written is a torn tail', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 0), ents(1, 2, 1));
  await wal.save(hs(1, 'a', 2), ents(3, 3, 1, 3000));
  await wal.close();
  const [name] = await segmentFiles(dir);
  const path = join(dir, name!);
  const bytes = await readFile(path);
  const last = recordSpans(bytes)[2]!;
  const cases: [string, number][] = [
    ['its first sector', last.start],
    ['a sector in its middle', last.start + 1500],
    ['its last sector', last.end - 1],
  ];
  for (const [what, offset] of cases) {
    await writeFile(path, zeroSector(bytes, offset, last.start, last.end));
    const opened = await Wal.open(dir);
    await opened.wal.close();
    t.same(plain(opened.recovered.entries), plain(ents(1, 2, 1)), `${what}: the batch before it recovered`);
    t.match(opened.warnings, [new RegExp(`cut ${last.end - last.start} bytes at byte offset ${last.start}`)], what);
    t.equal((await stat(path)).size, last.start, `${what}: cut off`);
  }
});

t.test('a zeroed sector followed by a later valid batch is corruption: that batch proves it was synced', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 'a', 0), ents(1, 1, 1, 3000));
  await wal.save(hs(1, 'a', 1), ents(2, 2, 1));
  await wal.close();
  const [name] = await segmentFiles(dir);
  const path = join(dir, name!);
  const bytes = await readFile(path);
  const spans = recordSpans(bytes);
  await writeFile(path, zeroSector(bytes, spans[1]!.start + 1500, spans[1]!.start, spans[1]!.end));
  await expectCorrupt(t, dir, path, spans[1]!.start, 'zeroed sector mid-log');
  t.pass();
});

t.test('damage in a segment that is not the last is corruption, even in its last record', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, { segmentBytes: 200 });
  for (let i = 1; i <= 4; i++) await wal.save(hs(1, 'a', i), ents(i, i, 1, 100));
  await wal.close();
  const names = await segmentFiles(dir);
  t.ok(names.length >= 3);
  const path = join(dir, names[0]!);
  const bytes = await readFile(path);
  const spans = recordSpans(bytes);
  const last = spans[spans.length - 1]!;
  const cut = Buffer.from(bytes.subarray(0, last.end - 1));
  await writeFile(path, cut);
  await expectCorrupt(t, dir, path, last.start, 'cut short');
  const zeroed = zeroSector(bytes, last.start, last.start, last.end);
  await writeFile(path, zeroed);
  await expectCorrupt(t, dir, path, last.start, 'zeroed');
  t.pass();
});

t.test('a batch split over several records: torn anywhere, it goes whole; a middle chunk never written is torn too', async (t) => {
  const options = { maxRecordBytes: 1024 };
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, options);
  await wal.save(hs(1, 'a', 0), ents(1, 2, 1));
  await wal.save(hs(1, 'a', 2), ents(3, 22, 1, 100));
  await wal.close();
  const [name] = await segmentFiles(dir);
  const path = join(dir, name!);
  const bytes = await readFile(path);
  const spans = recordSpans(bytes);
  t.equal(spans.length, 5, 'header, batch 1, and batch 2 in three chunks');
  const chunks = spans.slice(2);
  for (const cut of [chunks[1]!.start, chunks[1]!.start + 100, chunks[2]!.start, chunks[2]!.end - 1]) {
    await writeFile(path, bytes.subarray(0, cut));
    const opened = await Wal.open(dir, options);
    await opened.wal.close();
    t.same(plain(opened.recovered.entries), plain(ents(1, 2, 1)), `cut at ${cut}: batch 2 dropped whole`);
    t.equal((await stat(path)).size, chunks[0]!.start, `cut at ${cut}: from its first chunk on`);
  }
  // A middle chunk never written while the final one was: still the same unfinished batch.
  await writeFile(path, zeroSector(bytes, chunks[1]!.start, chunks[1]!.start, chunks[1]!.end));
  const opened = await Wal.open(dir, options);
  await opened.wal.close();
  t.same(plain(opened.recovered.entries), plain(ents(1, 2, 1)));
  t.equal(opened.warnings.length, 1);
});

t.test('a missing segment is corruption: in the middle, or at the start without a marker', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, { segmentBytes: 200 });
  for (let i = 1; i <= 4; i++) await wal.save(hs(1, 'a', i), ents(i, i, 1, 100));
  await wal.close();
  const names = await segmentFiles(dir);
  const saved = await readFile(join(dir, names[1]!));
  await rm(join(dir, names[1]!));
  await expectCorrupt(t, dir, join(dir, names[2]!), 0, 'middle segment gone');
  await writeFile(join(dir, names[1]!), saved);
  await rm(join(dir, names[0]!));
  await t.rejects(Wal.open(dir), { code: 'STORAGE_CORRUPT', message: /entries 1\.\.1 after the snapshot marker are missing/ });
});
