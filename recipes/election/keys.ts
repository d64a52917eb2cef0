// The election's key layout (API.md "Leader election") and the pure reading of it: one
// in-order key per candidate under /cairn/election/<name>/, each holding
// {"candidate","value","ttl"} and carrying that TTL. The leader is the live candidate key with
// the lowest createdIndex, and its token is that createdIndex. Because in-order keys are named
// after the index of the write that made them, a key created later always sorts after every
// key alive now: once a key is the lowest it stays the lowest until it is gone, so successive
// leaders' tokens strictly increase.
import type { NodeView } from '../../core/store/index.js';
import type { Store } from '../../core/store/index.js';
import { StoreError } from '../../core/store/index.js';

export const ELECTION_ROOT = '/cairn/election';
export const DEFAULT_TTL_SECONDS = 10;
/** An in-order key's last segment: the index of the write that made it, zero-padded. */
const IN_ORDER_NAME = /\/(\d{20})$/;

/** One live candidacy, as read from its key. */
export interface Candidate {
  readonly key: string;
  /** The key's createdIndex: the fencing token once this candidate leads. */
  readonly token: number;
  readonly modifiedIndex: number;
  readonly candidate: string;
  readonly value: string;
  readonly ttl: number;
  readonly expiration?: string;
}

/** What election.leader answers and election.observe streams. */
export interface LeaderView {
  readonly candidate: string;
  readonly value: string;
  readonly token: number;
  readonly expiration?: string;
}

export function electionDir(name: string): string {
  return `${ELECTION_ROOT}/${name}`;
}

/** The key of the candidacy whose token (createdIndex) is `token`. */
export function candidateKey(name: string, token: number): string {
  return `${electionDir(name)}/${String(token).padStart(20, '0')}`;
}

export function encodeCandidate(candidate: string, value: string, ttl: number): string {
  return JSON.stringify({ candidate, value, ttl });
}

/** A candidate from its node; an in-order key with a foreign value still holds its place. */
export function candidateOf(node: NodeView): Candidate | undefined {
  // A key whose name is not its own createdIndex was not made by kv.create: no candidacy.
  const named = IN_ORDER_NAME.exec(node.key);
  if (node.dir === true || named === null || Number(named[1]) !== node.createdIndex) return undefined;
  let fields: { candidate?: unknown; value?: unknown; ttl?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(node.value ?? '');
    if (typeof parsed === 'object' && parsed !== null) fields = parsed;
  } catch {
    // Not written by this recipe: it still holds its place in the queue.
  }
  const ttl = typeof fields.ttl === 'number' && Number.isSafeInteger(fields.ttl) && fields.ttl > 0 ? fields.ttl : DEFAULT_TTL_SECONDS;
  return {
    key: node.key,
    token: node.createdIndex,
    modifiedIndex: node.modifiedIndex,
    candidate: typeof fields.candidate === 'string' ? fields.candidate : '',
    value: typeof fields.value === 'string' ? fields.value : (node.value ?? ''),
    ttl,
    ...(node.expiration === undefined ? {} : { expiration: node.expiration }),
  };
}

/**
 * The live candidates of an election in queue order (lowest createdIndex first), from this
 * member's applied store. Keys are present until their expiry is applied from the log, so
 * "live" here is what the log says, not this member's clock.
 */
export function readCandidates(store: Store, name: string): Candidate[] {
  let nodes: NodeView[];
  try {
    // The wall clock only renders `ttl`/`expiration` for the reader.
    nodes = store.get(electionDir(name), {}, Date.now()).node.nodes ?? [];
  } catch (error) {
    if (error instanceof StoreError && (error.code === 100 || error.code === 104)) return [];
    throw error;
  }
  const candidates: Candidate[] = [];
  for (const node of nodes) {
    const c = candidateOf(node);
    if (c !== undefined) candidates.push(c);
  }
  return candidates.sort((a, b) => a.token - b.token);
}

export function leaderView(c: Candidate | undefined, withExpiration = true): LeaderView | null {
  if (c === undefined) return null;
  const view = { candidate: c.candidate, value: c.value, token: c.token };
  return withExpiration && c.expiration !== undefined ? { ...view, expiration: c.expiration } : view;
}
