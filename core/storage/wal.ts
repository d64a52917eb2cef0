// The write-ahead log of one member: a directory of segment files (see segment.ts), written
// by appending one batch per call and syncing it before the call's promise resolves.
//
// - save(hardState, entries) is one Ready: its entries, then its hard state, framed as one
//   batch (one record unless over 64 MiB) with a single write and a single fdatasync: group
//   commit at the granularity of a Ready. Nothing resolves before its sync.
// - Calls are queued internally and run one at a time in call order, so a caller may fire
//   save() for the next Ready without awaiting the previous one; each promise still
//   resolves only once its own batch is durable.
// - A write or sync error is fatal to the instance (after a failed fsync the kernel's page
//   cache can no longer be trusted): every later call fails with STORAGE_IO. Restart the
//   member; recovery cuts whatever half-written batch the failure left.
// - The WAL does not lock its directory; DataDir does that for the whole data dir.
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry, HardState } from '../raft/types.js';
import { EMPTY_HARD_STATE } from '../raft/types.js';
import { CORRUPT_ADVICE, StorageError, corruptAt, ioError } from './errors.js';
import { removeFile, syncDir } from './fs-util.js';
import { LogTracker } from './log-tracker.js';
import { MAX_RECORD_BYTES, frameRecords } from './record.js';
import { replaySegments } from './replay.js';
import type { RecoveredLog, SegmentState } from './replay.js';
import { parseSegmentName, segmentFileName } from './segment.js';
import type { SegmentName } from './segment.js';
import { encodeBatch, encodeSegmentHeader } from './wal-format.js';
import type { WalItem } from './wal-format.js';

export type { RecoveredLog } from './replay.js';

export interface WalOptions {
  /** A segment is closed and a new one started once it holds this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /**
   * Largest record written; a bigger save() is split into several records. Default (and
   * maximum) MAX_RECORD_BYTES, 64 MiB; tests lower it to exercise split batches.
   */
  readonly maxRecordBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

interface Limits {
  readonly segmentBytes: number;
  readonly recordBytes: number;
}

interface WalState {
  tracker: LogTracker<Entry>;
  hardState: HardState;
  lastBatch: number;
  segments: SegmentState[];
}

export class Wal {
  private queue: Promise<void> = Promise.resolve();
  private failure: StorageError | undefined;
  private closed = false;
  /** Batches in the current segment; a segment is only rotated once it holds one. */
  private batchesInSegment: number;

  private constructor(
    private readonly dir: string,
    private readonly limits: Limits,
    private readonly state: WalState,
    private handle: FileHandle,
    private position: number,
    hasBatches: boolean,
  ) {
    this.batchesInSegment = hasBatches ? 1 : 0;
  }

  /**
   * Opens (creating if needed) the WAL in `dir` and recovers it. A torn tail is cut and
   * reported in `warnings` for the caller to log; corruption throws STORAGE_CORRUPT.
   */
  static async open(
    dir: string,
    options: WalOptions = {},
  ): Promise<{ wal: Wal; recovered: RecoveredLog; warnings: string[] }> {
    const limits: Limits = {
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      recordBytes: options.maxRecordBytes ?? MAX_RECORD_BYTES,
    };
    if (!Number.isSafeInteger(limits.segmentBytes) || limits.segmentBytes <= 0) {
      throw new RangeError(`Wal.open: segmentBytes must be a positive integer, got ${limits.segmentBytes}`);
    }
    if (!Number.isSafeInteger(limits.recordBytes) || limits.recordBytes < 256 || limits.recordBytes > MAX_RECORD_BYTES) {
      throw new RangeError(`Wal.open: maxRecordBytes must be an integer in 256..${MAX_RECORD_BYTES}, got ${limits.recordBytes}`);
    }
    const warnings: string[] = [];
    const names = await listSegments(dir, warnings);
    const wal = names.length === 0
      ? await Wal.create(dir, limits)
      : await Wal.recover(dir, limits, names, warnings);
    return { wal, recovered: wal.recovered(), warnings };
  }

  private static async create(dir: string, limits: Limits): Promise<Wal> {
    const tracker = new LogTracker<Entry>({ index: 0, term: 0 }, { index: 0, term: 0 });
    const state: WalState = { tracker, hardState: EMPTY_HARD_STATE, lastBatch: 0, segments: [] };
    const { handle, position } = await startSegment(dir, 0, state);
    return new Wal(dir, limits, state, handle, position, false);
  }

  private static async recover(dir: string, limits: Limits, names: SegmentName[], warnings: string[]): Promise<Wal> {
    const replayed = await replaySegments(dir, names);
    const missing = replayed.tracker.settle();
    if (missing !== undefined) {
      throw new StorageError('STORAGE_CORRUPT', `WAL ${dir}: ${missing} (a segment was deleted too early). To recover, ${CORRUPT_ADVICE}.`, {
        file: join(dir, names[0]!.name),
      });
    }
    const { tail } = replayed;
    const path = join(dir, names[names.length - 1]!.name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
      if (tail.validEnd < tail.size) {
        await handle.truncate(tail.validEnd);
        await handle.sync();
        warnings.push(
          `WAL ${path}: cut ${tail.size - tail.validEnd} bytes at byte offset ${tail.validEnd} ` +
            `(${tail.torn}): the unfinished write of a crash, never acknowledged`,
        );
      }
    } catch (err) {
      throw ioError(`cannot open the last WAL segment ${path} for appending`, err);
    }
    const { tracker, hardState, lastBatch, segments } = replayed;
    const state: WalState = { tracker, hardState, lastBatch, segments };
    return new Wal(dir, limits, state, handle, tail.validEnd, tail.batches.length > 0);
  }

  private recovered(): RecoveredLog {
    const { tracker, hardState } = this.state;
    return {
      hardState,
      entries: tracker.live().slice(),
      snapshotIndex: tracker.marker.index,
      snapshotTerm: tracker.marker.term,
    };
  }

  /**
   * Appends `entries` (cutting the log at entries[0].index if that is not past the end), then
   * `hardState`, and fdatasyncs once. Resolves when durable. A save of nothing resolves at once.
   * Throws (without writing) if the entries would break the log: a gap, a rewrite at or below
   * the snapshot marker, non-contiguous indexes or decreasing terms.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void> {
    return this.enqueue(async () => {
      if (hardState === undefined && entries.length === 0) return;
      const why = this.state.tracker.checkAppend(entries);
      if (why !== undefined) throw new Error(`Wal.save: ${why}`);
      const items: WalItem[] = entries.map((entry) => ({ kind: 'entry', entry }));
      if (hardState !== undefined) items.push({ kind: 'hardState', hardState });
      await this.writeBatch(items);
      this.state.tracker.append(entries);
      if (hardState !== undefined) this.state.hardState = hardState;
      const segment = this.currentSegment();
      for (const e of entries) segment.maxEntryIndex = Math.max(segment.maxEntryIndex, e.index);
    });
  }

  /**
   * Records that a snapshot covers the log up to `index` (whose entry has `term`): replay
   * drops the entries up to it, and keeps the ones after only if the log held (index, term)
   * (otherwise the snapshot replaced a different history). Call it after the snapshot file is
   * durable. Repeating the current marker is a no-op; a lower one throws.
   */
  saveSnapshotMarker(index: number, term: number): Promise<void> {
    return this.enqueue(async () => {
      const { tracker } = this.state;
      const why = tracker.checkMarker(index, term);
      if (why !== undefined) throw new Error(`Wal.saveSnapshotMarker: ${why}`);
      if (index === tracker.marker.index) return;
      const keepsSuffix = tracker.keepsSuffix(index, term);
      await this.writeBatch([{ kind: 'marker', index, term, keepsSuffix }]);
      tracker.applyMarker(index, term, keepsSuffix);
    });
  }

  /**
   * Deletes the oldest segments whose entries are all at or below `index`, never the current
   * one. `index` is capped at the snapshot marker: entries no marker covers are never
   * released. To be able to fall back to an older snapshot, release only up to the oldest
   * snapshot kept.
   */
  releaseTo(index: number): Promise<void> {
    return this.enqueue(async () => {
      const limit = Math.min(index, this.state.tracker.marker.index);
      const { segments } = this.state;
      let removed = 0;
      while (segments.length > 1 && segments[0]!.maxEntryIndex <= limit) {
        await removeFile(join(this.dir, segments[0]!.name));
        segments.shift();
        removed++;
      }
      if (removed > 0) await syncDir(this.dir);
    });
  }

  /** Waits for queued calls, then closes the current segment. Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.close();
  }

  /** The names of the segment files on disk, oldest first (for tests and diagnostics). */
  segmentNames(): string[] {
    return this.state.segments.map((s) => s.name);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Wal: used after close()'));
    const run = this.queue.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private currentSegment(): SegmentState {
    return this.state.segments[this.state.segments.length - 1]!;
  }

  /** Writes one batch at the end of the log and syncs it; any failure is fatal. */
  private async writeBatch(items: readonly WalItem[]): Promise<void> {
    const buf = frameRecords(encodeBatch(this.state.lastBatch + 1, items, this.limits.recordBytes));
    try {
      if (this.position >= this.limits.segmentBytes && this.batchesInSegment > 0) await this.rotate();
      writeAllSync(this.handle.fd, buf, this.position);
      await this.handle.datasync();
    } catch (err) {
      const cause = err instanceof StorageError ? err.cause ?? err : err;
      this.failure = ioError(
        `WAL ${this.dir}: a write failed and the log cannot be trusted in memory any more; ` +
          'restart the member (recovery cuts the unfinished write)',
        cause,
      );
      throw this.failure;
    }
    this.position += buf.length;
    this.state.lastBatch++;
    this.batchesInSegment++;
  }

  private async rotate(): Promise<void> {
    const seq = this.currentSegment().seq + 1;
    const next = await startSegment(this.dir, seq, this.state);
    await this.handle.close();
    this.handle = next.handle;
    this.position = next.position;
    this.batchesInSegment = 0;
  }
}

/**
 * Creates segment `seq` holding only its header: written as a .tmp file, synced, renamed,
 * directory synced, so a crash leaves either no segment or a complete one. Registers it in
 * `state.segments` and returns it open for appending.
 */
async function startSegment(dir: string, seq: number, state: WalState): Promise<{ handle: FileHandle; position: number }> {
  const { tracker } = state;
  const last = { index: tracker.lastIndex(), term: tracker.lastTerm() ?? tracker.marker.term };
  const name = segmentFileName(seq, last.index + 1);
  const header = frameRecords([
    encodeSegmentHeader({ segmentSeq: seq, lastBatch: state.lastBatch, last, marker: tracker.marker, hardState: state.hardState }),
  ]);
  const tmp = join(dir, `${name}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'w+', 0o600);
    writeAllSync(handle.fd, header, 0);
    await handle.sync();
    await rename(tmp, join(dir, name));
  } catch (err) {
    await handle?.close();
    throw ioError(`cannot create WAL segment ${join(dir, name)}`, err);
  }
  await syncDir(dir);
  state.segments.push({ name, seq, maxEntryIndex: 0 });
  return { handle, position: header.length };
}

/**
 * A write into the page cache is a memory copy; done synchronously it spares the event loop
 * a round trip through libuv's thread pool (two cross-thread wake-ups) on every batch. Only
 * the fdatasync after it waits on the disk, and that one stays asynchronous.
 */
function writeAllSync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** The segment files in `dir`, sorted, consecutive; leftover .tmp files are removed. */
async function listSegments(dir: string, warnings: string[]): Promise<SegmentName[]> {
  let files: string[];
  try {
    await mkdir(dir, { recursive: true });
    files = await readdir(dir);
  } catch (err) {
    throw ioError(`cannot read the WAL directory ${dir}`, err);
  }
  const names: SegmentName[] = [];
  for (const file of files) {
    const parsed = parseSegmentName(file);
    if (parsed !== undefined) {
      names.push(parsed);
    } else if (file.endsWith('.tmp')) {
      await removeFile(join(dir, file));
      warnings.push(`WAL ${dir}: removed ${file}, a segment whose creation a crash interrupted`);
    } else {
      warnings.push(`WAL ${dir}: ignoring ${file}, which is not a WAL segment`);
    }
  }
  names.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < names.length; i++) {
    if (names[i]!.seq !== names[i - 1]!.seq + 1) {
      throw corruptAt(join(dir, names[i]!.name), 0, `segment ${names[i - 1]!.seq + 1} before this one is missing`);
    }
  }
  return names;
}
