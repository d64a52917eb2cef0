// The listening side of the peer port: a node:http server whose only business is the
// WebSocket upgrade on /raft. The handshake is checked before the upgrade completes, so a
// stranger is refused with a 4xx and never gets a socket. Accepted sockets only receive
// (each member sends on the connection it dialed itself); frames are decoded, checked to be
// addressed from that peer to this member, and handed over. A bad frame closes the socket:
// the peer redials, and Raft resends whatever was lost.
import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { Message } from '../raft/index.js';
import { FrameKind, decodeMessages, readFrameHeader } from './codec.js';
import { TransportError, badFrame } from './errors.js';
import { HEADERS, checkHandshake, sameSecret } from './handshake.js';
import type { HandshakeIdentity } from './handshake.js';
import { SnapshotAssembler, encodeSnapshotAck } from './snapshot-stream.js';
import { CLOSE_GOING_AWAY, CLOSE_PROTOCOL, closeSocket, messageBytes } from './sockets.js';

/** The same refusal is logged at most this often: a misconfigured peer redials all day. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;
/** How long a refused dialer may take to read the refusal. */
const REFUSAL_TIMEOUT_MS = 1_000;

export interface InboundSettings {
  readonly maxFrameBytes: number;
  readonly maxSnapshotBytes: number;
}

export interface InboundEvents {
  messages(messages: Message[]): void;
  /** An open connection from that peer closed (not one replaced by its redial). */
  connectionLost(peerId: string): void;
  log(level: 'info' | 'warn', message: string): void;
}

interface Inbound {
  readonly ws: WebSocket;
  readonly from: string;
  readonly assembler: SnapshotAssembler;
}

export class PeerServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** The newest accepted connection of each peer. */
  private readonly inbound = new Map<string, Inbound>();
  private readonly sockets = new Set<WebSocket>();
  private readonly refusalsLogged = new Map<string, number>();

  constructor(
    private readonly self: HandshakeIdentity,
    private readonly isPeer: (memberId: string) => boolean,
    private readonly settings: InboundSettings,
    private readonly events: InboundEvents,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** Listens; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new TransportError('TRANSPORT_LISTEN', `cannot listen for peers on ${host}:${port}: ${error.message}`));
      };
      this.http.once('error', onError);
      // A URL's hostname keeps IPv6 brackets ('[::1]'); listen() wants the bare address.
      this.http.listen(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
        this.http.off('error', onError);
        this.http.on('error', (error) => this.events.log('warn', `transport: peer listener: ${error.message}`));
        resolve((this.http.address() as AddressInfo).port);
      });
    });
  }

  /** Closes the connection of a peer that is no longer a member. */
  dropPeer(memberId: string, graceMs: number): Promise<void> {
    const conn = this.inbound.get(memberId);
    if (conn === undefined) return Promise.resolve();
    this.inbound.delete(memberId);
    return closeSocket(conn.ws, CLOSE_GOING_AWAY, 'no longer a peer', graceMs);
  }

  async close(graceMs: number): Promise<void> {
    const closing = [...this.sockets].map((ws) => closeSocket(ws, CLOSE_GOING_AWAY, 'member stopping', graceMs));
    const stopped = new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
    });
    this.http.closeAllConnections();
    await Promise.all([...closing, stopped]);
    this.wss.close();
  }

  /**
   * Plain HTTP on the peer port. A member joining an existing cluster asks for the cluster
   * id it must adopt (GET /cluster?token=…, server/member.ts); only a caller that knows the
   * cluster token is told. Anything else is told to upgrade.
   */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '/', 'http://peer');
    } catch {
      url = undefined; // a malformed request target must not throw out of the listener
    }
    if (req.method === 'GET' && url?.pathname === '/cluster') {
      const ok = sameSecret(url.searchParams.get('token') ?? '', this.self.clusterToken);
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(ok ? { clusterId: this.self.clusterId } : { error: 'wrong cluster token' }));
      return;
    }
    res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end('cairn peer port: members connect with a WebSocket on /raft\n');
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // Until ws takes the socket over, an error on it (the dialer vanished) is ours to absorb.
    socket.on('error', () => socket.destroy());
    const verdict = checkHandshake(req.url, req.headers, this.self, this.isPeer);
    if (!verdict.ok) {
      this.logRefusal(`transport: refused a peer connection from ${req.socket.remoteAddress ?? '?'} (${verdict.status}): ${verdict.reason}`);
      refuse(socket, verdict.status, verdict.reason);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, verdict.from));
  }

  private accept(ws: WebSocket, from: string): void {
    const previous = this.inbound.get(from);
    // A redial replaces an older connection, which may be half-open after a network fault.
    if (previous !== undefined) void closeSocket(previous.ws, CLOSE_GOING_AWAY, 'replaced by a newer connection', 1_000);
    const conn: Inbound = { ws, from, assembler: new SnapshotAssembler(this.settings.maxSnapshotBytes) };
    this.inbound.set(from, conn);
    this.sockets.add(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(conn, data, isBinary));
    ws.on('error', (error: Error) => this.events.log('warn', `transport: connection from ${from}: ${error.message}`));
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.inbound.get(from) !== conn) return;
      this.inbound.delete(from);
      this.events.connectionLost(from);
    });
  }

  private onFrame(conn: Inbound, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    let delivery: { messages: Message[]; ackStream?: number } | undefined;
    try {
      if (!isBinary) throw badFrame('a text frame; cairn frames are binary');
      if (!this.isPeer(conn.from)) throw badFrame(`${conn.from} is no longer a peer`);
      delivery = this.decodeFrame(conn, messageBytes(data));
    } catch (error) {
      const reason = error instanceof TransportError ? error.message : String(error);
      this.events.log('warn', `transport: closing the connection from ${conn.from}: ${reason}`);
      conn.ws.close(CLOSE_PROTOCOL, 'bad frame');
      return;
    }
    if (delivery === undefined) return;
    // Outside the try: an exception thrown by the member's own handler is its bug, not
    // the peer's, and must not be reported as a bad frame.
    this.events.messages(delivery.messages);
    if (delivery.ackStream !== undefined) conn.ws.send(encodeSnapshotAck(delivery.ackStream, true));
  }

  private decodeFrame(conn: Inbound, bytes: Uint8Array): { messages: Message[]; ackStream?: number } | undefined {
    const { kind, reader } = readFrameHeader(bytes);
    if (kind === FrameKind.messages) {
      const messages = decodeMessages(bytes);
      this.checkAddressing(messages, conn.from);
      return { messages };
    }
    if (kind === FrameKind.snapshotAck) throw badFrame('a snapshot ack on a receiving connection');
    const done = conn.assembler.accept(kind, reader);
    if (done === undefined) return undefined;
    this.checkAddressing([done.message], conn.from);
    return { messages: [done.message], ackStream: done.streamId };
  }

  /** Every message on a connection must come from the member that authenticated it, to us. */
  private checkAddressing(messages: readonly Message[], from: string): void {
    for (const m of messages) {
      if (m.from !== from || m.to !== this.self.memberId) {
        throw badFrame(`a ${m.type} from ${JSON.stringify(m.from)} to ${JSON.stringify(m.to)} on ${from}'s connection to ${this.self.memberId}`);
      }
    }
  }

  private logRefusal(line: string): void {
    const now = Date.now();
    const last = this.refusalsLogged.get(line);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return;
    if (this.refusalsLogged.size > 1000) this.refusalsLogged.clear();
    this.refusalsLogged.set(line, now);
    this.events.log('warn', line);
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
function refuse(socket: Socket, status: number, reason: string): void {
  const body = `${reason}\n`;
  // A header value must be visible ASCII; the body keeps the reason as it is.
  const headerReason = reason.replace(/[^\x20-\x7e]/g, '?');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `${HEADERS.reason}: ${headerReason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // A dialer that never reads the answer must not hold the socket open.
  socket.setTimeout(REFUSAL_TIMEOUT_MS, () => socket.destroy());
}
