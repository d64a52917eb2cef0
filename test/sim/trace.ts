// The record of a run: every simulation step becomes one short line. Lines fold into a
// running digest (two runs of one seed must produce the same digest), the last few are kept
// for the failure report, and with --verbose every line is printed as it happens.
import type { Message } from '../../core/raft/index.js';
import { hashString, hex } from './hash.js';

export type TraceSink = (line: string) => void;

export class Trace {
  private digest = 0x811c9dc5;
  private readonly ring: string[] = [];
  private ringNext = 0;
  lines = 0;

  constructor(
    private readonly sink: TraceSink | undefined,
    private readonly keep = 400,
  ) {}

  record(time: number, step: number, text: string): void {
    const line = `${String(time).padStart(6)}ms #${step} ${text}`;
    this.digest = hashString(line, this.digest);
    this.lines++;
    if (this.ring.length < this.keep) this.ring.push(line);
    else this.ring[this.ringNext] = line;
    this.ringNext = (this.ringNext + 1) % this.keep;
    this.sink?.(line);
  }

  /** Hex digest of every line recorded so far. */
  digestHex(): string {
    return hex(this.digest);
  }

  /** The last lines recorded, oldest first. */
  tail(count: number = this.keep): string[] {
    const ordered = this.ring.length < this.keep
      ? this.ring.slice()
      : [...this.ring.slice(this.ringNext), ...this.ring.slice(0, this.ringNext)];
    return ordered.slice(-count);
  }
}

/** A one-line summary of a message for the trace. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append': {
      const last = m.entries.at(-1);
      const span = last === undefined ? '' : ` [${m.entries[0]!.index}..${last.index}]`;
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm}${span} c=${m.commit}`;
    }
    case 'appendResponse':
      return `${head} ${m.reject ? 'reject' : 'ok'} i=${m.index} hint=${m.hintIndex}/${m.hintTerm}`;
    case 'heartbeat':
      return `${head} c=${m.commit} ctx=${m.context}`;
    case 'heartbeatResponse':
      return `${head} ctx=${m.context}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${m.reject ? 'reject' : 'grant'}`;
    case 'snapshot':
      return `${head} snap=${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`;
    case 'propose':
      return `${head} n=${m.entries.length}`;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResponse':
      return `${head} i=${m.index} ctx=${m.context}`;
    case 'timeoutNow':
      return head;
  }
}
