// A server-pushed stream as an async iterator: notifications are queued (at most
// `maxBuffered`) until the consumer pulls them, and the stream's end (the member's final
// error, a lost connection, an overflow) is reported only after every queued item. Closing
// it, breaking out of `for await` or aborting its signal unsubscribes.
import { ClientErrorCodes, CairnError } from './errors.js';
import type { StreamSink } from './connection.js';
import { abortReason } from './retry.js';

export const MAX_BUFFERED_DEFAULT = 10_000;

export class Subscription<T = unknown> implements AsyncIterableIterator<T>, StreamSink {
  /** The result of the call that started the stream (for kv.watch: `{subscription, index}`). */
  started: unknown = undefined;
  private readonly queue: T[] = [];
  private ended = false;
  /** What next() throws once the queue is drained; undefined for a quiet end. */
  private endError: CairnError | undefined;
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: CairnError): void } | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly removeAbortListener: () => void;

  constructor(
    private readonly what: string,
    private readonly maxBuffered: number = MAX_BUFFERED_DEFAULT,
    signal?: AbortSignal,
  ) {
    const onAbort = (): void => this.stop(abortReason(signal, what));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.removeAbortListener = () => signal?.removeEventListener('abort', onAbort);
  }

  /** Called once the member has accepted the stream; `unsubscribe` ends it there. */
  bind(unsubscribe: () => void): void {
    if (this.ended) {
      unsubscribe();
      return;
    }
    this.unsubscribe = unsubscribe;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  push(result: unknown): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ done: false, value: result as T });
      return;
    }
    if (this.queue.length >= this.maxBuffered) {
      // Dropping silently would leave a gap; ending the stream tells the consumer where
      // its items stop (after the last queued one), so it can subscribe again from there.
      this.stop(new CairnError(
        ClientErrorCodes.Overflow,
        `${this.what}: the consumer fell more than ${this.maxBuffered} items behind; unsubscribed`,
        undefined,
        true,
      ));
      return;
    }
    this.queue.push(result as T);
  }

  /** The stream ended at the member or with its connection (see StreamSink). */
  end(error: CairnError): void {
    if (this.ended) return;
    this.unsubscribe = undefined; // The member has ended it already; nothing to undo.
    this.finish(error.code === ClientErrorCodes.Closed ? undefined : error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ done: false, value: this.queue.shift() as T });
    if (this.ended) {
      const error = this.endError;
      this.endError = undefined;
      return error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** Ends the stream quietly: queued items are dropped and the member is told to stop. */
  close(): void {
    this.queue.length = 0;
    this.stop(undefined);
  }

  /** Ends the stream from this side: unsubscribes, then ends with `error` (if any). */
  private stop(error: CairnError | undefined): void {
    if (this.ended) return;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    unsubscribe?.();
    this.finish(error);
  }

  private finish(error: CairnError | undefined): void {
    this.ended = true;
    this.endError = error;
    this.removeAbortListener();
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    this.endError = undefined;
    if (error === undefined) waiter.resolve({ done: true, value: undefined });
    else waiter.reject(error);
  }
}
