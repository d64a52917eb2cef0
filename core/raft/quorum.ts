// Majority arithmetic for one voter set: the commit index a set of match indexes supports,
// and the outcome of an election given the votes so far.
import type { Index, NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/** The highest index that a majority of `voters` has (missing voters count as 0). */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => Index): Index {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[Math.floor(voters.length / 2)]!;
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const majority = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    if (vote === false) rejected++;
  }
  if (voters.length > 0 && granted >= majority) return 'won';
  if (voters.length - rejected < majority) return 'lost';
  return 'pending';
}

export function hasQuorum(voters: readonly NodeId[], isActive: (id: NodeId) => boolean): boolean {
  const active = voters.filter(isActive).length;
  return voters.length > 0 && active >= Math.floor(voters.length / 2) + 1;
}
