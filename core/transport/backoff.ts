// Reconnect delays: exponential from reconnectMinMs to reconnectMaxMs, with jitter so that
// members that lost each other at the same moment do not redial in lockstep.

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt: half the exponential step fixed, half random. */
  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    // Stop growing the exponent once the cap is reached, so it never overflows.
    if (step < this.maxMs) this.attempt++;
    return step / 2 + this.random() * (step / 2);
  }

  /** After a success the next failure starts again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }
}
