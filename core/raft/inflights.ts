// The window of append messages sent to one follower but not yet acknowledged, for flow
// control in the Replicate state: bounded both in messages and in entry bytes.

interface Inflight {
  readonly lastIndex: number;
  readonly bytes: number;
}

export class Inflights {
  private readonly queue: Inflight[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(
    readonly maxMessages: number,
    /** 0 means no byte limit. */
    readonly maxBytes: number,
  ) {}

  /** Records an append whose last entry is `lastIndex`; indexes must increase. */
  add(lastIndex: number, bytes: number): void {
    const last = this.queue.at(-1);
    if (this.count() > 0 && last !== undefined && lastIndex <= last.lastIndex) {
      throw new Error(`inflights: index ${lastIndex} does not follow ${last.lastIndex}`);
    }
    if (this.full()) throw new Error('inflights: add while full; check full() before sending');
    this.queue.push({ lastIndex, bytes });
    this.totalBytes += bytes;
  }

  /** Frees every in-flight append up to and including `index` (an acknowledgement). */
  freeLE(index: number): void {
    while (this.head < this.queue.length && this.queue[this.head]!.lastIndex <= index) {
      this.totalBytes -= this.queue[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  full(): boolean {
    return this.count() >= this.maxMessages || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  count(): number {
    return this.queue.length - this.head;
  }

  bytes(): number {
    return this.totalBytes;
  }

  reset(): void {
    this.queue.length = 0;
    this.head = 0;
    this.totalBytes = 0;
  }
}
