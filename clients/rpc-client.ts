// A minimal JSON-RPC 2.0 client over WebSocket for cairn's /rpc endpoint: one socket,
// requests matched to replies by id, a timeout per call, notifications to one callback.
// Black-box tests and benchmarks use it to see the wire as it is; applications use the full
// client (clients/client.ts: failover, retries, watch iterators).
import WebSocket from 'ws';

export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: Record<string, unknown>) {
    super(message);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(data.toString()));
    socket.on('close', () => this.failAll(new Error('connection closed')));
    socket.on('error', () => this.failAll(new Error('connection failed')));
  }

  /** Connects to `url` (e.g. http://127.0.0.1:4001), failing after `timeoutMs`. */
  static connect(url: string, timeoutMs = 2000): Promise<RpcClient> {
    const wsUrl = new URL('/rpc', url.replace(/^http/, 'ws'));
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      const timer = setTimeout(() => { socket.terminate(); reject(new Error(`connect to ${String(wsUrl)} timed out`)); }, timeoutMs);
      socket.once('open', () => { clearTimeout(timer); resolve(new RpcClient(socket)); });
      socket.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Called with the params of every `subscription` notification (watch streams). */
  onNotification: (params: { subscription: string; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }) => void = () => {};

  private onMessage(text: string): void {
    const reply = JSON.parse(text) as { id: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } };
    if (reply.method === 'subscription') {
      this.onNotification(reply.params as Parameters<RpcClient['onNotification']>[0]);
      return;
    }
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.pending.delete(reply.id);
    if (reply.error !== undefined) pending.reject(new RpcError(reply.error.code, reply.error.message, reply.error.data));
    else pending.resolve(reply.result);
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
  }

  close(): void {
    this.socket.terminate();
  }
}
