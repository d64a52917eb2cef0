// Property tests for majority arithmetic (core/raft/quorum.ts) against a naive oracle over
// seeded random inputs (etcd quorum/quick_test.go, majority_commit.txt, majority_vote.txt),
// plus a few hand-picked cases.
import t from 'tap';
import { committedIndex, hasQuorum, voteResult } from '../../core/raft/quorum.js';
import type { VoteResult } from '../../core/raft/quorum.js';
import { seededRandom } from '../../core/raft/random.js';

/** The largest index that strictly more than half of the voters have reached. */
function naiveCommitted(voters: string[], match: Map<string, number>): number {
  if (voters.length === 0) return 0;
  let best = 0;
  const candidates = new Set([0, ...voters.map((v) => match.get(v) ?? 0)]);
  for (const c of candidates) {
    const reached = voters.filter((v) => (match.get(v) ?? 0) >= c).length;
    if (reached * 2 > voters.length && c > best) best = c;
  }
  return best;
}

function naiveVote(voters: string[], votes: Map<string, boolean>): VoteResult {
  const yes = voters.filter((v) => votes.get(v) === true).length;
  const missing = voters.filter((v) => !votes.has(v)).length;
  if (yes * 2 > voters.length) return 'won';
  if ((yes + missing) * 2 > voters.length) return 'pending';
  return 'lost';
}

function randomVoters(rand: () => number): string[] {
  const n = 1 + Math.floor(rand() * 7);
  return Array.from({ length: n }, (_, i) => `n${i}`);
}

t.test('committedIndex agrees with the naive oracle on 2000 random configurations', async (t) => {
  const rand = seededRandom(7);
  let mismatches = 0;
  for (let i = 0; i < 2000; i++) {
    const voters = randomVoters(rand);
    const match = new Map<string, number>();
    for (const v of voters) if (rand() < 0.85) match.set(v, Math.floor(rand() * 10));
    // Non-voters with large indexes must not count.
    match.set('learner', 1000);
    const got = committedIndex(voters, (id) => match.get(id) ?? 0);
    const want = naiveCommitted(voters, match);
    if (got !== want) {
      mismatches++;
      if (mismatches < 5) t.fail(`voters ${voters} match ${JSON.stringify([...match])}: got ${got}, want ${want}`);
    }
  }
  t.equal(mismatches, 0);
});

t.test('voteResult agrees with the naive oracle on 2000 random vote patterns', async (t) => {
  const rand = seededRandom(11);
  let mismatches = 0;
  for (let i = 0; i < 2000; i++) {
    const voters = randomVoters(rand);
    const votes = new Map<string, boolean>();
    for (const v of voters) {
      const r = rand();
      if (r < 0.4) votes.set(v, true);
      else if (r < 0.75) votes.set(v, false);
    }
    if (rand() < 0.5) votes.set('outsider', true); // a vote from a non-voter never counts
    const got = voteResult(voters, votes);
    const want = naiveVote(voters, votes);
    if (got !== want) {
      mismatches++;
      if (mismatches < 5) t.fail(`voters ${voters} votes ${JSON.stringify([...votes])}: got ${got}, want ${want}`);
    }
  }
  t.equal(mismatches, 0);
});

t.test('hasQuorum agrees with the naive oracle', async (t) => {
  const rand = seededRandom(13);
  for (let i = 0; i < 500; i++) {
    const voters = randomVoters(rand);
    const active = new Set(voters.filter(() => rand() < 0.5));
    const want = active.size * 2 > voters.length;
    if (hasQuorum(voters, (id) => active.has(id)) !== want) {
      t.fail(`voters ${voters} active ${[...active]}`);
      return;
    }
  }
  t.equal(hasQuorum([], () => true), false, 'an empty configuration has no quorum');
});

t.test('hand-picked commit cases (majority_commit.txt)', async (t) => {
  const c = (voters: string[], matches: number[]) => {
    const m = new Map(voters.map((v, i) => [v, matches[i]!]));
    return committedIndex(voters, (id) => m.get(id) ?? 0);
  };
  t.equal(c(['a'], [7]), 7, 'single voter commits its own match');
  t.equal(c(['a', 'b'], [7, 5]), 5, 'two voters need both');
  t.equal(c(['a', 'b', 'c'], [7, 5, 1]), 5);
  t.equal(c(['a', 'b', 'c', 'd'], [7, 5, 5, 1]), 5, 'four voters need three');
  t.equal(c(['a', 'b', 'c', 'd'], [7, 7, 5, 1]), 5);
  t.equal(c(['a', 'b', 'c', 'd', 'e'], [9, 9, 1, 1, 1]), 1, 'two of five is not a majority');
  t.equal(committedIndex([], () => 5), 0, 'empty configuration commits nothing');
});

t.test('hand-picked vote cases (majority_vote.txt, TestLeaderElectionInOneRoundRPC)', async (t) => {
  const v = (n: number, yes: number, no: number): VoteResult => {
    const voters = Array.from({ length: n }, (_, i) => `n${i}`);
    const votes = new Map<string, boolean>();
    voters.forEach((id, i) => {
      if (i < yes) votes.set(id, true);
      else if (i < yes + no) votes.set(id, false);
    });
    return voteResult(voters, votes);
  };
  t.equal(v(1, 1, 0), 'won');
  t.equal(v(3, 2, 0), 'won');
  t.equal(v(3, 1, 0), 'pending');
  t.equal(v(3, 1, 2), 'lost');
  t.equal(v(5, 3, 0), 'won');
  t.equal(v(5, 2, 0), 'pending');
  t.equal(v(5, 2, 2), 'pending');
  t.equal(v(5, 1, 3), 'lost');
  t.equal(v(4, 2, 2), 'lost', 'a tie in an even cluster loses');
  t.equal(v(4, 2, 1), 'pending');
});
