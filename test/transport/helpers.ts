// Shared pieces of the transport tests: message builders, a bounded wait for a condition,
// and members on loopback that record what they receive and report, and stop at teardown.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Test } from 'tap';
import { encodeConfChange } from '../../core/raft/index.js';
import type { AppendMessage, Entry, HeartbeatMessage, Message, SnapshotMessage } from '../../core/raft/index.js';
import { PeerTransport, encodeMessages } from '../../core/transport/index.js';
import type { PeerTransportOptions } from '../../core/transport/index.js';

export const CLUSTER = { clusterId: 'cairn-test', clusterToken: 'secret-token' };
export const HOST = '127.0.0.1';

/** Polls `condition` every few ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function heartbeat(from: string, to: string, context: number, term = 1): HeartbeatMessage {
  return { type: 'heartbeat', from, to, term, commit: context, context };
}

export function entries(first: number, count: number, bytes: number, term = 1): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    term,
    index: first + i,
    type: 'normal' as const,
    data: new Uint8Array(bytes).fill((first + i) % 251),
  }));
}

export function append(from: string, to: string, prevLogIndex: number, count: number, bytes: number): AppendMessage {
  return { type: 'append', from, to, term: 1, prevLogIndex, prevLogTerm: prevLogIndex === 0 ? 0 : 1, commit: prevLogIndex, entries: entries(prevLogIndex + 1, count, bytes) };
}

export function snapshotMessage(from: string, to: string, data: Uint8Array): SnapshotMessage {
  return {
    type: 'snapshot', from, to, term: 3,
    snapshot: { metadata: { index: 1000, term: 2, confState: { voters: [from, to], learners: ['l1'] } }, data },
  };
}

const MAX = Number.MAX_SAFE_INTEGER;

/** One message of every type, with fields chosen to exercise the encoding. */
export function everyMessage(): Message[] {
  const binary = pseudoRandomBytes(300, 7);
  return [
    {
      type: 'append', from: 'a', to: 'b', term: 5, prevLogIndex: 10, prevLogTerm: 4, commit: 9,
      entries: [
        { term: 4, index: 11, type: 'normal', data: binary },
        { term: 5, index: 12, type: 'normal', data: new Uint8Array(0) },
        { term: 5, index: 13, type: 'confChange', data: encodeConfChange({ type: 'addLearner', nodeId: 'd' }) },
      ],
    },
    { type: 'append', from: 'a', to: 'b', term: MAX, prevLogIndex: MAX, prevLogTerm: MAX, commit: MAX, entries: [] },
    { type: 'appendResponse', from: 'b', to: 'a', term: 5, index: 12, reject: false, hintIndex: 0, hintTerm: 0 },
    { type: 'appendResponse', from: 'b', to: 'a', term: 0, index: 100, reject: true, hintIndex: 99, hintTerm: 3 },
    { type: 'heartbeat', from: 'a', to: 'b', term: 5, commit: 2 ** 40, context: 17 },
    { type: 'heartbeatResponse', from: 'b', to: 'a', term: 5, context: 0 },
    { type: 'vote', from: 'c', to: 'a', term: 6, lastLogIndex: 12, lastLogTerm: 5, transfer: true },
    { type: 'preVote', from: 'c', to: 'a', term: 7, lastLogIndex: 0, lastLogTerm: 0, transfer: false },
    { type: 'voteResponse', from: 'a', to: 'c', term: 6, reject: false },
    { type: 'preVoteResponse', from: 'a', to: 'c', term: 6, reject: true },
    {
      type: 'snapshot', from: 'a', to: 'd', term: 5,
      snapshot: { metadata: { index: 12, term: 5, confState: { voters: ['a', 'b', 'c'], learners: ['d'] } }, data: binary },
    },
    {
      type: 'snapshot', from: 'a', to: 'd', term: 5,
      snapshot: { metadata: { index: 1, term: 1, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) },
    },
    { type: 'propose', from: 'b', to: 'a', term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: binary }] },
    { type: 'readIndex', from: 'b', to: 'a', term: 0, context: 'read-42' },
    { type: 'readIndexResponse', from: 'a', to: 'b', term: 5, index: 12, context: '' },
    { type: 'timeoutNow', from: 'a', to: 'b', term: 5 },
    // Ids and contexts are any string: multi-byte characters, an emoji, a leading BOM.
    { type: 'readIndex', from: 'mémbre-ü', to: '成员🦀', term: 0, context: '\uFEFFctx ✓' },
  ];
}

/**
 * Whether two message lists are equal, compared by their encoding: t.same walks large
 * Uint8Arrays element by element and takes seconds on megabytes (the codec tests establish
 * that encoding is exact and canonical).
 */
export function sameMessages(a: readonly Message[], b: readonly Message[]): boolean {
  return Buffer.from(encodeMessages(a)).equals(encodeMessages(b));
}

/** Deterministic pseudo-random bytes (xorshift), so a failing run can be repeated. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A transport with everything it receives and reports recorded. */
export interface Member {
  readonly id: string;
  readonly transport: PeerTransport;
  readonly url: string;
  readonly port: number;
  readonly inbox: Message[];
  readonly unreachable: string[];
  readonly snapshotStatus: Array<{ id: string; ok: boolean }>;
  readonly logs: string[];
}

export type MemberOptions = Partial<Omit<PeerTransportOptions, 'onMessages' | 'onUnreachable' | 'onSnapshotStatus' | 'onLog'>>;

/** Starts a member on loopback (port 0 unless given) and stops it at teardown. */
export async function startMember(t: Test, id: string, options: MemberOptions = {}): Promise<Member> {
  const inbox: Message[] = [];
  const unreachable: string[] = [];
  const snapshotStatus: Array<{ id: string; ok: boolean }> = [];
  const logs: string[] = [];
  const transport = new PeerTransport({
    ...CLUSTER,
    memberId: id,
    listen: { host: HOST, port: 0 },
    peers: new Map(),
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    ...options,
    onMessages: (messages) => inbox.push(...messages),
    onUnreachable: (peer) => unreachable.push(peer),
    onSnapshotStatus: (peer, ok) => snapshotStatus.push({ id: peer, ok }),
    onLog: (level, message) => logs.push(`${level} ${message}`),
  });
  t.teardown(() => transport.stop());
  const { port } = await transport.start();
  return { id, transport, url: `http://${HOST}:${port}`, port, inbox, unreachable, snapshotStatus, logs };
}

/** Starts members that all know each other. */
export async function startCluster(t: Test, ids: readonly string[], options: MemberOptions = {}): Promise<Member[]> {
  const members: Member[] = [];
  for (const id of ids) members.push(await startMember(t, id, options));
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, b.url);
  return members;
}

/** Waits until `from`'s connection to `to` is open, by stats. */
export function connected(from: Member, to: string): Promise<void> {
  return waitFor(`${from.id} connected to ${to}`, () => from.transport.stats().peers[to]?.state === 'open');
}

/**
 * A peer that completes the WebSocket handshake and then never reads: what a member stuck
 * in a long pause looks like from the sender's side. `destroy()` drops every connection.
 */
export async function startStalledPeer(t: Test): Promise<{ url: string; sockets: Socket[]; destroy(): void }> {
  const sockets: Socket[] = [];
  const server = createServer();
  server.on('upgrade', (req, socket: Socket) => {
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pause();
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const destroy = (): void => {
    for (const s of sockets) s.destroy();
  };
  t.teardown(async () => {
    destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://${HOST}:${(server.address() as AddressInfo).port}`, sockets, destroy };
}
