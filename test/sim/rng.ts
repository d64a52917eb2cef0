// The simulator's single source of randomness: a thin wrapper over the core's seeded
// generator, so every choice in a run is replayable from the seed. Separate streams are
// forked for the network, disks and workload so that changing how often one of them draws
// does not reshuffle the others (keeps failing seeds stable while the simulator evolves).
import { seededRandom } from '../../core/raft/index.js';

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('rng: pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Chooses a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    const total = keys.reduce((sum, k) => sum + weights[k], 0);
    let roll = this.next() * total;
    for (const key of keys) {
      roll -= weights[key];
      if (roll < 0) return key;
    }
    return keys[keys.length - 1]!;
  }

  /** A fresh independent stream whose seed comes from this one. */
  fork(): Rng {
    return new Rng(this.int(0, 0xffffffff));
  }

  /** A bare generator for RawNode's `random` option. */
  generator(): () => number {
    return seededRandom(this.int(0, 0xffffffff));
  }
}
