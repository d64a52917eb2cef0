// Unit tests for RaftLog (core/raft/log.ts): the follower side of AppendEntries (paper §5.3),
// the up-to-date check (§5.4.1), fast back-off (etcd findConflictByTerm), stable tracking
// with the ABA race (etcd async_storage_writes_append_aba_race.txt), compaction (§7) and the
// configuration a member derives from its log (thesis §4.1).
import t from 'tap';
import { RaftLog } from '../../core/raft/log.js';
import { encodeConfChange } from '../../core/raft/confchange.js';
import type { ConfChange } from '../../core/raft/confchange.js';
import type { Entry, Snapshot } from '../../core/raft/types.js';

const enc = new TextEncoder();

function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: 'normal', data: enc.encode(data) };
}

function cc(index: number, term: number, change: ConfChange): Entry {
  return { index, term, type: 'confChange', data: encodeConfChange(change) };
}

/** A log holding one entry per term listed: terms[i] is the term of index i+1. */
function logWithTerms(terms: number[]): RaftLog {
  const log = new RaftLog();
  log.append(terms.map((term, i) => ent(i + 1, term)));
  return log;
}

function termsOf(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i)!);
  return out;
}

t.test('empty log: first 1, last 0, term(0) = 0, nothing else', async (t) => {
  const log = new RaftLog();
  t.equal(log.firstIndex(), 1);
  t.equal(log.lastIndex(), 0);
  t.equal(log.lastTerm(), 0);
  t.equal(log.term(0), 0);
  t.equal(log.term(1), undefined);
  t.same(log.confState(), { voters: [], learners: [] });
});

t.test('append extends the log; term() and slice() read it back', async (t) => {
  const log = logWithTerms([1, 1, 2]);
  t.equal(log.lastIndex(), 3);
  t.equal(log.lastTerm(), 2);
  t.same(termsOf(log), [1, 1, 2]);
  t.same(log.slice(2, 4).map((e) => e.index), [2, 3]);
  t.equal(log.term(4), undefined);
  t.throws(() => log.slice(0, 2), 'slice below firstIndex throws');
  t.throws(() => log.slice(2, 5), 'slice beyond lastIndex+1 throws');
});

t.test('append with a gap or non-contiguous entries throws', async (t) => {
  const log = logWithTerms([1, 1]);
  t.throws(() => log.append([ent(4, 1)]), /gap/);
  t.throws(() => log.append([ent(3, 1), ent(5, 1)]), /contiguous/);
});

t.test('append at an index <= lastIndex cuts the conflicting suffix (§5.3)', async (t) => {
  const log = logWithTerms([1, 1, 1, 1]);
  log.append([ent(3, 2)]);
  t.same(termsOf(log), [1, 1, 2], 'entries 3..4 replaced by one term-2 entry');
});

t.test('append never cuts committed entries (State Machine Safety)', async (t) => {
  const log = logWithTerms([1, 1, 1]);
  log.commitTo(2);
  t.throws(() => log.append([ent(2, 2)]), /committed/);
  t.same(termsOf(log), [1, 1, 1], 'log unchanged after the refused append');
  log.append([ent(3, 2)]);
  t.same(termsOf(log), [1, 1, 2], 'cutting above commit is fine');
});

t.test('commitTo never regresses and refuses to go past lastIndex', async (t) => {
  const log = logWithTerms([1, 1, 1]);
  log.commitTo(2);
  log.commitTo(1);
  t.equal(log.committed, 2);
  t.throws(() => log.commitTo(4), /beyond/);
});

t.test('maybeAppend: consistency check and conflict truncation (TestFollowerCheckMsgApp / TestFollowerAppendEntries, §5.3)', async (t) => {
  // Log [1,2,3] at terms [1,2,2] (etcd TestLogMaybeAppend shape).
  const cases: {
    name: string;
    prevIndex: number;
    prevTerm: number;
    entries: Entry[];
    want: number | undefined;
    terms: number[];
  }[] = [
    { name: 'prev term mismatch', prevIndex: 3, prevTerm: 3, entries: [ent(4, 4)], want: undefined, terms: [1, 2, 2] },
    { name: 'prev index beyond log', prevIndex: 4, prevTerm: 2, entries: [ent(5, 4)], want: undefined, terms: [1, 2, 2] },
    { name: 'heartbeat-like, no entries', prevIndex: 3, prevTerm: 2, entries: [], want: 3, terms: [1, 2, 2] },
    { name: 'append new entries', prevIndex: 3, prevTerm: 2, entries: [ent(4, 3), ent(5, 3)], want: 5, terms: [1, 2, 2, 3, 3] },
    { name: 'prefix already present, nothing cut', prevIndex: 1, prevTerm: 1, entries: [ent(2, 2)], want: 2, terms: [1, 2, 2] },
    { name: 'all entries match, extra tail kept', prevIndex: 0, prevTerm: 0, entries: [ent(1, 1)], want: 1, terms: [1, 2, 2] },
    { name: 'conflict at 3 truncates and replaces', prevIndex: 2, prevTerm: 2, entries: [ent(3, 4)], want: 3, terms: [1, 2, 4] },
    { name: 'conflict at 2 truncates the rest', prevIndex: 1, prevTerm: 1, entries: [ent(2, 4), ent(3, 4), ent(4, 4)], want: 4, terms: [1, 4, 4, 4] },
    { name: 'match then conflict in the middle', prevIndex: 1, prevTerm: 1, entries: [ent(2, 2), ent(3, 5)], want: 3, terms: [1, 2, 5] },
  ];
  for (const c of cases) {
    const log = logWithTerms([1, 2, 2]);
    t.equal(log.maybeAppend(c.prevIndex, c.prevTerm, c.entries), c.want, `${c.name}: result`);
    t.same(termsOf(log), c.terms, `${c.name}: log`);
  }
});

t.test('maybeAppend does not touch the log when only matching entries arrive (no stable regress)', async (t) => {
  const log = logWithTerms([1, 1, 1]);
  log.takeUnstableEntries();
  log.stableTo([ent(3, 1)]);
  t.equal(log.stableIndex, 3);
  log.maybeAppend(0, 0, [ent(1, 1), ent(2, 1)]);
  t.equal(log.stableIndex, 3, 'duplicate append did not un-stabilize entries');
  t.equal(log.hasUnstableEntries(), false);
});

t.test('isUpToDate compares last term first, then last index (§5.4.1, TestVoteRequest)', async (t) => {
  const log = logWithTerms([1, 2, 2]);
  t.equal(log.isUpToDate(3, 2), true, 'same last entry');
  t.equal(log.isUpToDate(4, 2), true, 'same term, longer');
  t.equal(log.isUpToDate(2, 2), false, 'same term, shorter');
  t.equal(log.isUpToDate(1, 3), true, 'higher term wins even if shorter');
  t.equal(log.isUpToDate(10, 1), false, 'lower term loses even if longer');
});

t.test('findConflictByTerm returns the largest index <= i with term <= t (TestFindConflictByTerm)', async (t) => {
  // Log terms at 1..6: [2,2,5,5,5,6] (etcd test shape without the snapshot offset).
  const log = logWithTerms([2, 2, 5, 5, 5, 6]);
  const cases: [number, number, { index: number; term: number }][] = [
    [6, 6, { index: 6, term: 6 }],
    [6, 5, { index: 5, term: 5 }],
    [6, 4, { index: 2, term: 2 }],
    [6, 2, { index: 2, term: 2 }],
    [6, 1, { index: 0, term: 0 }],
    [4, 5, { index: 4, term: 5 }],
    [4, 3, { index: 2, term: 2 }],
    [10, 3, { index: 2, term: 2 }],
    [10, 7, { index: 6, term: 6 }],
  ];
  for (const [index, term, want] of cases) {
    t.same(log.findConflictByTerm(index, term), want, `(${index}, ${term})`);
  }
});

t.test('findConflictByTerm stops at the snapshot boundary', async (t) => {
  const log = logWithTerms([1, 2, 3, 4, 5]);
  log.commitTo(5);
  log.compact(3);
  t.same(log.findConflictByTerm(5, 1), { index: 3, term: 3 }, 'cannot look below the snapshot');
  t.same(log.findConflictByTerm(5, 4), { index: 4, term: 4 });
});

t.test('takeUnstableEntries hands each entry once; stableTo marks durability', async (t) => {
  const log = logWithTerms([1, 1]);
  t.equal(log.hasUnstableEntries(), true);
  const first = log.takeUnstableEntries();
  t.same(first.map((e) => e.index), [1, 2]);
  t.equal(log.hasUnstableEntries(), false);
  t.same(log.takeUnstableEntries(), []);
  t.equal(log.stableIndex, 0, 'handed is not durable');
  log.stableTo(first);
  t.equal(log.stableIndex, 2);
  log.append([ent(3, 1)]);
  t.same(log.takeUnstableEntries().map((e) => e.index), [3]);
});

t.test('stableTo ABA race: a persisted suffix cut and rewritten meanwhile is not stable (async_storage_writes_append_aba_race)', async (t) => {
  const log = logWithTerms([1, 1, 1]);
  const handed = log.takeUnstableEntries(); // 1..3 at term 1 go to disk
  // Before the write completes, a new leader overwrites 2..3 with term-2 entries.
  log.append([ent(2, 2), ent(3, 2)]);
  t.equal(log.handedIndex, 1, 'the cut suffix must be handed again');
  log.stableTo(handed);
  t.equal(log.stableIndex, 1, 'only index 1 (which still matches) becomes stable');
  const rehanded = log.takeUnstableEntries();
  t.same(rehanded.map((e) => [e.index, e.term]), [[2, 2], [3, 2]]);
  log.stableTo(rehanded);
  t.equal(log.stableIndex, 3);
});

t.test('stableTo with entries that were cut and re-appended at the same index but a new term (ABA) stays put', async (t) => {
  const log = logWithTerms([1, 1]);
  log.takeUnstableEntries();
  log.append([ent(2, 2)]);
  const second = log.takeUnstableEntries();
  log.append([ent(2, 3)]); // cut again before the second write finished
  log.stableTo(second);
  t.equal(log.stableIndex, 0, 'nothing from either write is known durable for the current log at 2; 1 was never reported');
  log.stableTo([ent(1, 1), ent(2, 1)]);
  t.equal(log.stableIndex, 1, 'late completion of the first write only covers index 1');
});

t.test('takeCommittedEntries paginates by bytes, at least one entry; appliedTo checks range', async (t) => {
  const log = new RaftLog();
  log.append([ent(1, 1, 'aaaa'), ent(2, 1, 'bbbb'), ent(3, 1, 'cccc')]);
  t.equal(log.hasCommittedEntries(), false);
  log.commitTo(3);
  t.equal(log.hasCommittedEntries(), true);
  t.same(log.takeCommittedEntries(5).map((e) => e.index), [1], 'second entry would exceed 5 bytes');
  t.same(log.takeCommittedEntries(1).map((e) => e.index), [2], 'at least one entry even over budget');
  t.throws(() => log.appliedTo(3), /beyond/);
  log.appliedTo(2);
  t.equal(log.applied, 2);
  t.same(log.takeCommittedEntries(Infinity).map((e) => e.index), [3]);
  t.equal(log.hasCommittedEntries(), false);
});

t.test('confState follows the latest confChange in the log, committed or not (thesis §4.1)', async (t) => {
  const log = new RaftLog();
  log.append([
    cc(1, 1, { type: 'addVoter', nodeId: 'a' }),
    cc(2, 1, { type: 'addVoter', nodeId: 'b' }),
    ent(3, 1),
    cc(4, 1, { type: 'addLearner', nodeId: 'c' }),
  ]);
  t.same(log.confState(), { voters: ['a', 'b'], learners: ['c'] });
  t.equal(log.lastConfIndex(), 4);
  t.same(log.confStateAt(3), { voters: ['a', 'b'], learners: [] });
  t.same(log.confStateAt(1), { voters: ['a'], learners: [] });
  // An uncommitted change cut off by a new leader no longer counts.
  log.commitTo(3);
  log.append([ent(4, 2)]);
  t.same(log.confState(), { voters: ['a', 'b'], learners: [] }, 'truncation reverts the configuration');
  t.equal(log.lastConfIndex(), 2);
  log.append([cc(5, 2, { type: 'addVoter', nodeId: 'c' })]);
  t.same(log.confState(), { voters: ['a', 'b', 'c'], learners: [] });
});

t.test('compact drops the prefix, keeps the snapshot term and configuration (§7)', async (t) => {
  const log = new RaftLog();
  log.append([
    cc(1, 1, { type: 'addVoter', nodeId: 'a' }),
    ent(2, 1),
    ent(3, 2),
    cc(4, 2, { type: 'addVoter', nodeId: 'b' }),
    ent(5, 3),
  ]);
  log.commitTo(5);
  const meta = log.compact(3);
  t.same(meta, { index: 3, term: 2, confState: { voters: ['a'], learners: [] } });
  t.equal(log.firstIndex(), 4);
  t.equal(log.lastIndex(), 5);
  t.equal(log.term(3), 2, 'the snapshot position keeps its term');
  t.equal(log.term(2), undefined, 'compacted entries have no term');
  t.same(log.snapshotPosition(), { index: 3, term: 2 });
  t.same(log.confState(), { voters: ['a', 'b'], learners: [] }, 'later confChange still counts');
  t.throws(() => log.slice(3, 5), 'compacted entries cannot be read');
  t.throws(() => log.compact(9), /no such entry/);
  log.compact(5);
  t.same(log.confState(), { voters: ['a', 'b'], learners: [] }, 'the configuration survives compaction of its entry');
  t.equal(log.lastTerm(), 3);
});

t.test('restore replaces the log with a snapshot and marks it pending', async (t) => {
  const log = logWithTerms([1, 1, 2]);
  log.takeUnstableEntries();
  log.stableTo([ent(3, 2)]);
  const snap: Snapshot = {
    metadata: { index: 10, term: 4, confState: { voters: ['a', 'b', 'c'], learners: [] } },
    data: enc.encode('state'),
  };
  log.restore(snap);
  t.equal(log.firstIndex(), 11);
  t.equal(log.lastIndex(), 10);
  t.equal(log.lastTerm(), 4);
  t.equal(log.committed, 10);
  t.equal(log.pendingSnapshot, snap);
  t.same(log.confState(), { voters: ['a', 'b', 'c'], learners: [] });
  t.equal(log.hasCommittedEntries(), false);
  t.equal(log.hasUnstableEntries(), false);
  log.append([ent(11, 4)]);
  t.equal(log.lastIndex(), 11);
});

t.test('load restores snapshot + entries as stable and clamps commit/applied', async (t) => {
  const log = new RaftLog();
  const snap: Snapshot = {
    metadata: { index: 5, term: 2, confState: { voters: ['a'], learners: [] } },
    data: new Uint8Array(),
  };
  // Entries may overlap the snapshot; only those after it are used.
  log.load(snap, [ent(5, 2), ent(6, 3), ent(7, 3)], 9, 8);
  t.equal(log.firstIndex(), 6);
  t.equal(log.lastIndex(), 7);
  t.equal(log.committed, 7, 'commit clamped to lastIndex');
  t.equal(log.applied, 7, 'applied clamped to commit');
  t.equal(log.stableIndex, 7);
  t.equal(log.hasUnstableEntries(), false);
  const plain = new RaftLog();
  plain.load(undefined, [ent(1, 1), ent(2, 1)], 1, 0);
  t.equal(plain.committed, 1);
  t.equal(plain.applied, 0);
  t.same(plain.takeCommittedEntries(Infinity).map((e) => e.index), [1]);
});
