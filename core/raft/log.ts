// The replicated log as one member holds it: the compacted prefix (a snapshot's index and
// term), the entries after it, and the positions that move along it: stable (durable),
// handed (given to the application to persist), committed, applying and applied. It also
// tracks the membership each confChange entry sets up, since a member uses the latest
// configuration in its log, committed or not (thesis §4.1).
import { applyConfChange, decodeConfChange } from './confchange.js';
import type { ConfState, Entry, Index, Snapshot, Term } from './types.js';

interface ConfPoint {
  readonly index: Index;
  readonly conf: ConfState;
}

export const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export class RaftLog {
  /** Index and term of the last entry covered by the latest snapshot (0, 0 if none). */
  private snapshotIndex: Index = 0;
  private snapshotTerm: Term = 0;
  private snapshotConf: ConfState = EMPTY_CONF;
  /** Entries snapshotIndex+1 .. lastIndex, in order. */
  private entries: Entry[] = [];
  /** Membership set up by each confChange entry still in `entries`, in index order. */
  private confPoints: ConfPoint[] = [];

  /** A snapshot received from the leader that the application has not yet been given. */
  pendingSnapshot: Snapshot | undefined;
  /** Highest index known durable on this member's disk. */
  stableIndex: Index = 0;
  /** Highest index handed to the application to persist (in a Ready). */
  handedIndex: Index = 0;
  committed: Index = 0;
  /** Highest index handed to the application to apply. */
  applying: Index = 0;
  /** Highest index the application confirmed applied. */
  applied: Index = 0;

  firstIndex(): Index {
    return this.snapshotIndex + 1;
  }

  lastIndex(): Index {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): Term {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`, or undefined if it is compacted or beyond the log. */
  term(index: Index): Term | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entryAt(index).term;
  }

  matchTerm(index: Index, term: Term): boolean {
    return this.term(index) === term;
  }

  entryAt(index: Index): Entry {
    const entry = this.entries[index - this.snapshotIndex - 1];
    if (entry === undefined || entry.index !== index) {
      throw new Error(`raft log: no entry at ${index} (first ${this.firstIndex()}, last ${this.lastIndex()})`);
    }
    return entry;
  }

  /** Entries in [lo, hi), at least one if any, at most `maxBytes` of payload after the first. */
  slice(lo: Index, hi: Index, maxBytes = Infinity): Entry[] {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1 || lo > hi) {
      throw new Error(`raft log: slice [${lo}, ${hi}) outside [${this.firstIndex()}, ${this.lastIndex() + 1})`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.entryAt(i);
      bytes += entry.data.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** The snapshot's position: what a follower must receive when it needs compacted entries. */
  snapshotPosition(): { index: Index; term: Term } {
    return { index: this.snapshotIndex, term: this.snapshotTerm };
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** The latest configuration in the log, committed or not. */
  confState(): ConfState {
    return this.confPoints.at(-1)?.conf ?? this.snapshotConf;
  }

  /** The configuration in force at `index` (index must not be compacted away). */
  confStateAt(index: Index): ConfState {
    let conf = this.snapshotConf;
    for (const point of this.confPoints) {
      if (point.index > index) break;
      conf = point.conf;
    }
    return conf;
  }

  /** Index of the latest confChange entry in the log, or the snapshot's index. */
  lastConfIndex(): Index {
    return this.confPoints.at(-1)?.index ?? this.snapshotIndex;
  }

  /**
   * Appends entries that continue the log at entries[0].index, cutting off any conflicting
   * suffix first. Committed entries are never cut: that would break State Machine Safety.
   */
  append(newEntries: readonly Entry[]): void {
    if (newEntries.length === 0) return;
    const first = newEntries[0]!.index;
    if (first <= this.committed) {
      throw new Error(`raft log: append at ${first} would overwrite committed entries (commit ${this.committed})`);
    }
    if (first > this.lastIndex() + 1) {
      throw new Error(`raft log: append at ${first} leaves a gap after ${this.lastIndex()}`);
    }
    if (first <= this.lastIndex()) this.truncateFrom(first);
    for (const entry of newEntries) {
      if (entry.index !== this.lastIndex() + 1) {
        throw new Error(`raft log: entries not contiguous at ${entry.index}`);
      }
      this.entries.push(entry);
      if (entry.type === 'confChange') {
        this.confPoints.push({ index: entry.index, conf: applyConfChange(this.confState(), decodeConfChange(entry.data)) });
      }
    }
  }

  /**
   * The follower side of AppendEntries (§5.3): if our log has (prevIndex, prevTerm), keep what
   * agrees, append what is new, and return the index of the last new entry; else undefined.
   */
  maybeAppend(prevIndex: Index, prevTerm: Term, newEntries: readonly Entry[]): Index | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + newEntries.length;
    const conflict = newEntries.find((e) => !this.matchTerm(e.index, e.term));
    if (conflict !== undefined) this.append(newEntries.slice(conflict.index - prevIndex - 1));
    return lastNew;
  }

  private truncateFrom(index: Index): void {
    this.entries.length = index - this.snapshotIndex - 1;
    while ((this.confPoints.at(-1)?.index ?? 0) >= index) this.confPoints.pop();
    this.handedIndex = Math.min(this.handedIndex, index - 1);
    this.stableIndex = Math.min(this.stableIndex, index - 1);
  }

  commitTo(index: Index): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new Error(`raft log: commit ${index} is beyond the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /**
   * Fast back-off for a rejected append (etcd's findConflictByTerm): the largest index at or
   * below `index` whose term is at most `term`, so one round trip skips a whole term.
   */
  findConflictByTerm(index: Index, term: Term): { index: Index; term: Term } {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapshotIndex; i--) {
      const t = this.entryAt(i).term;
      if (t <= term) return { index: i, term: t };
    }
    return { index: this.snapshotIndex, term: this.snapshotTerm };
  }

  /** Entries not yet handed to the application for persistence; marks them handed. */
  takeUnstableEntries(): Entry[] {
    if (this.handedIndex >= this.lastIndex()) return [];
    const out = this.slice(Math.max(this.handedIndex, this.snapshotIndex) + 1, this.lastIndex() + 1);
    this.handedIndex = this.lastIndex();
    return out;
  }

  hasUnstableEntries(): boolean {
    return this.handedIndex < this.lastIndex();
  }

  /**
   * The application made `persisted` durable. Only the part that still agrees with the log
   * counts: a suffix cut off and rewritten meanwhile must not be marked stable (the ABA race).
   */
  stableTo(persisted: readonly Entry[]): void {
    for (let i = persisted.length - 1; i >= 0; i--) {
      const entry = persisted[i]!;
      if (this.matchTerm(entry.index, entry.term)) {
        this.stableIndex = Math.max(this.stableIndex, Math.min(entry.index, this.handedIndex));
        return;
      }
    }
  }

  /** Committed entries not yet handed to the application, up to `maxBytes`; marks them. */
  takeCommittedEntries(maxBytes: number): Entry[] {
    if (this.applying >= this.committed) return [];
    const out = this.slice(this.applying + 1, this.committed + 1, maxBytes);
    this.applying = out.at(-1)!.index;
    return out;
  }

  hasCommittedEntries(): boolean {
    return this.applying < this.committed && this.pendingSnapshot === undefined;
  }

  appliedTo(index: Index): void {
    if (index > this.applying) {
      throw new Error(`raft log: applied ${index} beyond what was handed out (${this.applying})`);
    }
    this.applied = Math.max(this.applied, index);
  }

  /** Replaces the whole log with a snapshot received from the leader (§7). */
  restore(snapshot: Snapshot): void {
    const { index, term, confState } = snapshot.metadata;
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.snapshotConf = confState;
    this.entries = [];
    this.confPoints = [];
    this.committed = index;
    // Applied only once the application installed it and called advance().
    this.applying = index;
    this.handedIndex = index;
    this.stableIndex = Math.min(this.stableIndex, index);
    this.pendingSnapshot = snapshot;
  }

  /** Loads durable state at start-up: everything given here is already stable. */
  load(snapshot: Snapshot | undefined, entries: readonly Entry[], commit: Index, applied: Index): void {
    if (snapshot !== undefined) {
      this.snapshotIndex = snapshot.metadata.index;
      this.snapshotTerm = snapshot.metadata.term;
      this.snapshotConf = snapshot.metadata.confState;
    }
    const usable = entries.filter((e) => e.index > this.snapshotIndex);
    this.committed = this.snapshotIndex;
    this.append(usable);
    this.stableIndex = this.handedIndex = this.lastIndex();
    this.committed = Math.max(this.snapshotIndex, Math.min(commit, this.lastIndex()));
    this.applied = this.applying = Math.max(this.snapshotIndex, Math.min(applied, this.committed));
  }

  /**
   * Drops entries up to `index`, which the application's snapshot now covers. Returns the
   * snapshot's metadata so the caller can keep the snapshot for lagging followers.
   */
  compact(index: Index): { index: Index; term: Term; confState: ConfState } {
    const term = this.term(index);
    if (term === undefined) throw new Error(`raft log: cannot compact at ${index}: no such entry`);
    const confState = this.confStateAt(index);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.confPoints = this.confPoints.filter((p) => p.index > index);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.snapshotConf = confState;
    return { index, term, confState };
  }
}
