// The tiny replicated state machine each member applies committed entries to. Its whole
// state is a count and a running digest over (index, entry hash), so two members that
// applied the same entries agree on the digest, and one that diverged anywhere disagrees at
// every later index. Its snapshot is that state, encoded, so an installed snapshot can be
// checked against what other members computed at the same index.
import type { Entry, Index } from '../../core/raft/index.js';
import { entryHash, nextDigest } from './hash.js';

export interface AppliedEntry {
  readonly index: Index;
  readonly hash: number;
  /** The digest after applying this entry. */
  readonly digest: number;
}

interface EncodedState {
  readonly index: Index;
  readonly digest: number;
  readonly writes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class StateMachine {
  appliedIndex: Index = 0;
  digest = 0;
  /** Client writes applied (normal entries with data; no-ops and conf changes excluded). */
  writes = 0;
  /** index → entry hash for everything this incarnation applied. */
  readonly applied = new Map<Index, number>();

  apply(entry: Entry): AppliedEntry {
    const hash = entryHash(entry);
    this.digest = nextDigest(this.digest, entry.index, hash);
    this.appliedIndex = entry.index;
    if (entry.type === 'normal' && entry.data.byteLength > 0) this.writes++;
    this.applied.set(entry.index, hash);
    return { index: entry.index, hash, digest: this.digest };
  }

  snapshotData(): Uint8Array {
    const state: EncodedState = { index: this.appliedIndex, digest: this.digest, writes: this.writes };
    return encoder.encode(JSON.stringify(state));
  }

  /** Rebuilds the state from snapshot data (an empty Uint8Array is the empty state). */
  static restore(data: Uint8Array): StateMachine {
    const sm = new StateMachine();
    if (data.byteLength === 0) return sm;
    const parsed = JSON.parse(decoder.decode(data)) as Partial<EncodedState>;
    if (typeof parsed.index !== 'number' || typeof parsed.digest !== 'number' || typeof parsed.writes !== 'number') {
      throw new Error(`state machine: corrupt snapshot data ${decoder.decode(data)}`);
    }
    sm.appliedIndex = parsed.index;
    sm.digest = parsed.digest;
    sm.writes = parsed.writes;
    return sm;
  }
}
