// The member's client port: GET /health, /version and /metrics, and JSON-RPC 2.0 over a
// WebSocket at /rpc (../shared/API.md). Until the etcd v2 store arrives, kv.set/kv.get work
// on the minimal state machine; the cluster.* methods are the real ones.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { handleRpcText } from './rpc.js';
import type { MemberApi } from './rpc.js';

export interface ClientServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startClientServer(member: MemberApi, host: string, port: number, maxRequestBytes: number): Promise<ClientServer> {
  const http = createServer((req, res) => void serveHttp(member, req, res));
  // Frames somewhat over the request limit are still read, so they can be refused politely.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxRequestBytes + 64 * 1024, perMessageDeflate: false });
  http.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/rpc') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(member, ws, maxRequestBytes));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const address = http.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { port: bound, close: () => closeServer(http, wss) };
}

function onConnection(member: MemberApi, ws: WebSocket, maxRequestBytes: number): void {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    void handleRpcText(member, text, maxRequestBytes, isBinary).then((reply) => {
      if (reply !== undefined && ws.readyState === ws.OPEN) ws.send(reply);
    });
  });
  ws.on('error', () => ws.terminate());
}

async function serveHttp(member: MemberApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (req.method !== 'GET') return json(405, { error: `${req.method ?? ''} is not allowed here; use GET` });
  const status = member.status();
  switch (path) {
    case '/health':
      return json(status.leaderId === '' ? 503 : 200, { health: status.leaderId === '' ? 'false' : 'true' });
    case '/version':
      return json(200, { cairn: status.version });
    case '/metrics':
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
        `# TYPE cairn_raft_term gauge\ncairn_raft_term ${status.term}\n` +
        `# TYPE cairn_raft_commit_index gauge\ncairn_raft_commit_index ${status.commitIndex}\n` +
        `# TYPE cairn_applied_index gauge\ncairn_applied_index ${status.appliedIndex}\n` +
        `# TYPE cairn_is_leader gauge\ncairn_is_leader ${status.leaderId === status.memberId ? 1 : 0}\n`,
      );
      return;
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
