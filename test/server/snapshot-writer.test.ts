// SnapshotWriter against a fake snapshot store and WAL: the file is durable before its marker,
// the WAL is released only up to the snapshot before, one write at a time, idle() waits for
// it, and a failed write reaches onFailure.
import t from 'tap';
import type { Snapshot } from '../../core/raft/index.js';
import { SnapshotWriter } from '../../server/snapshot-writer.js';

const snapshot = (index: number): Snapshot => ({
  metadata: { index, term: 2, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array([1, 2, 3]),
});

/** Records every call; each save waits until the test releases it. */
function fakes(failSave = false) {
  const calls: string[] = [];
  const pendingSaves: (() => void)[] = [];
  const files = {
    save: (s: Snapshot): Promise<void> => new Promise<void>((resolve, reject) => {
      calls.push(`save ${s.metadata.index}`);
      pendingSaves.push(() => (failSave ? reject(new Error('disk full')) : resolve()));
    }),
  };
  const log = {
    saveSnapshotMarker: async (index: number, term: number): Promise<void> => { calls.push(`marker ${index}/${term}`); },
    releaseTo: async (index: number): Promise<void> => { calls.push(`release ${index}`); },
  };
  const releaseSave = (): void => pendingSaves.shift()!();
  return { calls, files, log, releaseSave };
}

t.test('the marker follows the durable file; the WAL is released up to the snapshot before', async (t) => {
  const { calls, files, log, releaseSave } = fakes();
  const failures: Error[] = [];
  const writer = new SnapshotWriter(files, log, 100, (e) => failures.push(e));
  t.notOk(writer.busy);
  writer.start(snapshot(200));
  t.ok(writer.busy, 'busy while the file is written');
  t.throws(() => writer.start(snapshot(300)), /still being written/, 'one at a time');
  await Promise.resolve();
  t.same(calls, ['save 200'], 'no marker before the file is durable');
  let idle = false;
  const waiting = writer.idle().then(() => { idle = true; });
  await Promise.resolve();
  t.notOk(idle, 'idle() waits for the write');
  releaseSave();
  await waiting;
  t.same(calls, ['save 200', 'marker 200/2', 'release 100']);
  t.notOk(writer.busy);

  writer.start(snapshot(300));
  releaseSave();
  await writer.idle();
  t.same(calls.slice(3), ['save 300', 'marker 300/2', 'release 200'], 'the next release stops at the previous snapshot');
  t.same(failures, []);
});

t.test('a failed write reaches onFailure, writes no marker, and leaves the writer idle', async (t) => {
  const { calls, files, log, releaseSave } = fakes(true);
  const failures: Error[] = [];
  const writer = new SnapshotWriter(files, log, 0, (e) => failures.push(e));
  writer.start(snapshot(50));
  releaseSave();
  await writer.idle();
  t.same(calls, ['save 50']);
  t.match(failures.map((e) => e.message), ['disk full']);
  t.notOk(writer.busy);
});

t.test('idle() with nothing being written resolves at once', async (t) => {
  const { files, log } = fakes();
  const writer = new SnapshotWriter(files, log, 0, () => undefined);
  await writer.idle();
  t.notOk(writer.busy);
});
