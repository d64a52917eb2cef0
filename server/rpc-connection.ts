// One client WebSocket at /rpc: frames in, replies out, its subscriptions, and its limits.
// Requests in flight are bounded per connection (a request over the limit is refused at once,
// not queued), so one client cannot make the member buffer without bound; streams are
// bounded by the socket's unsent bytes (subscriptions.ts).
import { BatchedSender } from '../core/net/batched-send.js';
import { setMaxListeners } from 'node:events';
import type { WebSocket } from 'ws';
import { NotificationBatcher, subscriptionNotice } from './notification-batch.js';
import type { NotificationMode } from '../core/api/types.js';
import { answerFrame, readFrame, refuseFrame } from './rpc.js';
import type { MemberApi } from './member-api.js';
import { SubscriptionSet } from './subscriptions.js';
import type { Subscription } from './subscriptions.js';

export interface ConnectionLimits {
  readonly maxRequestBytes: number;
  readonly maxInflight: number;
  readonly maxSubscriptions: number;
  readonly maxStreamBufferBytes: number;
}

export interface ConnectionOptions {
  /**
   * The client connected with ?notifications=batch (a turn's notifications share a frame) or
   * ?notifications=grouped (also one notification for a result many streams get); undefined:
   * every notification is a frame of its own.
   */
  readonly notifications: NotificationMode | undefined;
}

export class RpcConnection {
  private inflight = 0;
  private readonly subscriptions: SubscriptionSet;
  private readonly closing = new AbortController();
  private readonly out: BatchedSender;
  private readonly batch: NotificationBatcher | undefined;

  constructor(
    private readonly member: MemberApi,
    private readonly ws: WebSocket,
    private readonly limits: ConnectionLimits,
    options: ConnectionOptions = { notifications: undefined },
  ) {
    // Every pending kv.wait listens for the close; up to --max-inflight-per-connection of them.
    setMaxListeners(limits.maxInflight + 16, this.closing.signal);
    this.out = new BatchedSender(ws);
    if (options.notifications !== undefined) this.batch = new NotificationBatcher((frame) => this.write(frame), undefined, options.notifications);
    this.subscriptions = new SubscriptionSet(
      {
        send: (text) => this.send(text), notify: (text) => this.notify(text),
        notifyResult: (id, resultJson) => this.notifyResult(id, resultJson), bufferedAmount: () => ws.bufferedAmount,
      },
      limits.maxSubscriptions, limits.maxStreamBufferBytes,
    );
    ws.on('message', (data, isBinary) => this.onFrame(data.toString(), isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', () => ws.terminate());
  }

  private onFrame(text: string, isBinary: boolean): void {
    const frame = readFrame(text, isBinary, this.limits.maxRequestBytes);
    if ('refusal' in frame) {
      this.send(frame.refusal);
      return;
    }
    // A batch counts each of its requests.
    const count = frame.requests.length;
    if (this.inflight + count > this.limits.maxInflight) {
      const refusal = refuseFrame(frame, {
        code: -32000,
        message: `too many requests in flight on this connection (limit ${this.limits.maxInflight}, --max-inflight-per-connection); wait for replies before sending more`,
        data: { cause: 'in-flight limit', retryable: true },
      });
      if (refusal !== undefined) this.send(refusal);
      return;
    }
    this.inflight += count;
    // Streams opened by this frame are held back until its reply, which names them, is sent.
    let opened: Subscription[] | undefined;
    const subscriptions = {
      open: (): Subscription => { const sub = this.subscriptions.open(); (opened ??= []).push(sub); return sub; },
      unsubscribe: (id: string): boolean => this.subscriptions.unsubscribe(id),
    };
    const ctx = { member: this.member, subscriptions, closed: this.closing.signal, maxRequestBytes: this.limits.maxRequestBytes };
    answerFrame(ctx, frame).then((reply) => {
      this.inflight -= count;
      if (reply !== undefined) this.send(reply);
      for (const sub of opened ?? []) sub.activate();
    }, (error: Error) => {
      this.inflight -= count;
      this.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `internal error: ${error.message}` } }));
    });
  }

  /** Sends a reply (after any notifications queued before it). */
  private send(text: string): void {
    this.batch?.flush();
    this.write(text);
  }

  private notify(text: string): void {
    if (this.batch === undefined) this.write(text);
    else this.batch.add(text);
  }

  private notifyResult(id: string, resultJson: string): void {
    if (this.batch === undefined) this.write(subscriptionNotice(id, resultJson));
    else this.batch.addResult(id, resultJson);
  }

  private write(frame: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.out.send(frame);
  }

  private onClose(): void {
    this.closing.abort();
    this.subscriptions.closeAll();
  }
}
