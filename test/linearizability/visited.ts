// The search's memo (Lowe's improvement to Wing–Gong): every configuration it has reached, as
// (set of linearized ops, model state). Reaching one again cannot lead anywhere new.
//
// Beyond Porcupine, which needs exact equality, a configuration is also pruned when it is
// dominated: same definite ops, same state, and a superset of the unknown ops of one already
// reached. Sound because an unknown op never has to be linearized (it returns at +infinity
// and the model accepts it anywhere), so every completion of the larger configuration is a
// completion of the smaller one that simply leaves the extra unknown ops out. Without this,
// refuting a history with k pending unknown ops walks up to 2^k subsets of them.

/** A fixed, well-mixed 32-bit value per op index (Zobrist hashing of the linearized set). */
export function zobrist(op: number): number {
  let x = Math.imul(op + 1, 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

interface Visited {
  /** The linearized ops, definite and unknown. */
  readonly bits: Uint32Array;
  readonly state: number;
}

export class VisitedCache {
  /** Keyed by a hash of the definite ops and the state only, so dominated sets share a bucket. */
  private readonly buckets = new Map<number, Visited[]>();
  size = 0;

  /** @param unknownMask the ops with an unknown output, as a bitset. */
  constructor(private readonly unknownMask: Uint32Array) {}

  /**
   * Records (bits ∪ {op}, state) unless it equals or is dominated by a recorded configuration;
   * says whether it was recorded. `definiteHash` is the Zobrist hash of the definite ops of
   * bits ∪ {op}; bits itself is left unchanged.
   */
  addWith(bits: Uint32Array, definiteHash: number, op: number, state: number): boolean {
    const key = (definiteHash ^ Math.imul(state + 1, 0x27d4eb2d)) >>> 0;
    const word = op >>> 5;
    const mask = 1 << (op & 31);
    const bucket = this.buckets.get(key);
    for (const entry of bucket ?? []) {
      if (entry.state === state && this.dominates(entry.bits, bits, word, mask)) return false;
    }
    const copy = bits.slice();
    copy[word]! |= mask;
    const entry = { bits: copy, state };
    if (bucket === undefined) this.buckets.set(key, [entry]);
    else bucket.push(entry);
    this.size += 1;
    return true;
  }

  /**
   * Whether `stored` ⊆ `bits` ∪ {mask in word}, with the difference made of unknown ops only,
   * read without copying `bits`.
   */
  private dominates(stored: Uint32Array, bits: Uint32Array, word: number, mask: number): boolean {
    for (let w = 0; w < bits.length; w++) {
      const candidate = w === word ? bits[w]! | mask : bits[w]!;
      const old = stored[w]!;
      if ((old & ~candidate) !== 0) return false;
      if ((candidate & ~old & ~this.unknownMask[w]!) !== 0) return false;
    }
    return true;
  }
}
