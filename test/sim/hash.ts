// Small non-cryptographic hashes (32-bit FNV-1a and a mixing step) for entry identities,
// state-machine digests and trace digests. They only need to be deterministic and cheap:
// the simulator compares them for equality, never trusts them for security.
import type { Entry } from '../../core/raft/index.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function hashBytes(bytes: Uint8Array, seed: number = FNV_OFFSET): number {
  let h = seed;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

export function hashString(text: string, seed: number = FNV_OFFSET): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Folds a 32-bit value into a running hash, byte by byte so every bit matters. */
export function mix(h: number, value: number): number {
  let out = h;
  let v = value >>> 0;
  for (let i = 0; i < 4; i++) {
    out ^= v & 0xff;
    out = Math.imul(out, FNV_PRIME);
    v >>>= 8;
  }
  return out >>> 0;
}

/**
 * The identity of an entry's content: its term, type and data. Two entries at the same index
 * with different hashes are different entries, which is what the safety checks compare.
 */
export function entryHash(entry: Entry): number {
  let h = mix(FNV_OFFSET, entry.term);
  h = mix(h, entry.type === 'normal' ? 1 : 2);
  return hashBytes(entry.data, h);
}

/** The running state-machine digest after applying the entry at `index` with `hash`. */
export function nextDigest(digest: number, index: number, hash: number): number {
  return mix(mix(digest, index), hash);
}

export function hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
