// The simulated network between members: seeded delay (which also reorders), loss,
// duplication, symmetric partitions and one-way partitions. Messages are never copied and
// never mutated: the core treats them as immutable, and so does every hop here, which is
// what makes delivering one object twice (duplication) safe.
import type { Message, NodeId } from '../../core/raft/index.js';
import type { EventQueue } from './clock.js';
import type { Rng } from './rng.js';

export interface NetworkConditions {
  /** Probability that a message is silently lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  readonly duplicateRate: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const CALM_NETWORK: NetworkConditions = { lossRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 3 };

export type DropReason = 'loss' | 'partition' | 'down';

/** What the network needs from the cluster: a way to hand over and to report losses. */
export interface NetworkHost {
  /** Delivers `m` to its recipient; false when the recipient is down or unknown. */
  deliver(m: Message): boolean;
  /** A message will never arrive (the transport would notice for snapshots). */
  dropped(m: Message, reason: DropReason): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

export class Network {
  conditions: NetworkConditions = CALM_NETWORK;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** Directed links that drop everything, as "from>to". */
  private readonly blocked = new Set<string>();

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Rng,
    private readonly host: NetworkHost,
  ) {}

  send(m: Message): void {
    this.stats.sent++;
    if (this.isBlocked(m.from, m.to)) return this.drop(m, 'partition');
    if (this.rng.chance(this.conditions.lossRate)) return this.drop(m, 'loss');
    this.schedule(m);
    if (this.rng.chance(this.conditions.duplicateRate)) {
      this.stats.duplicated++;
      this.schedule(m);
    }
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.blocked.add(`${a}>${b}`);
        this.blocked.add(`${b}>${a}`);
      }
    }
  }

  /** Drops from→to while to→from still flows. */
  blockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** The blocked links, sorted, for the trace. */
  describeBlocked(): string {
    return [...this.blocked].sort().join(' ') || 'none';
  }

  private schedule(m: Message): void {
    const { minDelayMs, maxDelayMs } = this.conditions;
    this.queue.after(this.rng.int(minDelayMs, maxDelayMs), () => this.arrive(m));
  }

  /** A partition that starts while a message is in flight also eats it. */
  private arrive(m: Message): void {
    if (this.isBlocked(m.from, m.to)) return this.drop(m, 'partition');
    if (!this.host.deliver(m)) return this.drop(m, 'down');
    this.stats.delivered++;
  }

  private drop(m: Message, reason: DropReason): void {
    this.stats.dropped++;
    this.host.dropped(m, reason);
  }
}
