// A controllable loopback TCP proxy for peer traffic. Each member listens on its real peer
// port but is advertised at a proxy port, so every peer connection passes through here. The
// proxy reads the dialer's HTTP upgrade head to learn who dialed (`x-cairn-from`, see
// core/transport/handshake.ts); the destination is the member behind the proxy port.
//
// What a one-way cut means. A cairn member dials each peer once and sends its Raft messages
// only on that connection; connections it accepts only receive (README, "Transport"). So the
// connection dialed by A to B carries A→B messages, and B→A travels on B's own dial. A cut
// from→to therefore destroys the connections `from` dialed to `to` and refuses new ones
// (closed right after the head, so the dialer retries with its backoff). The reverse bytes
// on such a connection (WebSocket pongs, snapshot acks) are lost with it; they are part of
// from's sending, not to's messages. Connections without an `x-cairn-from` (e.g. a joining
// member's `GET /cluster`) are never cut.
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** Maps the dialer's (decoded) `x-cairn-from` member id to a member name, if known. */
export type Identify = (fromMemberId: string) => string | undefined;

export interface PeerProxyOptions {
  readonly identify: Identify;
  /** A dialer must send its whole request head within this (default 16 KiB). */
  readonly maxHeadBytes?: number;
  /** ...and within this long (default 5,000 ms). */
  readonly headTimeoutMs?: number;
}

interface Route {
  readonly to: string;
  readonly targetPort: number;
  readonly server: Server;
}

interface Link {
  readonly from: string | undefined;
  readonly to: string;
  readonly client: Socket;
  upstream: Socket | undefined;
}

const HEAD_END = '\r\n\r\n';
const FROM_HEADER = /^x-cairn-from:[ \t]*([^\r\n]*)$/im;

/** The dialer's member id from an HTTP request head, or undefined. */
export function fromHeader(head: string): string | undefined {
  const match = FROM_HEADER.exec(head);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1]!.trim());
  } catch {
    return undefined;
  }
}

export class PeerProxy {
  private readonly routes = new Map<string, Route>();
  private readonly links = new Set<Link>();
  /** Blocked directed pairs, as `from\u0000to`. */
  private readonly cuts = new Set<string>();
  private readonly maxHeadBytes: number;
  private readonly headTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: PeerProxyOptions) {
    this.maxHeadBytes = options.maxHeadBytes ?? 16 * 1024;
    this.headTimeoutMs = options.headTimeoutMs ?? 5_000;
  }

  /** Listens on 127.0.0.1:`proxyPort` (0: any) for member `to`, forwarding to `targetPort`. */
  async listen(to: string, proxyPort: number, targetPort: number): Promise<number> {
    if (this.routes.has(to)) throw new Error(`proxy: ${to} already has a route`);
    const server = createServer((socket) => this.serverOnConnection(to, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(proxyPort, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    this.routes.set(to, { to, targetPort, server });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : proxyPort;
  }

  get members(): readonly string[] {
    return [...this.routes.keys()];
  }

  /** Blocks traffic from `from` to `to` (one way), now and until healed. */
  cut(from: string, to: string): void {
    if (from === to) return;
    this.cuts.add(`${from}\u0000${to}`);
    for (const link of this.links) if (link.from === from && link.to === to) this.drop(link);
  }

  isCut(from: string, to: string): boolean {
    return this.cuts.has(`${from}\u0000${to}`);
  }

  /** Every directed pair now cut, as [from, to]. */
  cutPairs(): Array<[string, string]> {
    return [...this.cuts].map((key) => key.split('\u0000') as [string, string]);
  }

  /** Cuts both ways between every two members in different groups; each member in one group. */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((group, i) => group.forEach((name) => groupOf.set(name, i)));
    for (const name of this.routes.keys()) {
      if (!groupOf.has(name)) throw new Error(`proxy: partition leaves out ${name}`);
    }
    for (const [a, ga] of groupOf) {
      for (const [b, gb] of groupOf) if (ga !== gb) this.cut(a, b);
    }
  }

  /** Lifts every cut; connections are re-dialed by the members themselves. */
  heal(): void {
    this.cuts.clear();
  }

  /** Links open now, for tests: [from, to] of each. */
  openLinks(): Array<[string | undefined, string]> {
    return [...this.links].map((l) => [l.from, l.to]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const link of this.links) this.drop(link);
    await Promise.all([...this.routes.values()].map((r) => new Promise<void>((resolve) => r.server.close(() => resolve()))));
    this.routes.clear();
  }

  private serverOnConnection(to: string, client: Socket): void {
    if (this.closed) { client.destroy(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => client.destroy(), this.headTimeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const buffered = Buffer.concat(chunks, size);
      const end = buffered.indexOf(HEAD_END);
      if (end < 0) {
        if (size > this.maxHeadBytes) client.destroy();
        return;
      }
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      this.open(to, client, buffered);
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
    client.once('close', () => clearTimeout(timer));
  }

  /** Attributes the connection and, unless its pair is cut, splices it to the member. */
  private open(to: string, client: Socket, head: Buffer): void {
    const id = fromHeader(head.toString('latin1'));
    const from = id === undefined ? undefined : this.options.identify(id);
    const route = this.routes.get(to);
    if (route === undefined || (from !== undefined && this.isCut(from, to))) {
      client.destroy();
      return;
    }
    const link: Link = { from, to, client, upstream: undefined };
    this.links.add(link);
    const upstream = createConnection({ host: '127.0.0.1', port: route.targetPort });
    link.upstream = upstream;
    upstream.on('error', () => this.drop(link));
    client.on('error', () => this.drop(link));
    upstream.once('close', () => this.drop(link));
    client.once('close', () => this.drop(link));
    upstream.once('connect', () => {
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}
