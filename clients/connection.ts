// One WebSocket to one member's /rpc: JSON-RPC requests matched to replies by id, and
// `subscription` notifications routed to the stream they belong to. It never retries or
// fails over (client.ts and endpoints.ts do that); when the socket closes, every pending
// request and every stream on it ends with a ConnectionLost CairnError.
import { BatchedSender } from '../core/net/batched-send.js';
import { RequestBatcher } from './request-batch.js';
import { zeroMask } from '../core/net/unmasked.js';
import WebSocket from 'ws';
import type { ErrorObject, GroupedSubscriptionParams, NotificationMode, SubscriptionParams } from '../core/api/types.js';
import { CairnError, badReplyError, connectionLostError } from './errors.js';
import { abortReason } from './retry.js';
import type { CallSignal } from './retry.js';

/** Where a stream's notifications go. `end` is called once, after the last `push`. */
export interface StreamSink {
  push(result: unknown): void;
  end(error: CairnError): void;
}

export interface ConnectionOptions {
  connectTimeoutMs: number;
  /** The largest frame accepted from the member (ws would default to 100 MiB). */
  maxPayloadBytes: number;
  /**
   * A ping goes out this often; a socket that has not answered the previous one is closed,
   * so a member that vanished without closing its TCP connection is noticed (0: never).
   */
  keepaliveMs: number;
}

interface Pending {
  readonly method: string;
  resolve(result: unknown): void;
  reject(error: CairnError): void;
}

/**
 * Notifications for a subscription id that is not known yet (the member may push before its
 * reply to kv.watch is read) are held, at most this many, only while a subscribe is pending.
 */
const EARLY_NOTIFICATIONS_MAX = 10_000;

/** http://host:port (or ws://) becomes ws://host:port/rpc; https becomes wss. */
export function rpcUrl(endpoint: string): URL {
  const url = new URL('/rpc', endpoint);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url;
}

export class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<string, StreamSink>();
  private readonly early = new Map<string, SubscriptionParams[]>();
  private earlyCount = 0;
  private subscribesPending = 0;
  private closedWith: CairnError | undefined;
  private readonly closeListeners = new Set<() => void>();

  private readonly keepalive: NodeJS.Timeout | undefined;
  private pongPending = false;

  private readonly requests: RequestBatcher;

  private constructor(readonly endpoint: string, private readonly socket: WebSocket, keepaliveMs: number) {
    this.requests = new RequestBatcher(new BatchedSender(socket), () => socket.readyState === WebSocket.OPEN);
    socket.on('message', (data, isBinary) => this.socketOnMessage(isBinary ? '' : data.toString()));
    socket.on('close', () => this.socketOnClose());
    // An 'error' is always followed by 'close', which does the cleanup.
    socket.on('error', () => undefined);
    socket.on('pong', () => {
      this.pongPending = false;
    });
    if (keepaliveMs > 0) {
      this.keepalive = setInterval(() => this.keepaliveOnTick(), keepaliveMs);
      // The socket keeps a process alive while it is open; the ping timer need not.
      this.keepalive.unref();
    }
  }

  private keepaliveOnTick(): void {
    if (this.pongPending) {
      this.socket.terminate();
      return;
    }
    this.pongPending = true;
    this.socket.ping();
  }

  /** Opens a socket to `endpoint`; rejects with a plain Error saying why it could not. */
  static async open(endpoint: string, options: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    try {
      return await Connection.openWith(endpoint, 'grouped', options, signal);
    } catch (error) {
      // A member from before notifications=grouped refuses it at the upgrade with HTTP 400.
      if (!(error instanceof Error) || !/Unexpected server response: 400/.test(error.message)) throw error;
      return Connection.openWith(endpoint, 'batch', options, signal);
    }
  }

  private static openWith(endpoint: string, notifications: NotificationMode, options: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const url = rpcUrl(endpoint);
      // Notifications of one turn share a frame (an array), and one event for many streams
      // of this connection comes once, naming them all: far less to decode (README).
      url.searchParams.set('notifications', notifications);
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: options.maxPayloadBytes,
        handshakeTimeout: options.connectTimeoutMs,
        generateMask: zeroMask,
      });
      const fail = (error: Error): void => {
        cleanup();
        // Terminating a socket that is still connecting makes ws emit 'error' later; with no
        // listener left, that would crash the process.
        socket.on('error', () => undefined);
        socket.terminate();
        reject(error);
      };
      const onError = (error: Error): void => fail(error);
      const onAbort = (): void => fail(abortReason(signal, `connect to ${endpoint}`));
      const timer = setTimeout(() => fail(new Error(`timed out after ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
      };
      socket.once('error', onError);
      socket.once('open', () => {
        cleanup();
        resolve(new Connection(endpoint, socket, options.keepaliveMs));
      });
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }

  /** Called once when the socket closes (at once if it already has). Returns a remover. */
  onClose(listener: () => void): () => void {
    if (!this.isOpen) {
      listener();
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * Sends one request; resolves with its result, rejects with a CairnError. If `signal` fires
   * first, a reply that still comes is passed to `onLateResult` (so a stream started by an
   * abandoned call can be ended again) instead of being dropped.
   */
  request(method: string, params: object, signal?: CallSignal, onLateResult?: (result: unknown) => void): Promise<unknown> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (signal?.aborted === true) return Promise.reject(abortReason(signal, method));
    const id = this.nextId++;
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve, reject) => {
      const settle = <T>(fn: (value: T) => void) => (value: T): void => {
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        fn(value);
      };
      const onAbort = (): void => {
        if (onLateResult === undefined) this.pending.delete(id);
        else this.pending.set(id, { method, resolve: settle(onLateResult), reject: settle(() => undefined) });
        reject(abortReason(signal, method));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { method, resolve: settle(resolve), reject: settle(reject) });
      this.requests.send(method, frame);
    });
  }

  /**
   * Starts a stream: sends `method` and, once its reply names the subscription, routes that
   * subscription's notifications to `sink`. Resolves with the reply's result.
   */
  async subscribe(method: string, params: object, sink: StreamSink, signal?: CallSignal): Promise<{ id: string; result: unknown }> {
    this.subscribesPending++;
    try {
      const result = await this.request(method, params, signal, (late) => this.endLate(late));
      const id = (result as { subscription?: unknown } | null)?.subscription;
      if (typeof id !== 'string') throw badReplyError(method, 'no "subscription" id in the result');
      this.streams.set(id, sink);
      for (const notice of this.early.get(id) ?? []) this.routeNotification(notice);
      return { id, result };
    } finally {
      if (--this.subscribesPending === 0) this.clearEarly();
    }
  }

  /** Stops routing a stream and asks the member to end it; the reply is not awaited. */
  unsubscribe(id: string): void {
    if (!this.streams.delete(id) || !this.isOpen) return;
    this.request('unsubscribe', { subscription: id }).catch(() => undefined);
  }

  /** Ends a stream whose start was abandoned: its reply came after the caller gave up. */
  private endLate(result: unknown): void {
    const id = (result as { subscription?: unknown } | null)?.subscription;
    if (typeof id === 'string' && this.isOpen) this.request('unsubscribe', { subscription: id }).catch(() => undefined);
  }

  /** Closes the socket; pending requests and streams end with `reason`. */
  close(reason?: CairnError): void {
    if (this.closedWith === undefined) this.closedWith = reason;
    this.socket.terminate();
  }

  private socketOnMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return; // Not JSON: no request can be matched to it, so there is nobody to tell.
    }
    if (Array.isArray(message)) {
      for (const item of message) this.routeMessage(item);
    } else {
      this.routeMessage(message);
    }
  }

  /** One JSON-RPC message: a notification or a reply. */
  private routeMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const fields = message as Record<string, unknown>;
    if (fields['method'] === 'subscription') {
      const params = fields['params'] as (SubscriptionParams & Partial<GroupedSubscriptionParams>) | undefined;
      if (typeof params?.subscription === 'string') this.routeNotification(params);
      else if (Array.isArray(params?.subscriptions)) this.routeGrouped(params.subscriptions, params.result);
      return;
    }
    if (typeof fields['id'] === 'number') this.routeReply(fields['id'], fields);
  }

  private routeReply(id: number, reply: Record<string, unknown>): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return; // Aborted or timed out meanwhile.
    const error = reply['error'] as ErrorObject | undefined;
    if (error !== undefined) {
      const valid = typeof error === 'object' && error !== null && typeof error.code === 'number';
      pending.reject(valid ? CairnError.fromWire(error) : badReplyError(pending.method, 'malformed error object'));
    } else if ('result' in reply) {
      pending.resolve(reply['result']);
    } else {
      pending.reject(badReplyError(pending.method, 'neither result nor error'));
    }
  }

  /** One result for several streams (notifications=grouped): each stream gets its own copy. */
  private routeGrouped(ids: unknown[], result: unknown): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id === 'string') this.routeNotification({ subscription: id, result: i === 0 ? result : copyJson(result) });
    }
  }

  private routeNotification(notice: SubscriptionParams): void {
    const sink = this.streams.get(notice.subscription);
    if (sink === undefined) {
      this.holdEarly(notice);
      return;
    }
    if (notice.error !== undefined) {
      this.streams.delete(notice.subscription);
      sink.end(CairnError.fromWire(notice.error));
    } else {
      sink.push(notice.result);
    }
  }

  private holdEarly(notice: SubscriptionParams): void {
    if (this.subscribesPending === 0 || this.earlyCount >= EARLY_NOTIFICATIONS_MAX) return;
    const list = this.early.get(notice.subscription) ?? [];
    list.push(notice);
    this.early.set(notice.subscription, list);
    this.earlyCount++;
  }

  private clearEarly(): void {
    this.early.clear();
    this.earlyCount = 0;
  }

  private socketOnClose(): void {
    clearInterval(this.keepalive);
    const lost = this.closedWith ?? connectionLostError('request', this.endpoint);
    this.closedWith = lost;
    for (const pending of [...this.pending.values()]) pending.reject(lost);
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.clearEarly();
    for (const sink of streams) sink.end(lost);
    for (const listener of [...this.closeListeners]) listener();
    this.closeListeners.clear();
  }
}

/** A deep copy of a parsed JSON value, so that no two streams share an object a consumer may change. */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  // Spread defines own properties (a "__proto__" key stays an own property, as JSON.parse
  // makes it), and is about four times faster than copying key by key.
  const out: Record<string, unknown> = { ...value };
  for (const key in out) {
    const field = out[key];
    if (typeof field === 'object' && field !== null) out[key] = copyJson(field);
  }
  return out;
}
