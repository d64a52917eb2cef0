// Writes the member's own snapshots to disk while the Ready loop goes on. Taking a snapshot
// (encoding the state, compacting the in-memory log) stays in the loop, because it must see
// the state at exactly the applied index. Writing it out need not: until the new snapshot is
// durable and its marker is in the WAL, the WAL still holds every entry since the previous
// snapshot, so a crash in between recovers from the previous snapshot plus the log, as
// before. Written inside the loop, the file's write and fsync stalled every request for
// 30–330 ms each time (3 members, 10,000–50,000 keys of 256 B; BENCHMARKS.md).
import type { Snapshot } from '../core/raft/index.js';
import type { SnapshotStore, Wal } from '../core/storage/index.js';

/** What the writer needs of the snapshot store and the WAL (narrow, so tests can fake them). */
export type SnapshotFiles = Pick<SnapshotStore, 'save'>;
export type SnapshotLog = Pick<Wal, 'saveSnapshotMarker' | 'releaseTo'>;

export class SnapshotWriter {
  private writing: Promise<void> | undefined;

  /**
   * `previousIndex` is the newest snapshot on disk at start: the WAL is kept back to the
   * snapshot before the newest, so that a damaged newest snapshot can be passed over.
   * `onFailure` gets a failed write; the member must stop, as for any failed WAL write.
   */
  constructor(
    private readonly snapshots: SnapshotFiles,
    private readonly wal: SnapshotLog,
    private previousIndex: number,
    private readonly onFailure: (error: Error) => void,
  ) {}

  /** A snapshot is being written; take the next one after it is done. */
  get busy(): boolean {
    return this.writing !== undefined;
  }

  /** Starts writing `snapshot` out: the file, then its WAL marker, then the WAL it frees. */
  start(snapshot: Snapshot): void {
    if (this.writing !== undefined) {
      throw new Error(`SnapshotWriter.start(${snapshot.metadata.index}): a snapshot is still being written; check busy first`);
    }
    this.writing = this.write(snapshot)
      .catch((error: Error) => this.onFailure(error))
      .finally(() => {
        this.writing = undefined;
      });
  }

  /**
   * Resolves once no snapshot is being written. Await it before saving a snapshot received
   * from the leader (markers must go into the WAL in index order) and before closing the WAL.
   */
  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  private async write(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    await this.snapshots.save(snapshot);
    await this.wal.saveSnapshotMarker(index, term);
    await this.wal.releaseTo(this.previousIndex);
    this.previousIndex = index;
  }
}
