// Linearizable reads share ReadIndex rounds, as etcd's linearizableReadLoop does: at most one
// round is in flight; reads that arrive meanwhile wait together for the next one. A read is
// only ever answered by a round started after it arrived, which is what keeps it
// linearizable; sharing the round saves a heartbeat broadcast (and its replies) per read.

interface Waiter {
  resolve(index: number): void;
  reject(error: unknown): void;
}

export class ReadBatcher {
  private next: Waiter[] = [];
  private running = false;

  /** `issue` starts one ReadIndex round and resolves with its read index once applied here. */
  constructor(private readonly issue: () => Promise<number>) {}

  /** Resolves once everything committed before this call is applied on this member. */
  read(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.running) {
        // Reads of the same event-loop turn (one client frame, many sockets) share the first round.
        this.running = true;
        setImmediate(() => this.startRound());
      }
    });
  }

  private startRound(): void {
    const batch = this.next;
    this.next = [];
    if (batch.length === 0) {
      this.running = false;
      return;
    }
    this.issue().then(
      (index) => { for (const w of batch) w.resolve(index); },
      (error: unknown) => { for (const w of batch) w.reject(error); },
    ).finally(() => this.startRound());
  }
}
