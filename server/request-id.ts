// Ids that tie a proposal (or a ReadIndex round) to the entry or read state that answers it.
// Every member looks up the ids of the entries it applies among its own waiting proposals,
// so an id must never come from two members or two runs of one: a random prefix per process
// (72 bits), then a counter. A fresh nanoid per put cost about 0.75 µs and a 21-piece string
// that had to be flattened before it was encoded; this is a few nanoseconds.
import { nanoid } from 'nanoid';

const PROCESS_PREFIX = nanoid(12);
let issued = 0;

/** A new id, unique across the cluster's members and their restarts. */
export function newRequestId(): string {
  issued++;
  return PROCESS_PREFIX + issued.toString(36);
}
