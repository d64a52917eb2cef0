// The follower's side of log replication: what an AppendEntries or InstallSnapshot does to
// the log, and what to answer. Pure functions over RaftLog, so each rule of the paper's
// Figure 2 (receiver implementation) is easy to find and to test.
import type { RaftLog } from './log.js';
import type { AppendMessage, SnapshotMessage } from './messages.js';
import type { Index, Term } from './types.js';

/** The content of an appendResponse, before it is addressed. */
export interface AppendOutcome {
  readonly index: Index;
  readonly reject: boolean;
  readonly hintIndex: Index;
  readonly hintTerm: Term;
}

const accepted = (index: Index): AppendOutcome => ({ index, reject: false, hintIndex: 0, hintTerm: 0 });

/** The receiver's side of AppendEntries (paper Figure 2, rules 1–5). */
export function receiveAppend(log: RaftLog, m: AppendMessage): AppendOutcome {
  if (m.prevLogIndex < log.committed) {
    // Everything up to our commit index is known to match; tell the leader where we are.
    return accepted(log.committed);
  }
  const lastNew = log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
  if (lastNew !== undefined) {
    log.commitTo(Math.min(m.commit, lastNew));
    return accepted(lastNew);
  }
  // Fast back-off: suggest the last index whose term is at most the leader's prevLogTerm.
  const hint = log.findConflictByTerm(Math.min(m.prevLogIndex, log.lastIndex()), m.prevLogTerm);
  return { index: m.prevLogIndex, reject: true, hintIndex: hint.index, hintTerm: hint.term };
}

/**
 * The receiver's side of InstallSnapshot (paper §7). Returns the reply and whether the log
 * was replaced by the snapshot.
 */
export function receiveSnapshot(log: RaftLog, m: SnapshotMessage): { outcome: AppendOutcome; restored: boolean } {
  const { index, term } = m.snapshot.metadata;
  // No check that confState lists us: a learner added after the leader's latest snapshot
  // must still install it, then learns of its own addition from the entries that follow.
  if (index <= log.committed) return { outcome: accepted(log.committed), restored: false };
  if (log.matchTerm(index, term)) {
    // We already hold the snapshot's last entry: only the commit index moves.
    log.commitTo(index);
    return { outcome: accepted(log.committed), restored: false };
  }
  log.restore(m.snapshot);
  return { outcome: accepted(log.lastIndex()), restored: true };
}
