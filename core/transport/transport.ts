// PeerTransport: what the member process codes against. It owns the listener (server.ts)
// and one outbound PeerConnection per peer (peer.ts), routes each message by its `to`, and
// flushes once per event-loop turn so that everything Raft produced in one Ready reaches a
// peer as one frame. Snapshots go to their peer's stream instead of the message queue.
import type { Message } from '../raft/index.js';
import { encodeMessage } from './codec.js';
import { TransportError } from './errors.js';
import { peerSocketUrl } from './handshake.js';
import type { HandshakeIdentity } from './handshake.js';
import { checkId, resolveOptions } from './options.js';
import type { PeerTransportOptions, ResolvedOptions } from './options.js';
import { PeerConnection } from './peer.js';
import type { PeerEvents, PeerStats } from './peer.js';
import { PeerServer } from './server.js';

/** How long stop() waits for close handshakes before terminating sockets. */
const STOP_GRACE_MS = 500;

export interface TransportStats {
  readonly port: number | undefined;
  readonly peers: Readonly<Record<string, PeerStats>>;
}

export class PeerTransport {
  private readonly settings: ResolvedOptions;
  private readonly identity: HandshakeIdentity;
  private readonly server: PeerServer;
  private readonly peers = new Map<string, PeerConnection>();
  private readonly dirty = new Set<PeerConnection>();
  /** Sends to members we have no URL for, to report unreachable at the next flush. */
  private readonly unknownPending = new Map<string, { snapshots: number }>();
  private readonly unknownLogged = new Set<string>();
  private readonly closing = new Set<Promise<void>>();
  private readonly events: PeerEvents;
  private flushHandle: NodeJS.Immediate | undefined;
  private phase: 'new' | 'started' | 'stopped' = 'new';
  private port: number | undefined;

  constructor(private readonly options: PeerTransportOptions) {
    this.settings = resolveOptions(options);
    this.identity = { clusterId: options.clusterId, clusterToken: options.clusterToken, memberId: options.memberId };
    const log = (level: 'info' | 'warn', message: string): void => options.onLog?.(level, message);
    this.events = {
      unreachable: (id) => options.onUnreachable?.(id),
      connectionLost: (id) => options.onConnectionLost?.(id),
      connected: (id) => options.onConnected?.(id),
      snapshotStatus: (id, ok) => options.onSnapshotStatus?.(id, ok),
      log,
    };
    this.server = new PeerServer(this.identity, (id) => this.peers.has(id), this.settings, {
      messages: (messages) => options.onMessages(messages),
      connectionLost: (id) => options.onConnectionLost?.(id),
      log,
    });
    for (const [id, url] of options.peers) this.addPeer(id, url);
  }

  /** Listens on the peer port and dials every peer. */
  async start(): Promise<{ port: number }> {
    if (this.phase !== 'new') throw new TransportError('TRANSPORT_STOPPED', `start() on a transport that is ${this.phase}`);
    this.port = await this.server.listen(this.options.listen.host, this.options.listen.port);
    // stop() may have been called while listen was pending.
    if (this.phase !== 'new') throw new TransportError('TRANSPORT_STOPPED', 'stopped while starting');
    this.phase = 'started';
    for (const peer of this.peers.values()) peer.start();
    this.scheduleFlush();
    return { port: this.port };
  }

  /**
   * Routes messages by `to`. Messages for one peer within one event-loop turn leave as one
   * frame, in order; a 'snapshot' message is streamed in chunks. Never blocks and never
   * calls back synchronously. Throws TRANSPORT_BAD_MESSAGE for a message that is not from
   * this member or cannot be encoded (a bug in the caller).
   */
  send(messages: readonly Message[]): void {
    if (this.phase === 'stopped') return;
    for (const m of messages) {
      if (m.from !== this.identity.memberId) {
        throw new TransportError('TRANSPORT_BAD_MESSAGE', `a ${m.type} from ${JSON.stringify(m.from)} cannot be sent by ${this.identity.memberId}`);
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.noteUnknownTarget(m);
      } else if (m.type === 'snapshot') {
        peer.enqueueSnapshot(m);
        this.dirty.add(peer);
      } else {
        peer.enqueue(encodeMessage(m));
        this.dirty.add(peer);
      }
    }
    this.scheduleFlush();
  }

  /** Whether this member's connection to `peerId` is open, so a message sent now goes out. */
  isOpenTo(peerId: string): boolean {
    return this.peers.get(peerId)?.isOpen === true;
  }

  /** Adds (or re-addresses) a peer: it may now dial us, and we dial it. */
  addPeer(memberId: string, url: string): void {
    checkId('peer id', memberId);
    if (this.phase === 'stopped' || memberId === this.identity.memberId) return;
    const socketUrl = peerSocketUrl(url);
    const existing = this.peers.get(memberId);
    if (existing?.socketUrl === socketUrl) return;
    if (existing !== undefined) this.track(existing.close(STOP_GRACE_MS));
    const peer = new PeerConnection(memberId, socketUrl, this.identity, this.settings, this.events);
    this.peers.set(memberId, peer);
    this.unknownPending.delete(memberId);
    this.unknownLogged.delete(memberId);
    if (this.phase === 'started') peer.start();
  }

  /** Forgets a peer: its connections close and it may no longer dial us. */
  removePeer(memberId: string): void {
    const peer = this.peers.get(memberId);
    if (peer === undefined) return;
    this.peers.delete(memberId);
    this.dirty.delete(peer);
    this.track(peer.close(STOP_GRACE_MS));
    this.track(this.server.dropPeer(memberId, STOP_GRACE_MS));
  }

  /** Closes the listener and every socket; bounded by a short grace, then terminates. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') {
      await Promise.all(this.closing);
      return;
    }
    this.phase = 'stopped';
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    for (const peer of this.peers.values()) this.track(peer.close(STOP_GRACE_MS));
    this.peers.clear();
    this.track(this.server.close(STOP_GRACE_MS));
    await Promise.all(this.closing);
  }

  /** Queue and connection figures per peer, for tests and metrics. */
  stats(): TransportStats {
    const peers: Record<string, PeerStats> = {};
    for (const [id, peer] of this.peers) peers[id] = peer.stats();
    return { port: this.port, peers };
  }

  private noteUnknownTarget(m: Message): void {
    if (!this.unknownLogged.has(m.to)) {
      this.unknownLogged.add(m.to);
      this.events.log('warn', `transport: no address for member ${JSON.stringify(m.to)}; dropping its messages until addPeer`);
    }
    let note = this.unknownPending.get(m.to);
    if (note === undefined) {
      note = { snapshots: 0 };
      this.unknownPending.set(m.to, note);
    }
    if (m.type === 'snapshot') note.snapshots++;
  }

  private track(closing: Promise<void>): void {
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
  }

  private scheduleFlush(): void {
    if (this.flushHandle !== undefined || this.phase !== 'started') return;
    if (this.dirty.size === 0 && this.unknownPending.size === 0) return;
    this.flushHandle = setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushHandle = undefined;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const peer of dirty) peer.flush();
    const unknown = [...this.unknownPending];
    this.unknownPending.clear();
    for (const [id, note] of unknown) {
      if (this.phase !== 'started') return;
      this.events.unreachable(id);
      for (let i = 0; i < note.snapshots; i++) this.events.snapshotStatus(id, false);
    }
    // Callbacks above may have sent more; they are flushed on the next turn.
    this.scheduleFlush();
  }
}
