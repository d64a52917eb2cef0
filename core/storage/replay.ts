// Recovery of the WAL: reads every segment in order, checks that each continues the one
// before it, and replays the batches through the LogTracker (truncations, snapshot markers)
// to rebuild what a restarting member hands to Raft. Only the last segment may end in a torn
// tail; everything else that fails to verify is STORAGE_CORRUPT.
import { join } from 'node:path';
import type { Entry, HardState } from '../raft/types.js';
import { corruptAt } from './errors.js';
import { LogTracker } from './log-tracker.js';
import { readSegment } from './segment.js';
import type { ReadBatch, SegmentName, SegmentRead } from './segment.js';
import type { SegmentHeader } from './wal-format.js';

/** What the WAL held when it was opened. */
export interface RecoveredLog {
  /** The last hard state saved (EMPTY_HARD_STATE if none). */
  readonly hardState: HardState;
  /** The live entries after the snapshot marker, contiguous, truncations applied. */
  readonly entries: Entry[];
  /** The index of the last snapshot marker, 0 if none. */
  readonly snapshotIndex: number;
  /** The term of the last snapshot marker, 0 if none. */
  readonly snapshotTerm: number;
}

export interface SegmentState {
  readonly name: string;
  readonly seq: number;
  /** The highest entry index written to the segment (0 if none): it may go once that is released. */
  maxEntryIndex: number;
}

export interface Replayed {
  readonly tracker: LogTracker<Entry>;
  readonly hardState: HardState;
  readonly lastBatch: number;
  readonly segments: SegmentState[];
  /** The last segment as read: where appending resumes, and whether a torn tail must go. */
  readonly tail: SegmentRead;
}

/** Replays the named segments (sorted by seq, at least one). */
export async function replaySegments(dir: string, names: readonly SegmentName[]): Promise<Replayed> {
  let state: { tracker: LogTracker<Entry>; hardState: HardState; lastBatch: number } | undefined;
  const segments: SegmentState[] = [];
  let tail: SegmentRead | undefined;
  for (const [i, name] of names.entries()) {
    const path = join(dir, name.name);
    const read = await readSegment(dir, name.name, i === names.length - 1);
    checkHeader(path, name, read.header, state);
    state ??= {
      tracker: new LogTracker<Entry>(read.header.last, read.header.marker),
      hardState: read.header.hardState,
      lastBatch: read.header.lastBatch,
    };
    const segment: SegmentState = { name: name.name, seq: name.seq, maxEntryIndex: 0 };
    for (const batch of read.batches) {
      state.hardState = applyBatch(path, batch, state.tracker, segment) ?? state.hardState;
      state.lastBatch = batch.seq;
    }
    segments.push(segment);
    tail = read;
  }
  if (state === undefined || tail === undefined) throw new Error('replaySegments: no segments');
  return { ...state, segments, tail };
}

/** A segment's header must describe exactly the state the segments before it left. */
function checkHeader(
  path: string,
  name: SegmentName,
  h: SegmentHeader,
  before: { tracker: LogTracker<Entry>; hardState: HardState; lastBatch: number } | undefined,
): void {
  const fail = (what: string) => corruptAt(path, 0, `segment header ${what}`);
  if (h.segmentSeq !== name.seq) throw fail(`says segment ${h.segmentSeq}, the file name ${name.seq}`);
  if (name.firstIndex !== h.last.index + 1) throw fail(`starts after entry ${h.last.index}, the file name at ${name.firstIndex}`);
  if (before === undefined) return;
  const { tracker, hardState, lastBatch } = before;
  const lastTerm = tracker.lastTerm();
  if (h.lastBatch !== lastBatch) throw fail(`continues batch ${h.lastBatch}, the previous segment ended with ${lastBatch}`);
  if (h.last.index !== tracker.lastIndex() || (lastTerm !== undefined && h.last.term !== lastTerm)) {
    throw fail(`continues entry (${h.last.index}, ${h.last.term}), the log ends at (${tracker.lastIndex()}, ${lastTerm})`);
  }
  if (h.marker.index !== tracker.marker.index || h.marker.term !== tracker.marker.term) {
    throw fail(`has snapshot marker ${h.marker.index}, the log ${tracker.marker.index}`);
  }
  if (h.hardState.term !== hardState.term || h.hardState.vote !== hardState.vote || h.hardState.commit !== hardState.commit) {
    throw fail('has a hard state other than the last one saved before it');
  }
}

/** Applies one batch; returns its hard state if it has one. */
function applyBatch(path: string, batch: ReadBatch, tracker: LogTracker<Entry>, segment: SegmentState): HardState | undefined {
  let hardState: HardState | undefined;
  let run: Entry[] = [];
  const flush = () => {
    const why = tracker.checkAppend(run);
    if (why !== undefined) throw corruptAt(path, batch.offset, `batch ${batch.seq}: ${why}`);
    tracker.append(run);
    for (const e of run) segment.maxEntryIndex = Math.max(segment.maxEntryIndex, e.index);
    run = [];
  };
  for (const item of batch.items) {
    if (item.kind === 'entry') {
      run.push(item.entry);
      continue;
    }
    flush();
    if (item.kind === 'hardState') {
      hardState = item.hardState;
    } else {
      const why = tracker.checkMarker(item.index, item.term);
      if (why !== undefined) throw corruptAt(path, batch.offset, `batch ${batch.seq}: ${why}`);
      tracker.applyMarker(item.index, item.term, item.keepsSuffix);
    }
  }
  flush();
  return hardState;
}
