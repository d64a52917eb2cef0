// The chaos-phase fault schedule: at seeded intervals, change network conditions, cut
// symmetric or one-way partitions, heal, crash and restart members (at most a minority of
// voters down, except for the occasional crash of everyone), and move leadership around.
import type { NodeId } from '../../core/raft/index.js';
import type { Cluster } from './cluster.js';
import type { Rng } from './rng.js';

type FaultKind = 'conditions' | 'partition' | 'oneWay' | 'heal' | 'crash' | 'restart' | 'crashAll' | 'transfer';

const WEIGHTS: Readonly<Record<FaultKind, number>> = {
  conditions: 2, partition: 1.5, oneWay: 1.5, heal: 2, crash: 2, restart: 3, crashAll: 0.15, transfer: 1,
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
  ) {}

  /** Schedules faults until virtual time `endMs`. */
  start(endMs: number): void {
    const gap = this.rng.int(this.options.minGapMs, this.options.maxGapMs);
    if (this.cluster.now + gap >= endMs) return;
    this.cluster.queue.after(gap, () => {
      this.inject(this.rng.weighted(WEIGHTS));
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
      case 'crash': return this.crashOne();
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

  /** Crashes a member unless that would take down a majority of the voters. */
  private crashOne(): void {
    const up = this.cluster.upMembers().map((m) => m.id);
    if (up.length === 0) return;
    const victim = this.rng.pick(up);
    const voters = this.knownVoters();
    if (voters.includes(victim)) {
      const down = voters.filter((id) => !this.cluster.members.get(id)?.isUp()).length;
      if (down + 1 > Math.floor((voters.length - 1) / 2)) return;
    }
    this.cluster.crash(victim);
  }

  /** Voters of the committed configuration and of the current leader's, together. */
  private knownVoters(): NodeId[] {
    const voters = new Set(this.cluster.committedConf.conf.voters);
    const leader = this.cluster.leader();
    for (const id of leader?.node!.status().confState.voters ?? []) voters.add(id);
    return [...voters].sort();
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
