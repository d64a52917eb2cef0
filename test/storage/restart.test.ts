// The storage layer under a real Raft member: Readies persisted through Wal.save, a
// compaction saved to the SnapshotStore with its WAL marker and releaseTo, then a restart
// from disk alone (toPersistedState + RawNode.restart) that must come back with the same
// term, vote, commit and log. Also the checks toPersistedState makes on its own.
import t from 'tap';
import { RawNode, seededRandom } from '../../core/raft/index.js';
import type { Ready } from '../../core/raft/index.js';
import { DataDir, SnapshotStore, Wal, toPersistedState } from '../../core/storage/index.js';
import { ent, ents, hs, plain, tempDir } from './helpers.js';

const enc = new TextEncoder();

async function persist(rd: Ready, wal: Wal, store: SnapshotStore): Promise<void> {
  if (rd.snapshot !== undefined) {
    await store.save(rd.snapshot);
    await wal.saveSnapshotMarker(rd.snapshot.metadata.index, rd.snapshot.metadata.term);
  }
  await wal.save(rd.hardState, rd.entries);
}

/** Runs Readies until the node is quiet (bounded). */
async function drain(node: RawNode, wal: Wal, store: SnapshotStore): Promise<void> {
  for (let i = 0; i < 1000 && node.hasReady(); i++) {
    const rd = node.ready();
    await persist(rd, wal, store);
    node.advance(rd);
  }
  if (node.hasReady()) throw new Error('drain: the node did not settle');
}

t.test('a single-member cluster restarts from its data dir with the same state', async (t) => {
  const dir = await tempDir(t);
  const identity = { memberId: 'a', clusterId: 'c', name: 'a' };
  const { dataDir } = await DataDir.open(dir, identity);
  let { wal } = await Wal.open(dataDir.walDir, { segmentBytes: 2048 });
  const store = new SnapshotStore(dataDir.snapDir);
  const node = RawNode.bootstrap({ id: 'a', random: seededRandom(1) }, ['a']);
  await drain(node, wal, store);
  t.equal(node.campaign(), undefined);
  await drain(node, wal, store);
  for (let i = 0; i < 60; i++) {
    t.equal(node.propose(enc.encode(`value ${i} `.repeat(5))), undefined);
    await drain(node, wal, store);
    if (i === 40) {
      const applied = node.status().applied;
      t.equal(node.compact(applied, enc.encode(`state at ${applied}`)), undefined);
      const snapshot = node.latestSnapshot()!;
      await store.save(snapshot);
      await wal.saveSnapshotMarker(snapshot.metadata.index, snapshot.metadata.term);
      await wal.releaseTo(snapshot.metadata.index);
    }
  }
  const before = node.status();
  const beforeLog = node.logView();
  t.ok(before.commit > 60 && before.role === 'leader');
  await wal.close();
  await dataDir.close();

  const reopened = await DataDir.open(dir, identity, 'c');
  t.equal(reopened.created, false);
  const recovered = await Wal.open(reopened.dataDir.walDir, { segmentBytes: 2048 });
  wal = recovered.wal;
  const loaded = await new SnapshotStore(reopened.dataDir.snapDir).loadNewest();
  t.same([...recovered.warnings, ...loaded.warnings], []);
  const state = toPersistedState(recovered.recovered, loaded.snapshot);
  t.equal(state.snapshot?.metadata.index, recovered.recovered.snapshotIndex);
  const restarted = RawNode.restart({ id: 'a', random: seededRandom(2) }, state);
  const after = restarted.status();
  t.same({ term: after.term, vote: after.vote, commit: after.commit, lastIndex: after.lastIndex },
    { term: before.term, vote: before.vote, commit: before.commit, lastIndex: before.lastIndex });
  const view = restarted.logView();
  t.equal(view.snapshotIndex, beforeLog.snapshotIndex);
  t.same(plain(view.entries(view.firstIndex, view.lastIndex + 1)), plain(beforeLog.entries(view.firstIndex, view.lastIndex + 1)));
  await wal.close();
  await reopened.dataDir.close();
});

t.test('toPersistedState joins the WAL and the snapshot, and refuses a snapshot older than the marker', async (t) => {
  const meta = (index: number, term: number) => ({ index, term, confState: { voters: ['a'], learners: [] } });
  const recovered = { hardState: hs(3, 'a', 6), entries: ents(5, 8, 3), snapshotIndex: 4, snapshotTerm: 2 };
  t.same(plain(toPersistedState({ ...recovered, snapshotIndex: 0, snapshotTerm: 0, entries: ents(1, 3, 1) }, undefined).entries), plain(ents(1, 3, 1)), 'no snapshot: every entry');
  const newer = toPersistedState(recovered, { metadata: meta(6, 3), data: new Uint8Array(0) });
  t.same(plain(newer.entries), plain(ents(7, 8, 3)), 'a snapshot newer than the marker (crash before the marker): entries after it');
  t.same(newer.hardState, hs(3, 'a', 6));
  const other = toPersistedState(recovered, { metadata: meta(6, 5), data: new Uint8Array(0) });
  t.same(other.entries, [], 'a snapshot of another history at 6: the old entries after it go');
  t.throws(() => toPersistedState(recovered, { metadata: meta(3, 2), data: new Uint8Array(0) }), {
    code: 'STORAGE_CORRUPT',
    message: /covers entries up to 4 with a snapshot, but the newest usable snapshot is at 3/,
  });
  t.throws(() => toPersistedState({ ...recovered, entries: [ent(5, 3)] }, undefined), { code: 'STORAGE_CORRUPT' }, 'a marker with no snapshot at all');
});
