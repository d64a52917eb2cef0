// The member's client port: GET /health, /version and /metrics, the etcd v2 compatible HTTP
// API under /v2 (server/v2), and JSON-RPC 2.0 over a WebSocket at /rpc (../shared/API.md). Connections beyond --max-connections are refused at
// the upgrade with 503, before they cost the member anything.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { MemberApi } from './member-api.js';
import { RpcConnection } from './rpc-connection.js';
import type { ConnectionLimits } from './rpc-connection.js';
import { setCorsHeaders } from './v2/http.js';
import { isV2Path, serveV2 } from './v2/router.js';

/** The etcd release whose v2 HTTP API server/v2 reproduces (GET /version). */
const ETCD_COMPAT_VERSION = '3.4.23';
const ETCD_COMPAT_CLUSTER_VERSION = '3.4.0';

export interface ClientServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface ClientServerOptions extends ConnectionLimits {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
}

export async function startClientServer(member: MemberApi, options: ClientServerOptions): Promise<ClientServer> {
  const http = createServer((req, res) => void serveHttp(member, req, res, options));
  // Frames up to twice the request limit are still read, so they can be refused politely
  // with -32600; beyond that ws closes the connection (code 1009) before buffering them.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * options.maxRequestBytes + 64 * 1024, perMessageDeflate: false });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/rpc') return refuse(socket, 404, 'Not Found', 'no WebSocket here; connect to /rpc');
    const notifications = url.searchParams.get('notifications');
    if (notifications !== null && notifications !== 'batch' && notifications !== 'grouped') {
      return refuse(socket, 400, 'Bad Request', `notifications=${notifications} is not known; the choices are notifications=batch and notifications=grouped`);
    }
    if (wss.clients.size >= options.maxConnections) {
      return refuse(socket, 503, 'Service Unavailable', `this member already serves ${options.maxConnections} connections (--max-connections); try another member or later`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      member.connectionCount = wss.clients.size;
      ws.on('close', () => { member.connectionCount = wss.clients.size; });
      new RpcConnection(member, ws, options, { notifications: notifications ?? undefined });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address();
  const bound = typeof address === 'object' && address !== null ? address.port : options.port;
  return { port: bound, close: () => closeServer(http, wss) };
}

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
}

async function serveHttp(member: MemberApi, req: IncomingMessage, res: ServerResponse, options: ClientServerOptions): Promise<void> {
  const rawPath = (req.url ?? '/').split('?', 1)[0]!;
  if (isV2Path(rawPath)) {
    return serveV2(member, req, res, rawPath, { maxRequestBytes: options.maxRequestBytes, maxWatchBufferBytes: options.maxStreamBufferBytes })
      .catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      });
  }
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  setCorsHeaders(res); // as etcd, on every client-port answer
  const json = (status: number, body: unknown, contentType = 'application/json'): void => {
    res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
  };
  if (req.method !== 'GET') return json(405, { error: `${req.method ?? ''} is not allowed here; use GET` });
  switch (path) {
    case '/health': {
      // etcd's shape: {"health":"true"}; 200 only with a leader and this member caught up.
      const healthy = member.caughtUp();
      const status = member.status();
      const reason = status.leaderId === '' ? 'no leader' : healthy ? undefined : 'applying committed entries (catching up)';
      // etcd labels this JSON text/plain; tools parse the body either way.
      return json(healthy ? 200 : 503, reason === undefined ? { health: 'true' } : { health: 'false', reason }, 'text/plain');
    }
    case '/version':
      // etcd's shape first, so etcd tools that check the server version accept the member; the
      // etcd version named is the one whose v2 API this member serves.
      return json(200, { etcdserver: ETCD_COMPAT_VERSION, etcdcluster: ETCD_COMPAT_CLUSTER_VERSION, cairn: member.status().version });
    case '/metrics': {
      const metrics = member.metrics;
      if (metrics === undefined) return json(404, { error: 'metrics are not enabled on this member' });
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType }).end(text);
      return;
    }
    default:
      return json(404, { error: `no such endpoint ${path}; try /health, /version, /metrics or a WebSocket at /rpc` });
  }
}

async function closeServer(http: Server, wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  wss.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}
