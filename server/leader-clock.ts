// The log's clock. Only the leader reads its wall clock for TTLs, and only to propose it:
// right after each election a `leader` entry (every deadline is pushed to at least that time
// plus the key's TTL, API.md), then `time` entries whenever a key's deadline has passed, so
// expiry is decided at one log index, the same on every member. etcd proposes its clock every
// 500 ms unconditionally; proposing only when something is due keeps an idle log still.
import { newRequestId } from './request-id.js';
import type { Command } from './state-machine.js';

export const CLOCK_INTERVAL_MS = 500;

/** What the clock needs from the member. */
export interface ClockHost {
  /** The current term when this member leads, else undefined. */
  leaderTerm(): number | undefined;
  /** The earliest TTL deadline in the applied store, or null. */
  nextDeadline(): number | null;
  propose(command: Command): Promise<unknown>;
  onError(message: string): void;
}

export class LeaderClock {
  /** The term whose `leader` entry has been applied: time entries wait for it. */
  private extendedTerm = -1;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: ClockHost, private readonly now: () => number = Date.now) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), CLOCK_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called on every tick and right after this member becomes leader. */
  tick(): void {
    const term = this.host.leaderTerm();
    if (term === undefined || this.inFlight) return;
    if (this.extendedTerm !== term) {
      this.send({ requestId: newRequestId(), op: 'leader', at: this.now() }, () => { this.extendedTerm = term; });
      return;
    }
    const due = this.host.nextDeadline();
    if (due !== null && due <= this.now()) this.send({ requestId: newRequestId(), op: 'time', at: this.now() }, () => {});
  }

  private send(command: Command, onApplied: () => void): void {
    this.inFlight = true;
    this.host.propose(command).then(onApplied, (error: Error) => {
      this.host.onError(`could not propose the clock (${command.op}): ${error.message}; retrying`);
    }).finally(() => { this.inFlight = false; });
  }
}
