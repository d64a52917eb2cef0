// The handshake on the peer port: the dialer names its cluster, proves it holds the cluster
// token, and says who it is and whom it expects to reach, all in the WebSocket upgrade
// request's headers. The listener refuses with a 4xx and a reason header before any frame
// flows, so a member of another cluster, a stale member or a misrouted dial never gets a
// message in — and the dialer can log why.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TransportError } from './errors.js';
import { WIRE_VERSION } from './codec.js';

export const RAFT_PATH = '/raft';

export const HEADERS = {
  cluster: 'x-cairn-cluster',
  token: 'x-cairn-token',
  from: 'x-cairn-from',
  to: 'x-cairn-to',
  wire: 'x-cairn-wire',
  /** On a refusal: why, for the dialer's log. */
  reason: 'x-cairn-reason',
} as const;

export interface HandshakeIdentity {
  readonly clusterId: string;
  readonly clusterToken: string;
  readonly memberId: string;
}

export type HandshakeVerdict =
  | { readonly ok: true; readonly from: string }
  | { readonly ok: false; readonly status: number; readonly reason: string };

/** The WebSocket URL of a peer given as 'http://host:port' (the path /raft is appended). */
export function peerSocketUrl(peerUrl: string): string {
  let url: URL;
  try {
    url = new URL(peerUrl);
  } catch {
    throw new TransportError('TRANSPORT_CONFIG', `peer URL ${JSON.stringify(peerUrl)} is not a URL`);
  }
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) {
    throw new TransportError('TRANSPORT_CONFIG', `peer URL ${JSON.stringify(peerUrl)} must be http(s) or ws(s)`);
  }
  url.protocol = scheme;
  url.pathname = url.pathname.replace(/\/+$/, '') + RAFT_PATH;
  return url.toString();
}

/**
 * Headers of the dial from `self` to `to`. Member ids are percent-encoded because a header
 * value may only hold visible ASCII, and an id may be any string.
 */
export function dialHeaders(self: HandshakeIdentity, to: string): Record<string, string> {
  return {
    [HEADERS.cluster]: encodeURIComponent(self.clusterId),
    [HEADERS.token]: encodeURIComponent(self.clusterToken),
    [HEADERS.from]: encodeURIComponent(self.memberId),
    [HEADERS.to]: encodeURIComponent(to),
    [HEADERS.wire]: String(WIRE_VERSION),
  };
}

/** Checks an upgrade request against this member's identity and its current peers. */
export function checkHandshake(
  path: string | undefined,
  headers: IncomingHttpHeaders,
  self: HandshakeIdentity,
  isPeer: (memberId: string) => boolean,
): HandshakeVerdict {
  const refuse = (status: number, reason: string): HandshakeVerdict => ({ ok: false, status, reason });
  if (path === undefined || path.split('?')[0] !== RAFT_PATH) return refuse(404, `no such path ${JSON.stringify(path)}; peers dial ${RAFT_PATH}`);
  if (header(headers, HEADERS.wire) !== String(WIRE_VERSION)) {
    return refuse(400, `wire version ${JSON.stringify(header(headers, HEADERS.wire))}, this member speaks ${WIRE_VERSION}`);
  }
  // The token first: a dialer without it learns nothing else about this cluster.
  const token = decoded(headers, HEADERS.token);
  if (token === undefined || !sameSecret(token, self.clusterToken)) return refuse(401, 'wrong cluster token');
  const cluster = decoded(headers, HEADERS.cluster);
  if (cluster !== self.clusterId) return refuse(403, `cluster ${JSON.stringify(cluster)} is not this member's cluster ${JSON.stringify(self.clusterId)}`);
  const to = decoded(headers, HEADERS.to);
  if (to !== self.memberId) return refuse(403, `dialed member ${JSON.stringify(to)} but this is ${JSON.stringify(self.memberId)}`);
  const from = decoded(headers, HEADERS.from);
  if (from === undefined || from === '') return refuse(403, 'no member id in the handshake');
  if (from === self.memberId) return refuse(403, `member ${JSON.stringify(from)} dialed itself`);
  if (!isPeer(from)) return refuse(403, `member ${JSON.stringify(from)} is not a peer of ${JSON.stringify(self.memberId)}`);
  return { ok: true, from };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? undefined : value;
}

function decoded(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Constant-time comparison (hashing first makes the lengths equal, as timingSafeEqual needs). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
