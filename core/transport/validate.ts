// The checks across fields that a well-formed message from a correct peer always passes.
// The Raft core trusts what it is given (a term-0 append would skip its term check; a gap
// in an append's entries would corrupt the log), so the transport refuses such a frame
// instead of handing it over. Field-level checks (safe integers, lengths) are in codec.ts.
import { assertNever, decodeConfChange } from '../raft/index.js';
import type { ConfState, Entry, Message } from '../raft/index.js';
import { badFrame } from './errors.js';

export function validateMessage(m: Message): void {
  if (m.from === m.to) throw badFrame(`from and to are both ${JSON.stringify(m.from)}`);
  switch (m.type) {
    case 'append':
      requireTerm(m.term);
      if (m.prevLogTerm > m.term) throw badFrame(`prevLogTerm ${m.prevLogTerm} is after the message term ${m.term}`);
      checkAppendedEntries(m.entries, m.prevLogIndex, m.prevLogTerm, m.term);
      break;
    case 'heartbeat':
    case 'vote':
    case 'preVote':
    case 'timeoutNow':
      // Sent only by a leader or candidate, which always has a term: a 0 here would read as
      // "no term" to the receiver and bypass its stale-term check.
      requireTerm(m.term);
      break;
    case 'snapshot':
      requireTerm(m.term);
      checkSnapshotMetadata(m.snapshot.metadata.index, m.snapshot.metadata.term, m.term, m.snapshot.metadata.confState);
      break;
    case 'propose':
      for (const e of m.entries) checkEntryData(e);
      break;
    case 'appendResponse':
    case 'heartbeatResponse':
    case 'voteResponse':
    case 'preVoteResponse':
    case 'readIndex':
    case 'readIndexResponse':
      // A member that has just joined answers with term 0; nothing to check across fields.
      break;
    default:
      assertNever(m);
  }
}

function requireTerm(term: number): void {
  if (term === 0) throw badFrame('term 0 on a message that must carry a term');
}

/** An append carries a contiguous run of the leader's log right after prevLogIndex. */
function checkAppendedEntries(entries: readonly Entry[], prevLogIndex: number, prevLogTerm: number, term: number): void {
  let lastTerm = prevLogTerm;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.index !== prevLogIndex + 1 + i) {
      throw badFrame(`entry ${i} has index ${e.index}, expected ${prevLogIndex + 1 + i} (contiguous after prevLogIndex)`);
    }
    if (e.term < lastTerm || e.term > term) {
      throw badFrame(`entry ${i} has term ${e.term}, outside ${lastTerm}..${term} (terms never decrease in a log)`);
    }
    lastTerm = e.term;
    checkEntryData(e);
  }
}

/** A confChange entry must decode, or applying it would stop the receiving member. */
function checkEntryData(e: Entry): void {
  if (e.type !== 'confChange') return;
  try {
    decodeConfChange(e.data);
  } catch {
    throw badFrame(`entry ${e.index} is a confChange whose data does not decode`);
  }
}

function checkSnapshotMetadata(index: number, snapshotTerm: number, term: number, conf: ConfState): void {
  if (index === 0 || snapshotTerm === 0) throw badFrame(`snapshot at index ${index} term ${snapshotTerm}: both must be at least 1`);
  if (snapshotTerm > term) throw badFrame(`snapshot term ${snapshotTerm} is after the message term ${term}`);
  if (conf.voters.length === 0) throw badFrame('snapshot configuration has no voters');
  const seen = new Set<string>();
  for (const id of [...conf.voters, ...conf.learners]) {
    if (seen.has(id)) throw badFrame(`member ${JSON.stringify(id)} appears twice in the snapshot configuration`);
    seen.add(id);
  }
}
