// One member's simulated disk. A Ready's writes are issued at once but become durable only
// when their sync completes, after a seeded latency; syncs complete in issue order (one
// write-ahead log). A crash loses every write not yet synced, which is exactly the window
// in which a member that acts before its state is durable would break safety.
import type { Entry, HardState, Index, PersistedState, Snapshot } from '../../core/raft/index.js';
import { EMPTY_HARD_STATE } from '../../core/raft/index.js';
import type { EventQueue } from './clock.js';
import type { Rng } from './rng.js';

export interface DiskWrite {
  readonly snapshot?: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState | undefined;
}

export interface DiskLatency {
  /** Latency of an fsync, in virtual ms. */
  readonly minSyncMs: number;
  readonly maxSyncMs: number;
  /** Probability of an occasional very slow sync (a stalled disk). */
  readonly stallRate: number;
  readonly stallMs: number;
}

export class Disk {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snapshot: Snapshot | undefined;
  /** Durable entries after the snapshot, contiguous. */
  private entries: Entry[] = [];
  /** Bumped by a crash: completions of writes issued before it are void. */
  private generation = 0;
  private lastCompletion = 0;
  private pendingWrites = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Rng,
    private readonly latency: DiskLatency,
    /**
     * Consulted as a sync is about to complete; true means power was lost first. It is told
     * whether the write changes the term or vote, the writes a crash is most telling on.
     */
    private readonly interrupted: (changesVote: boolean) => boolean = () => false,
  ) {}

  /** Issues a write; `onDurable` runs once it is synced, unless a crash intervenes. */
  issue(write: DiskWrite, mustSync: boolean, onDurable: () => void): void {
    const generation = this.generation;
    const done = Math.max(this.lastCompletion, this.queue.now + this.syncDelay(mustSync));
    this.lastCompletion = done;
    this.pendingWrites++;
    this.queue.at(done, () => {
      if (generation !== this.generation || this.interrupted(this.changesVote(write))) return;
      this.pendingWrites--;
      this.apply(write);
      onDurable();
    });
  }

  /** The disk stops until `untilMs`: every sync issued from now on completes no earlier. */
  stall(untilMs: number): void {
    this.lastCompletion = Math.max(this.lastCompletion, untilMs);
  }

  /** Loses every write still in the page cache. */
  crash(): void {
    this.generation++;
    this.pendingWrites = 0;
  }

  pending(): number {
    return this.pendingWrites;
  }

  isEmpty(): boolean {
    return this.snapshot === undefined && this.entries.length === 0 && this.hardState.term === 0;
  }

  /** What a restarting member reads back: only what was synced. */
  durableState(): PersistedState {
    const base = { hardState: this.hardState, entries: this.entries.slice() };
    return this.snapshot === undefined ? base : { ...base, snapshot: this.snapshot };
  }

  private changesVote(write: DiskWrite): boolean {
    const hs = write.hardState;
    return hs !== undefined && (hs.term !== this.hardState.term || hs.vote !== this.hardState.vote);
  }

  private syncDelay(mustSync: boolean): number {
    if (!mustSync) return 0;
    if (this.rng.chance(this.latency.stallRate)) return this.latency.stallMs;
    return this.rng.int(this.latency.minSyncMs, this.latency.maxSyncMs);
  }

  /** Persisting rules of the API doc: snapshot first, then cut-and-append, then hard state. */
  private apply(write: DiskWrite): void {
    if (write.snapshot !== undefined) this.applySnapshot(write.snapshot);
    if (write.entries.length > 0) this.appendEntries(write.entries);
    if (write.hardState !== undefined) this.hardState = write.hardState;
  }

  /**
   * A snapshot replaces the entries up to its index. Later entries survive only if the log
   * agreed with the snapshot at its index; otherwise they continue a different history.
   */
  private applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.snapshotIndex()) return;
    const agrees = this.termAt(index) === term;
    this.entries = agrees ? this.entries.filter((e) => e.index > index) : [];
    this.snapshot = snapshot;
  }

  private appendEntries(entries: readonly Entry[]): void {
    const fresh = entries.filter((e) => e.index > this.snapshotIndex());
    if (fresh.length === 0) return;
    const keep = fresh[0]!.index - this.snapshotIndex() - 1;
    if (keep > this.entries.length) {
      throw new Error(`disk: append at ${fresh[0]!.index} leaves a gap after ${this.lastIndex()}`);
    }
    this.entries.length = keep;
    this.entries.push(...fresh);
  }

  private snapshotIndex(): Index {
    return this.snapshot?.metadata.index ?? 0;
  }

  private lastIndex(): Index {
    return this.snapshotIndex() + this.entries.length;
  }

  private termAt(index: Index): number | undefined {
    if (index === this.snapshotIndex()) return this.snapshot?.metadata.term ?? 0;
    return this.entries[index - this.snapshotIndex() - 1]?.term;
  }
}
