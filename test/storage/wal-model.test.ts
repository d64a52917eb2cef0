// A seeded random workload against a model: saves that append and truncate, hard states,
// snapshot markers that agree or disagree with the log (or lie past its end), releaseTo,
// reopening, and crashes that cut the last batch at a random byte. After every reopen the
// WAL must recover exactly the model's log. The model applies the persisting rules of
// docs/raft-api.md the way test/sim/disk.ts does, independently of the WAL's LogTracker.
import t from 'tap';
import { readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Entry, HardState } from '../../core/raft/types.js';
import { EMPTY_HARD_STATE } from '../../core/raft/types.js';
import { Wal } from '../../core/storage/index.js';
import { ent, plain, recordSpans, tempDir } from './helpers.js';

class Model {
  hardState: HardState = EMPTY_HARD_STATE;
  marker = { index: 0, term: 0 };
  entries: Entry[] = [];

  last(): number {
    return this.marker.index + this.entries.length;
  }

  termAt(index: number): number | undefined {
    if (index === this.marker.index) return this.marker.term;
    return this.entries[index - this.marker.index - 1]?.term;
  }

  append(batch: Entry[]): void {
    if (batch.length === 0) return;
    this.entries.length = batch[0]!.index - this.marker.index - 1;
    this.entries.push(...batch);
  }

  applyMarker(index: number, term: number): void {
    const agrees = this.termAt(index) === term;
    this.entries = agrees ? this.entries.filter((e) => e.index > index) : [];
    this.marker = { index, term };
  }

  view(): unknown {
    return { hardState: { ...this.hardState }, entries: plain(this.entries), snapshotIndex: this.marker.index };
  }
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

async function runSeed(dir: string, seed: number, steps: number): Promise<string | undefined> {
  const rand = rng(seed);
  const options = { segmentBytes: 300 + rand(500) };
  const model = new Model();
  let term = 1;
  let { wal } = await Wal.open(dir, options);
  const check = async (what: string): Promise<string | undefined> => {
    await wal.close();
    const opened = await Wal.open(dir, options);
    wal = opened.wal;
    const got = { hardState: { ...opened.recovered.hardState }, entries: plain(opened.recovered.entries), snapshotIndex: opened.recovered.snapshotIndex };
    return isDeepStrictEqual(got, model.view()) ? undefined : `seed ${seed}, ${what}: recovered ${JSON.stringify(got).slice(0, 300)}`;
  };
  for (let step = 0; step < steps; step++) {
    const op = rand(100);
    if (op < 60) {
      if (rand(10) === 0) term++;
      const first = model.last() + 1 - (rand(4) === 0 ? Math.min(rand(4), model.entries.length) : 0);
      const batch = Array.from({ length: rand(4) }, (_, k) => ent(first + k, term, rand(120)));
      const hardState = rand(3) === 0 ? undefined : { term, vote: rand(2) === 0 ? '' : `m${rand(3)}`, commit: rand(model.last() + 1) };
      const crash = rand(8) === 0 && (batch.length > 0 || hardState !== undefined);
      await wal.save(hardState, batch);
      if (crash) {
        // Power lost before this save returned: cut its record at a random byte.
        const path = join(dir, wal.segmentNames().at(-1)!);
        const spans = recordSpans(await readFile(path));
        const lastSpan = spans.at(-1)!;
        await wal.close();
        await truncate(path, lastSpan.start + rand(lastSpan.end - lastSpan.start));
        ({ wal } = await Wal.open(dir, options));
        const failed = await check(`step ${step} (crash)`);
        if (failed !== undefined) return failed;
        continue;
      }
      model.append(batch);
      if (hardState !== undefined) model.hardState = hardState;
    } else if (op < 72) {
      const index = model.marker.index + 1 + rand(model.last() - model.marker.index + 2);
      const agrees = rand(4) !== 0 && model.termAt(index) !== undefined;
      const markerTerm = agrees ? model.termAt(index)! : ++term;
      await wal.saveSnapshotMarker(index, markerTerm);
      model.applyMarker(index, markerTerm);
    } else if (op < 85) {
      await wal.releaseTo(rand(model.last() + 2));
    } else {
      const failed = await check(`step ${step}`);
      if (failed !== undefined) return failed;
    }
  }
  const failed = await check('end');
  await wal.close();
  return failed;
}

t.test('random saves, markers, releases, reopens and crashes recover the model log', async (t) => {
  const seeds = 12;
  const failures: string[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const dir = await tempDir(t);
    const failed = await runSeed(dir, seed, 250);
    if (failed !== undefined) failures.push(failed);
  }
  t.same(failures, [], `${seeds} seeds of 250 steps`);
});
