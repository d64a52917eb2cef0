// Server-pushed streams of one client connection (API.md: `subscription` notifications,
// `unsubscribe`, a final notification carrying an error). A subscription holds what it must
// send until the reply that created it has gone out, so a client always learns the
// subscription id before its first notification. Memory is bounded: a connection whose
// socket has more than `maxBufferedBytes` unsent is a slow consumer, and the stream that finds
// it so is told to end (the caller ends it with 401 and the index to re-read from).
import { nanoid } from 'nanoid';
import type { ErrorObject, SubscriptionParams } from '../core/api/types.js';
import { MemberError } from './errors.js';
import { subscriptionNotice } from './notification-batch.js';

/** The socket side of a connection, as the streams see it. */
export interface StreamOutput {
  send(text: string): void;
  /** Sends a notification; it may share a frame with others of the same turn. */
  notify(text: string): void;
  /** Sends `resultJson` to stream `id`; the same result to several streams may share a notification. */
  notifyResult(id: string, resultJson: string): void;
  /** Bytes queued on the socket and not yet written out. */
  bufferedAmount(): number;
}

export type PushOutcome = 'sent' | 'slow' | 'closed';

export class Subscription {
  private held: string[] | null = [];
  private closed = false;
  private ending = false;
  /** Cleanup run once when the stream ends for any reason (set by whoever opened it). */
  onClose: () => void = () => {};

  constructor(
    readonly id: string,
    private readonly out: StreamOutput,
    private readonly maxBufferedBytes: number,
    private readonly forget: (id: string) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues or sends one `result`; 'slow' means the consumer is too far behind: end the stream. */
  push(result: unknown): PushOutcome {
    return this.pushJson(JSON.stringify(result));
  }

  /**
   * push() for a result already in JSON: one event goes to every watcher of a key, so it is
   * serialized once per member, not once per watcher (1,000 watchers on one key).
   */
  pushJson(resultJson: string): PushOutcome {
    if (this.closed || this.ending) return 'closed';
    if (this.held !== null) {
      this.held.push(subscriptionNotice(this.id, resultJson));
      return 'sent';
    }
    if (this.out.bufferedAmount() > this.maxBufferedBytes) return 'slow';
    this.out.notifyResult(this.id, resultJson);
    return 'sent';
  }

  /** Ends the stream from the server side with a last notification carrying `error`. */
  end(error: ErrorObject): void {
    if (this.closed || this.ending) return;
    const frame = this.frame({ subscription: this.id, error });
    if (this.held !== null) {
      // Still held: the error goes out after the creating reply, then the stream closes.
      this.held.push(frame);
      this.ending = true;
      return;
    }
    this.out.notify(frame);
    this.close();
  }

  /** Ends the stream silently (unsubscribe, socket closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = null;
    this.forget(this.id);
    this.onClose();
  }

  /** Sends what was held back while the creating reply was on its way. */
  activate(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    for (const frame of held) this.out.notify(frame);
    if (this.ending) this.close();
  }

  private frame(params: SubscriptionParams): string {
    return JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params });
  }
}

/** What a request handler may do with its connection's streams. */
export interface SubscriptionOpener {
  open(): Subscription;
  unsubscribe(id: string): boolean;
}

/** Every subscription of one connection, with the per-connection limit. */
export class SubscriptionSet implements SubscriptionOpener {
  private readonly byId = new Map<string, Subscription>();

  constructor(
    private readonly out: StreamOutput,
    private readonly maxSubscriptions: number,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** A new, held-back subscription; throws when the connection already has its limit. */
  open(): Subscription {
    if (this.byId.size >= this.maxSubscriptions) {
      throw new MemberError(-32000, `this connection already has ${this.maxSubscriptions} subscriptions (--max-subscriptions-per-connection); unsubscribe some or open another connection`, true, { cause: 'subscription limit' });
    }
    const sub = new Subscription(nanoid(), this.out, this.maxBufferedBytes, (id) => this.byId.delete(id));
    this.byId.set(sub.id, sub);
    return sub;
  }

  /** Client-side end; false when no such subscription is open on this connection. */
  unsubscribe(id: string): boolean {
    const sub = this.byId.get(id);
    if (sub === undefined) return false;
    sub.close();
    return true;
  }

  closeAll(): void {
    for (const sub of [...this.byId.values()]) sub.close();
  }
}
