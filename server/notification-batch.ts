// Groups the subscription notifications a connection is sent in one event-loop turn into one
// JSON-RPC batch frame (an array of notifications), for clients that ask for it when they
// connect (/rpc?notifications=batch). A put watched by 100 streams of one connection is then
// one frame, not 100: the per-frame cost on the client (WebSocket framing, a message event,
// a parse call) was the largest part of a 1,000-watcher fan-out. Replies never go into a
// batch (JSON-RPC answers only a batch of requests with an array), and a reply sent after
// notifications leaves after them: the order on the socket is the order of the calls.

/** A batch is written out before it would grow past this many characters. */
export const MAX_BATCH_CHARS = 256 * 1024;

export class NotificationBatcher {
  private pending: string[] = [];
  private chars = 0;

  /** `write` sends one frame; `schedule` runs the end-of-turn flush (setImmediate). */
  constructor(
    private readonly write: (frame: string) => void,
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {}

  /** Queues one notification (a JSON-RPC notification object in JSON) for this turn's frame. */
  add(notification: string): void {
    if (this.pending.length > 0 && this.chars + notification.length > MAX_BATCH_CHARS) this.flush();
    if (this.pending.length === 0) this.schedule(() => this.flush());
    this.pending.push(notification);
    this.chars += notification.length;
  }

  /** Writes what is queued: one notification as itself, several as one array. */
  flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    this.chars = 0;
    this.write(pending.length === 1 ? pending[0]! : `[${pending.join(',')}]`);
  }
}
