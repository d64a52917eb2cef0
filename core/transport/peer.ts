// One outbound connection to one peer: the socket this member sends on, its bounded queue,
// its reconnect loop and the snapshot it is streaming. Raft tolerates lost messages and
// resends, so whenever the peer is slow or away this drops messages (and says so through
// onUnreachable) instead of letting memory grow; a queue only forms while a dial is under
// way. Callbacks to the member never run inside send(): they wait for the next flush.
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { SnapshotMessage } from '../raft/index.js';
import { zeroMask } from '../net/unmasked.js';
import { Backoff } from './backoff.js';
import { MAX_FRAME_OVERHEAD, joinMessageFrame } from './codec.js';
import type { HandshakeIdentity } from './handshake.js';
import { HEADERS, dialHeaders } from './handshake.js';
import { SnapshotSender, decodeSnapshotAck } from './snapshot-stream.js';
import { CLOSE_GOING_AWAY, CLOSE_PROTOCOL, closeSocket, messageBytes } from './sockets.js';

/** A dial that has not completed its handshake by then is abandoned and retried. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Ping period; a peer that has not answered the previous ping is taken for dead. */
const KEEPALIVE_MS = 5_000;
/** A peer that stays slow or away would otherwise log every dropped message. */
const DROP_LOG_INTERVAL_MS = 5_000;

export interface PeerSettings {
  readonly maxQueueBytes: number;
  readonly snapshotChunkBytes: number;
  readonly maxFrameBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

export interface PeerEvents {
  unreachable(peerId: string): void;
  /** The open connection to that peer closed (a dial that never opened does not count). */
  connectionLost(peerId: string): void;
  /** The connection to that peer opened. */
  connected(peerId: string): void;
  snapshotStatus(peerId: string, succeeded: boolean): void;
  log(level: 'info' | 'warn', message: string): void;
}

export type PeerState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

export interface PeerStats {
  readonly state: PeerState;
  /** Encoded messages waiting for the next flush (or for the dial to complete). */
  readonly queuedBytes: number;
  /** Bytes handed to the socket and not yet written to the network. */
  readonly bufferedBytes: number;
  readonly droppedMessages: number;
  readonly sentFrames: number;
  readonly connects: number;
}

export class PeerConnection {
  private state: PeerState = 'idle';
  private ws: WebSocket | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private snapshot: SnapshotSender | undefined;
  private readonly awaitingAck = new Set<number>();
  private nextStreamId = 1;
  private reportUnreachable = false;
  private failedSnapshots = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;
  private droppedSinceLog = 0;
  private lastProblem: string | undefined;
  private refusal: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private counters = { droppedMessages: 0, sentFrames: 0, connects: 0 };

  constructor(
    readonly peerId: string,
    readonly socketUrl: string,
    private readonly self: HandshakeIdentity,
    private readonly settings: PeerSettings,
    private readonly events: PeerEvents,
  ) {
    this.backoff = new Backoff(settings.reconnectMinMs, settings.reconnectMaxMs);
  }

  /** Dials now; until the dial completes messages queue (bounded). */
  start(): void {
    if (this.state === 'idle') this.connect();
  }

  /** Queues one encoded message, or drops it when the peer is away or the bound is reached. */
  enqueue(encoded: Uint8Array): void {
    if (this.state === 'closed') return;
    const limit = Math.min(this.settings.maxQueueBytes, this.settings.maxFrameBytes - MAX_FRAME_OVERHEAD);
    if (encoded.byteLength > limit) {
      this.drop(`a ${encoded.byteLength}-byte message is larger than a frame or the queue may hold`);
      return;
    }
    if (this.state === 'backoff') {
      this.drop('the peer is unreachable');
      return;
    }
    const buffered = this.ws?.bufferedAmount ?? 0;
    if (this.pendingBytes + buffered + encoded.byteLength > this.settings.maxQueueBytes) {
      this.drop(`the send queue is full (${this.pendingBytes + buffered} bytes)`);
      return;
    }
    this.pending.push(encoded);
    this.pendingBytes += encoded.byteLength;
  }

  /** Starts streaming a snapshot; one that is still streaming is abandoned (reported failed). */
  enqueueSnapshot(m: SnapshotMessage): void {
    if (this.state === 'closed') return;
    if (this.state === 'backoff') {
      this.failedSnapshots++;
      return;
    }
    if (this.snapshot !== undefined) this.failedSnapshots++;
    this.snapshot = new SnapshotSender(m, this.nextStreamId++, this.settings.snapshotChunkBytes);
  }

  /** Runs once per event-loop turn: reports what went wrong, then sends what is queued. */
  flush(): void {
    if (this.state === 'closed') return;
    if (this.reportUnreachable) {
      this.reportUnreachable = false;
      this.events.unreachable(this.peerId);
    }
    for (; this.failedSnapshots > 0; this.failedSnapshots--) this.events.snapshotStatus(this.peerId, false);
    if (this.state !== 'open') return;
    this.sendPending();
    this.pumpSnapshot();
  }

  /** Closes for good (stop or removePeer): no callbacks after this. */
  async close(graceMs: number): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    this.pending = [];
    this.pendingBytes = 0;
    this.snapshot = undefined;
    this.awaitingAck.clear();
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined) await closeSocket(ws, CLOSE_GOING_AWAY, 'member stopping', graceMs);
  }

  /** Whether a message enqueued now goes out on an open connection. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  stats(): PeerStats {
    return {
      state: this.state,
      queuedBytes: this.pendingBytes,
      bufferedBytes: this.ws?.bufferedAmount ?? 0,
      ...this.counters,
    };
  }

  /** Drops a message; logs at most every DROP_LOG_INTERVAL_MS, with a count. */
  private drop(why: string): void {
    this.counters.droppedMessages++;
    this.droppedSinceLog++;
    this.reportUnreachable = true;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    const count = this.droppedSinceLog === 1 ? '' : ` (${this.droppedSinceLog} dropped since the last report)`;
    this.events.log('warn', `transport: dropping messages to ${this.peerId}: ${why}; Raft will resend${count}`);
    this.lastDropLog = now;
    this.droppedSinceLog = 0;
  }

  private connect(): void {
    this.state = 'connecting';
    this.refusal = undefined;
    const ws = new WebSocket(this.socketUrl, {
      headers: dialHeaders(this.self, this.peerId),
      maxPayload: this.settings.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      followRedirects: false,
      generateMask: zeroMask,
    });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => this.onOpen(ws));
    ws.on('unexpected-response', (_req, res) => {
      const reason = res.headers[HEADERS.reason];
      this.refusal = `refused the handshake (${res.statusCode}): ${typeof reason === 'string' ? reason : 'no reason given'}`;
      ws.terminate();
    });
    ws.on('message', (data: RawData) => this.onAck(ws, data));
    ws.on('error', (error: Error) => {
      this.refusal ??= error.message;
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.state = 'open';
    this.counters.connects++;
    this.backoff.reset();
    const again = this.counters.connects > 1 || this.lastProblem !== undefined ? ' again' : '';
    this.events.log('info', `transport: connected to ${this.peerId} at ${this.socketUrl}${again}`);
    this.lastProblem = undefined;
    this.startKeepalive(ws);
    this.flush();
    this.events.connected(this.peerId);
  }

  private onAck(ws: WebSocket, data: RawData): void {
    if (ws !== this.ws) return;
    let ack: { streamId: number; ok: boolean };
    try {
      ack = decodeSnapshotAck(messageBytes(data));
    } catch (error) {
      this.events.log('warn', `transport: ${this.peerId} sent a bad frame on our connection: ${(error as Error).message}`);
      ws.close(CLOSE_PROTOCOL, 'bad frame');
      return;
    }
    if (!this.awaitingAck.delete(ack.streamId)) return; // an abandoned stream
    this.events.snapshotStatus(this.peerId, ack.ok);
  }

  /** The socket closed or the dial failed: everything in flight is lost; redial later. */
  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    clearInterval(this.keepaliveTimer);
    const wasOpen = this.state === 'open';
    this.state = 'backoff';
    this.counters.droppedMessages += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    const failed = (this.snapshot !== undefined ? 1 : 0) + this.awaitingAck.size;
    this.snapshot = undefined;
    this.awaitingAck.clear();
    this.logProblem(wasOpen ? `connection to ${this.peerId} lost (${code}${reason ? ` ${reason}` : ''})` : `cannot reach ${this.peerId}: ${this.refusal ?? `closed with ${code}`}`);
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.events.unreachable(this.peerId);
    if (wasOpen) this.events.connectionLost(this.peerId);
    for (let i = 0; i < failed; i++) this.events.snapshotStatus(this.peerId, false);
  }

  /** Logs a failure once, not on every retry, unless it changes. */
  private logProblem(problem: string): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.events.log('warn', `transport: ${problem}; retrying with backoff`);
  }

  private sendPending(): void {
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let group: Uint8Array[] = [];
    let groupBytes = 0;
    for (const item of items) {
      if (group.length > 0 && MAX_FRAME_OVERHEAD + groupBytes + item.byteLength > this.settings.maxFrameBytes) {
        this.sendFrame(joinMessageFrame(group, groupBytes));
        group = [];
        groupBytes = 0;
      }
      group.push(item);
      groupBytes += item.byteLength;
    }
    this.sendFrame(joinMessageFrame(group, groupBytes));
  }

  private sendFrame(frame: Uint8Array, onWritten?: (error?: Error | null) => void): void {
    this.counters.sentFrames++;
    this.ws!.send(frame, { binary: true }, onWritten);
  }

  /**
   * Sends the next snapshot frames while the socket has room for them. Each written chunk
   * pulls the next one, so a large snapshot occupies at most about two chunks of memory
   * in the socket and other messages are not stuck behind all of it.
   */
  private pumpSnapshot(): void {
    const ws = this.ws;
    while (this.snapshot !== undefined && ws !== undefined && this.state === 'open' && ws.bufferedAmount < this.settings.snapshotChunkBytes) {
      const sender = this.snapshot;
      const frame = sender.nextFrame();
      if (sender.done) {
        this.awaitingAck.add(sender.streamId);
        this.snapshot = undefined;
      }
      if (frame === undefined) break;
      // The callback gets null or undefined on success, an Error on failure.
      this.sendFrame(frame, (error) => {
        if (!error && ws === this.ws) this.pumpSnapshot();
      });
    }
  }

  private startKeepalive(ws: WebSocket): void {
    let answered = true;
    ws.on('pong', () => {
      answered = true;
    });
    this.keepaliveTimer = setInterval(() => {
      if (!answered) {
        this.events.log('warn', `transport: ${this.peerId} did not answer a ping in ${KEEPALIVE_MS} ms; reconnecting`);
        ws.terminate();
        return;
      }
      answered = false;
      ws.ping();
    }, KEEPALIVE_MS);
  }
}
