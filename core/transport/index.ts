// The public surface of the peer transport: import from here, not from the files behind it.
export { decodeMessages, encodeMessages, WIRE_VERSION } from './codec.js';
export { TransportError } from './errors.js';
export type { TransportErrorCode } from './errors.js';
export type { PeerTransportOptions } from './options.js';
export type { PeerState, PeerStats } from './peer.js';
export { PeerTransport } from './transport.js';
export type { TransportStats } from './transport.js';
