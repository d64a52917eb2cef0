// The shape of the log the WAL describes: which entries are live after truncations and
// snapshot markers. The writer uses it to refuse a save that would break the log (a gap, a
// rewrite of snapshotted entries) before anything reaches the disk, and to decide whether a
// marker keeps the entries after it; recovery replays the records through the same rules,
// so what is read back is exactly what was written.
import type { IndexTerm } from './wal-format.js';

export class LogTracker<E extends IndexTerm> {
  /**
   * The position just before `entries[0]`. Its term is undefined when recovery cut the log
   * below the oldest segment still on disk (the entry was in a deleted segment); a later
   * marker always covers such a position, or the final check fails.
   */
  private base: { index: number; term: number | undefined };
  private entries: E[] = [];
  private markerPos: IndexTerm;

  constructor(last: IndexTerm, marker: IndexTerm) {
    this.base = { index: last.index, term: last.term };
    this.markerPos = marker;
  }

  get marker(): IndexTerm {
    return this.markerPos;
  }

  lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  lastTerm(): number | undefined {
    return this.termAt(this.lastIndex());
  }

  termAt(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    return this.entries[index - this.base.index - 1]?.term;
  }

  /** The live entries after the marker (the array itself: callers must not change it). */
  live(): readonly E[] {
    return this.entries;
  }

  /** Why `batch` cannot be appended to this log, or undefined if it can. */
  checkAppend(batch: readonly IndexTerm[]): string | undefined {
    const first = batch[0];
    if (first === undefined) return undefined;
    if (first.index <= this.markerPos.index) {
      return `entry ${first.index} is at or below the snapshot marker ${this.markerPos.index}`;
    }
    if (first.index > this.lastIndex() + 1) {
      return `entry ${first.index} leaves a gap after the last entry ${this.lastIndex()}`;
    }
    const before = this.termAt(first.index - 1);
    if (before !== undefined && first.term < before) {
      return `entry ${first.index} has term ${first.term}, below the term ${before} of the entry before it`;
    }
    for (let k = 1; k < batch.length; k++) {
      const prev = batch[k - 1]!;
      const e = batch[k]!;
      if (e.index !== prev.index + 1) return `entries ${prev.index} and ${e.index} are not contiguous`;
      if (e.term < prev.term) return `entry ${e.index} has term ${e.term}, below ${prev.term} before it`;
    }
    return undefined;
  }

  /** Appends a batch that passed checkAppend, cutting the log at its first index. */
  append(batch: readonly E[]): void {
    const first = batch[0];
    if (first === undefined) return;
    if (first.index <= this.base.index) {
      this.base = { index: first.index - 1, term: undefined };
      this.entries = [];
    } else {
      this.entries.length = first.index - this.base.index - 1;
    }
    for (const e of batch) this.entries.push(e);
  }

  /** Why a marker at (index, term) cannot be saved, or undefined. */
  checkMarker(index: number, term: number): string | undefined {
    if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
      return `snapshot marker (${index}, ${term}) is not a pair of non-negative integers`;
    }
    if (index < this.markerPos.index) {
      return `snapshot marker ${index} is below the current marker ${this.markerPos.index}`;
    }
    if (index === this.markerPos.index && term !== this.markerPos.term) {
      return `snapshot marker ${index} repeats the current one with term ${term} instead of ${this.markerPos.term}`;
    }
    return undefined;
  }

  /** Whether the log holds (index, term), so a snapshot there keeps the entries after it. */
  keepsSuffix(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  applyMarker(index: number, term: number, keepsSuffix: boolean): void {
    if (keepsSuffix) {
      if (index >= this.base.index) {
        this.entries = this.entries.slice(Math.min(index - this.base.index, this.entries.length));
        this.base = { index, term };
      }
      // index below base: those entries were in segments already deleted; nothing to drop.
    } else {
      this.entries = [];
      this.base = { index, term };
    }
    this.markerPos = { index, term };
  }

  /**
   * After recovery: the live entries must start right after the marker. Returns what is
   * missing, or undefined (and then pins the base to the marker, whose term is known).
   */
  settle(): string | undefined {
    const m = this.markerPos;
    if (this.base.index !== m.index) {
      const to = this.entries[0]?.index ?? this.base.index + 1;
      return `entries ${m.index + 1}..${to - 1} after the snapshot marker are missing`;
    }
    this.base = { index: m.index, term: m.term };
    return undefined;
  }
}
