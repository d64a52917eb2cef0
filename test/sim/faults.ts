// The chaos-phase fault schedule: at seeded intervals, change network conditions, cut
// symmetric or one-way partitions, heal, crash and restart members (at most a minority of
// voters down, except for the occasional crash of everyone), and move leadership around.
// It holds off while a leader-churn episode (churn.ts) runs: that one needs the network
// exactly as it set it.
import type { NodeId } from '../../core/raft/index.js';
import type { Cluster } from './cluster.js';
import type { Rng } from './rng.js';

type FaultKind =
  | 'conditions' | 'partition' | 'oneWay' | 'heal' | 'crash' | 'crashMidWrite' | 'restart' | 'crashAll' | 'transfer';

const WEIGHTS: Readonly<Record<FaultKind, number>> = {
  conditions: 2, partition: 1.5, oneWay: 1.5, heal: 2, crash: 1.5, crashMidWrite: 2, restart: 3, crashAll: 0.15, transfer: 1,
};

export interface FaultOptions {
  readonly minGapMs: number;
  readonly maxGapMs: number;
}

export class Faults {
  constructor(
    private readonly cluster: Cluster,
    private readonly rng: Rng,
    private readonly options: FaultOptions,
    /** True while a leader-churn episode owns the network (churn.ts): no random faults then. */
    private readonly paused: () => boolean = () => false,
  ) {}

  /** Schedules faults until virtual time `endMs`. */
  start(endMs: number): void {
    const gap = this.rng.int(this.options.minGapMs, this.options.maxGapMs);
    if (this.cluster.now + gap >= endMs) return;
    this.cluster.queue.after(gap, () => {
      const kind = this.rng.weighted(WEIGHTS);
      if (!this.paused()) this.inject(kind);
      this.start(endMs);
    });
  }

  inject(kind: FaultKind): void {
    switch (kind) {
      case 'conditions': return this.changeConditions();
      case 'partition': return this.partition();
      case 'oneWay': return this.oneWay();
      case 'heal':
        this.cluster.network.heal();
        return this.cluster.record('network healed');
      case 'crash':
        this.crashOne(this.cluster.upMembers().map((m) => m.id));
        return;
      case 'crashMidWrite': return this.crashMidWrite();
      case 'restart': return this.restartOne();
      case 'crashAll': return this.crashAll();
      case 'transfer': return this.transfer();
    }
  }

  private changeConditions(): void {
    const rng = this.rng;
    const minDelayMs = rng.int(0, 5);
    const conditions = {
      lossRate: rng.pick([0, 0, 0.01, 0.05, 0.2]),
      duplicateRate: rng.pick([0, 0.01, 0.05, 0.1]),
      minDelayMs,
      maxDelayMs: minDelayMs + rng.pick([1, 5, 20, 60]),
    };
    this.cluster.network.conditions = conditions;
    this.cluster.record(`network loss=${conditions.lossRate} dup=${conditions.duplicateRate} delay=${minDelayMs}..${conditions.maxDelayMs}ms`);
  }

  /** Members that exist and were not removed for good, sorted. */
  private candidates(): NodeId[] {
    return this.cluster.ids().filter((id) => !this.cluster.member(id).retired);
  }

  private partition(): void {
    const ids = this.candidates();
    if (ids.length < 2) return;
    const side = ids.filter(() => this.rng.chance(0.5));
    if (side.length === 0 || side.length === ids.length) return;
    const rest = ids.filter((id) => !side.includes(id));
    this.cluster.network.partition(side, rest);
    this.cluster.record(`partition {${side.join(',')}} | {${rest.join(',')}}`);
  }

  private oneWay(): void {
    const ids = this.candidates();
    if (ids.length < 2) return;
    const from = this.rng.pick(ids);
    const to = this.rng.pick(ids.filter((id) => id !== from));
    this.cluster.network.blockOneWay(from, to);
    this.cluster.record(`one-way partition ${from}->${to} dropped`);
  }

  /** Crashes one of `choices` unless that would take down a majority of the voters. */
  private crashOne(choices: readonly NodeId[]): NodeId | undefined {
    if (choices.length === 0) return undefined;
    const victim = this.rng.pick(choices);
    if (!this.cluster.mayCrash(victim)) return undefined;
    this.cluster.crash(victim);
    return victim;
  }

  /**
   * Crashes a member whose disk holds unsynced writes (a vote, acknowledged entries) and
   * brings it back soon, while the election or replication that saw them is still going:
   * the window in which acting before persisting would break safety.
   */
  private crashMidWrite(): void {
    const writing = this.cluster.upMembers().filter((m) => m.disk.pending() > 0).map((m) => m.id);
    const victim = this.crashOne(writing);
    if (victim !== undefined) this.cluster.queue.after(this.rng.int(5, 200), () => this.cluster.start(victim));
  }

  private restartOne(): void {
    const down = this.candidates().filter((id) => !this.cluster.member(id).isUp() && !this.cluster.removed.has(id));
    if (down.length === 0) return;
    this.cluster.start(this.rng.pick(down));
  }

  /** Everyone loses power; each comes back on its own after a while. */
  private crashAll(): void {
    const up = this.cluster.upMembers().map((m) => m.id);
    this.cluster.record(`crash all (${up.join(',')})`);
    for (const id of up) {
      this.cluster.crash(id);
      this.cluster.queue.after(this.rng.int(50, 1500), () => this.cluster.start(id));
    }
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const others = leader.node!.status().confState.voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    this.cluster.transferLeadership(leader.id, this.rng.pick(others));
  }
}
