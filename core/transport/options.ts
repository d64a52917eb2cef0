// PeerTransport's options: what the member passes, the defaults, and the checks that turn a
// misconfiguration into one clear TRANSPORT_CONFIG error at construction instead of a
// confusing failure on the first send.
import type { Message } from '../raft/index.js';
import { MAX_FRAME_OVERHEAD, MAX_ID_BYTES } from './codec.js';
import { TransportError } from './errors.js';
import type { PeerSettings } from './peer.js';
import { utf8Length } from './wire.js';

const MiB = 1024 * 1024;

export interface PeerTransportOptions {
  memberId: string;
  clusterId: string;
  clusterToken: string;
  /** Where to listen for peers, e.g. {host: '127.0.0.1', port: 7001}; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** memberId -> peer URL like 'http://127.0.0.1:7002' (the ws path /raft is appended). */
  peers: ReadonlyMap<string, string>;
  /** Inbound messages, already validated; called from the event loop. */
  onMessages(messages: Message[]): void;
  /** A send to that peer failed or its connection is down (the member calls rawNode.reportUnreachable). */
  onUnreachable?(memberId: string): void;
  /**
   * An open connection to or from that peer closed. A killed process closes its sockets at
   * once, so the member takes this as a hint that the peer is gone (rawNode.reportLeaderLost).
   */
  onConnectionLost?(memberId: string): void;
  /** This member's connection to that peer opened: messages to it go out again. */
  onConnected?(memberId: string): void;
  /** Outcome of a 'snapshot' message (the member calls rawNode.reportSnapshot). */
  onSnapshotStatus?(memberId: string, succeeded: boolean): void;
  onLog?(level: 'info' | 'warn', message: string): void;
  /** Per peer, default 64 MiB; beyond it messages are dropped (and onUnreachable called). */
  maxQueueBytes?: number;
  /** Default 1 MiB. */
  snapshotChunkBytes?: number;
  /** ws maxPayload, default 16 MiB; the largest frame sent or accepted. */
  maxFrameBytes?: number;
  /** Largest snapshot accepted from a peer, default 1 GiB (reassembly holds it in memory). */
  maxSnapshotBytes?: number;
  /** Exponential backoff with jitter between dials, defaults 50 / 2000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface ResolvedOptions extends PeerSettings {
  readonly maxSnapshotBytes: number;
}

export function resolveOptions(o: PeerTransportOptions): ResolvedOptions {
  checkId('memberId', o.memberId);
  if (o.clusterId === '') throw config('clusterId must not be empty');
  if (o.clusterToken === '') throw config('clusterToken must not be empty: it is what keeps strangers out');
  if (!Number.isInteger(o.listen.port) || o.listen.port < 0 || o.listen.port > 65535) {
    throw config(`listen.port ${o.listen.port} is not a port number`);
  }
  const resolved: ResolvedOptions = {
    maxQueueBytes: o.maxQueueBytes ?? 64 * MiB,
    snapshotChunkBytes: o.snapshotChunkBytes ?? 1 * MiB,
    maxFrameBytes: o.maxFrameBytes ?? 16 * MiB,
    maxSnapshotBytes: o.maxSnapshotBytes ?? 1024 * MiB,
    reconnectMinMs: o.reconnectMinMs ?? 50,
    reconnectMaxMs: o.reconnectMaxMs ?? 2000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw config(`${name} must be a positive integer, not ${value}`);
  }
  if (resolved.maxFrameBytes < 1024) throw config(`maxFrameBytes ${resolved.maxFrameBytes} is below 1024`);
  if (resolved.snapshotChunkBytes > resolved.maxFrameBytes - 2 * MAX_FRAME_OVERHEAD) {
    throw config(`snapshotChunkBytes ${resolved.snapshotChunkBytes} does not fit in a ${resolved.maxFrameBytes}-byte frame`);
  }
  if (resolved.reconnectMinMs > resolved.reconnectMaxMs) {
    throw config(`reconnectMinMs ${resolved.reconnectMinMs} is above reconnectMaxMs ${resolved.reconnectMaxMs}`);
  }
  return resolved;
}

export function checkId(what: string, id: string): void {
  if (id === '' || utf8Length(id) > MAX_ID_BYTES) throw config(`${what} must be 1..${MAX_ID_BYTES} bytes, not ${JSON.stringify(id)}`);
}

function config(message: string): TransportError {
  return new TransportError('TRANSPORT_CONFIG', message);
}
