// Coverage marks (TigerBeetle style): counters for dangerous situations the scenario
// generator must keep producing. A checker only catches a bug in a situation the runs
// actually reach; a mark makes "the runs reach it" something a test can assert, so a change
// to the fault schedule that quietly stops producing the situation fails loudly.
//
// The marks here are about the Raft paper's Figure 8: a leader of term T holds an entry of
// an earlier term T' that is not committed yet, and a majority already stores it. Raft must
// not commit it by counting replicas (§5.4.2): if it did, a member holding a different entry
// of a term between T' and T at that index could still be elected and overwrite it.
import type { Index, NodeId, Term } from '../../core/raft/index.js';
import type { LogProbe } from './checker.js';

export type CoverageMark =
  /** A leader's quorum stores an uncommitted entry of an earlier term. */
  | 'oldTermOnMajority'
  /** The same, while another member holds a conflicting entry of a term in between: Figure 8 (d). */
  | 'figure8';

/** What the marks need to know about the leader after a step on it. */
export interface LeaderView {
  readonly term: Term;
  readonly log: LogProbe;
  readonly voters: readonly NodeId[];
  /** Highest index known replicated on each member (the leader's progress). */
  match(id: NodeId): Index;
}

export class Coverage {
  private readonly counts = new Map<CoverageMark, number>();

  hit(mark: CoverageMark): void {
    this.counts.set(mark, (this.counts.get(mark) ?? 0) + 1);
  }

  count(mark: CoverageMark): number {
    return this.counts.get(mark) ?? 0;
  }

  /** Every mark hit so far, sorted, for summaries. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Cheap pre-filter, run after every step on a leader: is its first uncommitted entry from
   * an earlier term? Only then is the (costlier) quorum look worth it.
   */
  static mayBeOldTermWindow(term: Term, log: LogProbe): boolean {
    if (log.committed >= log.lastIndex) return false;
    const next = log.term(log.committed + 1);
    return next !== undefined && next < term;
  }

  /**
   * Marks the Figure 8 window if the leader is in it. `others` are the logs of the other
   * members that are up (a crashed member's disk counts once it is back).
   */
  observeLeader(leader: LeaderView, others: readonly LogProbe[]): void {
    const quorumIndex = quorumMatch(leader);
    let oldTerm = false;
    for (let i = leader.log.committed + 1; i <= quorumIndex; i++) {
      const term = leader.log.term(i);
      if (term === undefined || term >= leader.term) break;
      oldTerm = true;
      if (others.some((log) => holdsNewerConflict(log, i, term, leader.term))) {
        this.hit('oldTermOnMajority');
        this.hit('figure8');
        return;
      }
    }
    if (oldTerm) this.hit('oldTermOnMajority');
  }
}

/** The highest index a majority of the voters is known to store. */
function quorumMatch(leader: LeaderView): Index {
  const matches = leader.voters.map((id) => leader.match(id)).sort((a, b) => b - a);
  return matches[Math.floor(matches.length / 2)] ?? 0;
}

/** Whether `log` has at `index` an entry of a term strictly between `oldTerm` and `leaderTerm`. */
function holdsNewerConflict(log: LogProbe, index: Index, oldTerm: Term, leaderTerm: Term): boolean {
  if (index <= log.snapshotIndex || index > log.lastIndex) return false;
  const term = log.term(index);
  return term !== undefined && term > oldTerm && term < leaderTerm;
}
