// When a member snapshots its state machine, and how the encoding shares the event loop.
// Every --snapshot-count applied entries a snapshot of the state as applied then is begun;
// it is encoded in slices of about SLICE_MS, each followed by a pause of SLICE_GAP_MS (the
// store copies on write what the encoder has not reached yet,
// core/store/snapshot-in-progress.ts), then the in-memory log is compacted at that index
// and the file written in the background (snapshot-writer.ts).
//
// Why the pause: every member reaches --snapshot-count at the same index, so all encode at
// once. Encoding back to back (4 ms slices, setImmediate) took each member's whole loop for
// 100-300 ms at 30,000-80,000 keys, and that is where the slowest 1% of puts were (3
// members, 64 in flight, 20 s runs: every put at or above p99 started within 250 ms before a
// snapshot finished). At a quarter of the loop the snapshot takes about four times longer,
// and the puts' p99 went from 66-84 to 54-59 ms (3 runs each, side by side).
//
// A snapshot's bytes live in memory the store writes into again when the second snapshot
// after it begins (core/store/store.ts). By then nothing here holds them: the Raft node
// keeps only the newest snapshot, the writer has finished with both (no snapshot begins
// while one is being written), and a stream to a follower copies what it sends.
import type { RawNode } from '../core/raft/index.js';
import type { Logger } from './log.js';
import type { SnapshotWriter } from './snapshot-writer.js';
import type { StateMachine } from './state-machine.js';

/** How long one slice of snapshot encoding may hold the event loop, and its unit of work. */
const SLICE_MS = 2;
const SLICE_NODES = 250;
/** The pause after each slice: the encoding takes at most about a quarter of the loop. */
const SLICE_GAP_MS = 6;

export interface SnapshotSchedulerDeps {
  readonly node: Pick<RawNode, 'latestSnapshot' | 'compact'>;
  readonly stateMachine: StateMachine;
  readonly writer: SnapshotWriter;
  readonly snapshotCount: number;
  readonly logger: Logger;
  readonly stopped: () => boolean;
}

export class SnapshotScheduler {
  /** The applied index the snapshot being encoded was begun at. */
  private snapshotAt = 0;

  constructor(private readonly deps: SnapshotSchedulerDeps) {}

  /**
   * Call after each Ready: begins a snapshot once --snapshot-count entries were applied since
   * the last one. While one is still being encoded or written, a later Ready tries again.
   */
  maybeBegin(appliedIndex: number): void {
    const { node, writer, snapshotCount, stateMachine: machine } = this.deps;
    const last = node.latestSnapshot()?.metadata.index ?? 0;
    if (appliedIndex - last < snapshotCount || writer.busy || machine.snapshotInProgress) return;
    this.snapshotAt = appliedIndex;
    machine.beginSnapshot();
    setImmediate(() => this.slice());
  }

  /** Encodes for up to SLICE_MS, then pauses; compacts once the snapshot is whole. */
  private slice(): void {
    const machine = this.deps.stateMachine;
    // Stopped, or a snapshot from the leader replaced the state: the next Ready begins anew.
    if (this.deps.stopped() || !machine.snapshotInProgress) return;
    const started = performance.now();
    let data: Uint8Array | undefined;
    while (data === undefined && performance.now() - started < SLICE_MS) data = machine.continueSnapshot(SLICE_NODES);
    if (data === undefined) {
      setTimeout(() => this.slice(), SLICE_GAP_MS);
      return;
    }
    const { node, writer, logger } = this.deps;
    const error = node.compact(this.snapshotAt, data);
    if (error !== undefined) {
      // A snapshot from the leader overtook this one meanwhile; nothing is lost.
      logger.log('warn', `snapshot at ${this.snapshotAt} not used: ${error.message}`);
      return;
    }
    writer.start(node.latestSnapshot()!);
    logger.log('info', `snapshot at ${this.snapshotAt}; log compacted`);
  }
}
