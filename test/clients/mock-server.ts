// An in-process JSON-RPC 2.0 WebSocket server on 127.0.0.1 for the client tests: each test
// scripts the replies per method, drops connections and pushes subscription notifications,
// and reads back every request it got.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { ErrorObject } from '../../core/api/types.js';

export interface MockRequest {
  readonly id: number | string | null;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly socket: WebSocket;
  readonly atMs: number;
  /** The URL the socket was opened with (path and query). */
  readonly url: string;
}

/** What a handler answers: a result, an error, drop the socket, or never answer. */
export type MockReply = { result: unknown } | { error: ErrorObject } | 'drop' | 'hang';
export type MockHandler = (request: MockRequest) => MockReply;

interface MockMessage { id: number; method: string; params?: Record<string, unknown> }

export class MockServer {
  readonly requests: MockRequest[] = [];
  /** The number of requests in each batch frame received, in order. */
  readonly batches: number[] = [];
  private readonly handlers = new Map<string, MockHandler>();
  private readonly sockets = new Set<WebSocket>();

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer, readonly url: string) {}

  /**
   * `answerPings: false` plays a member that vanished without closing its sockets;
   * `refuseGrouped` one from before /rpc?notifications=grouped (HTTP 400 at the upgrade).
   */
  static async start(options: { answerPings?: boolean; refuseGrouped?: boolean } = {}): Promise<MockServer> {
    const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"health":"true"}'));
    const wss = new WebSocketServer({
      noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false, autoPong: options.answerPings ?? true,
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    const port = (http.address() as AddressInfo).port;
    const server = new MockServer(http, wss, `http://127.0.0.1:${port}`);
    http.on('upgrade', (req, socket, head) => {
      if (options.refuseGrouped === true && /[?&]notifications=grouped(&|$)/.test(req.url ?? '')) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => server.serve(ws, req.url ?? ''));
    });
    return server;
  }

  /** Scripts the replies to `method` (the default is -32601). */
  on(method: string, handler: MockHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  /** Requests of `method` received so far. */
  calls(method: string): MockRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Terminates every client socket, as a member that crashed. */
  dropAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  notify(socket: WebSocket, subscription: string, result: unknown): void {
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { subscription, result } }));
  }

  endStream(socket: WebSocket, subscription: string, error: ErrorObject): void {
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { subscription, error } }));
  }

  reply(request: MockRequest, reply: { result: unknown } | { error: ErrorObject }): void {
    request.socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, ...reply }));
  }

  async close(): Promise<void> {
    this.dropAll();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private serve(socket: WebSocket, url: string): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as MockMessage | MockMessage[];
      // A batch (the client joins the requests of one turn) is answered request by request,
      // each in its own frame: the client routes replies by id either way, and a scripted
      // 'hang' or a later reply() works the same for a request that came in a batch.
      if (Array.isArray(message)) this.batches.push(message.length);
      for (const m of Array.isArray(message) ? message : [message]) this.answer(socket, url, m);
    });
  }

  private answer(socket: WebSocket, url: string, message: MockMessage): void {
    const request: MockRequest = { id: message.id, method: message.method, params: message.params ?? {}, socket, atMs: Date.now(), url };
    this.requests.push(request);
    const handler = this.handlers.get(request.method);
    const answer: MockReply = handler === undefined
      ? { error: { code: -32601, message: `method not found: ${request.method}` } }
      : handler(request);
    if (answer === 'drop') socket.terminate();
    else if (answer !== 'hang') this.reply(request, answer);
  }
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just bound and released). */
export async function deadEndpoint(): Promise<string> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const port = (http.address() as AddressInfo).port;
  await new Promise<void>((resolve) => http.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Polls `condition` every few ms; throws naming `what` if it is not true within `limitMs`. */
export async function waitUntil(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const kvEvent = (index: number, key = '/k', action = 'set'): Record<string, unknown> =>
  ({ action, node: { key, value: `v${index}`, createdIndex: index, modifiedIndex: index }, index });

export const noLeader = { error: { code: 301, message: 'no leader', data: { retryable: true } } };
