// Joins the requests a client sends in one event-loop turn into one JSON-RPC batch frame.
// Under load the replies to many requests arrive together, and their callers send the next
// requests in the same turn; one frame for all of them is one frame for the member to read and
// one reply to write, not dozens (a put's CPU on the client and on the member both went down).
//
// A batch is answered once every request in it is done (API.md), so only requests that are
// answered promptly are joined: reads and writes of keys. A wait, a watch, a recipe that may
// block (a lock) or a cluster change goes in its own frame, and a joined frame stays small.
import type { BatchedSender } from '../core/net/batched-send.js';

/** Methods whose answer does not wait on anything but the log: safe to answer together. */
const JOINABLE = new Set(['kv.get', 'kv.set', 'kv.create', 'kv.delete', 'kv.txn']);

/**
 * A joined frame stays under this many characters (at most 3 bytes each in UTF-8: well under
 * the member's default --max-request-bytes of 1.5 MiB, which it applies per request anyway)
 * and this many requests.
 */
export const MAX_BATCH_CHARS = 32 * 1024;
export const MAX_BATCH_REQUESTS = 128;

export class RequestBatcher {
  private frames: string[] = [];
  private chars = 0;
  private scheduled = false;

  constructor(private readonly out: BatchedSender, private readonly isOpen: () => boolean) {}

  /** Sends one request's frame: joined with the others of this turn when its method allows. */
  send(method: string, frame: string): void {
    if (!JOINABLE.has(method)) {
      // Frames leave in the order they were sent.
      this.flush();
      this.out.send(frame);
      return;
    }
    if (this.frames.length >= MAX_BATCH_REQUESTS || this.chars + frame.length > MAX_BATCH_CHARS) this.flush();
    this.frames.push(frame);
    this.chars += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.endOfTurn());
    }
  }

  /** Sends what was joined so far: one request as itself, more as one batch. */
  flush(): void {
    const frames = this.frames;
    if (frames.length === 0) return;
    this.frames = [];
    this.chars = 0;
    if (!this.isOpen()) return; // The connection failed every pending request already.
    this.out.send(frames.length === 1 ? frames[0]! : `[${frames.join(',')}]`);
  }

  private endOfTurn(): void {
    this.scheduled = false;
    this.flush();
    // Sent after the sender's own end of turn was scheduled: hand it to the kernel now.
    this.out.flush();
  }
}
