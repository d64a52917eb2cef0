// The virtual clock and event queue. Time only moves when the next event is popped, so a
// run is a pure function of its seed. Events at the same virtual millisecond run in the
// order they were scheduled (a sequence number breaks ties), never in heap order.

export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  /** Virtual milliseconds since the start of the run. */
  now = 0;

  /** Runs `run` at virtual time `at` (never in the past). */
  at(at: number, run: () => void): void {
    const event: SimEvent = { time: Math.max(at, this.now), seq: this.seq++, run };
    this.heap.push(event);
    this.siftUp(this.heap.length - 1);
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.now + delayMs, run);
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  size(): number {
    return this.heap.length;
  }

  /** Removes the earliest event and advances the clock to it. */
  pop(): SimEvent | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.now = top.time;
    return top;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i]!, this.heap[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < this.heap.length && before(this.heap[left]!, this.heap[best]!)) best = left;
      if (right < this.heap.length && before(this.heap[right]!, this.heap[best]!)) best = right;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private swap(a: number, b: number): void {
    const tmp = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = tmp;
  }
}
