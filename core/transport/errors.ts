// Errors of the peer transport. Unlike the Raft core's RaftError values these are thrown:
// a bad frame or a refused handshake ends the connection it arrived on, and the code tells
// the caller (or a log line) which rule was broken.

export type TransportErrorCode =
  /** A received frame is not valid cairn wire format (truncated, unknown type, bad field). */
  | 'TRANSPORT_BAD_FRAME'
  /** A message cannot be encoded (a field out of range, an id or context too long). */
  | 'TRANSPORT_BAD_MESSAGE'
  /** A peer refused our connection, or we refused theirs (token, cluster, member ids). */
  | 'TRANSPORT_HANDSHAKE'
  /** The peer port could not be opened (address in use, no permission). */
  | 'TRANSPORT_LISTEN'
  /** The options given to PeerTransport are unusable (bad URL, empty member id, …). */
  | 'TRANSPORT_CONFIG'
  /** The transport was stopped, or not started, when it was asked to do something. */
  | 'TRANSPORT_STOPPED';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const BAD_FRAME_PREFIX = 'bad frame: ';

/** Shorthand for the most common throw: a frame that breaks the wire format. */
export function badFrame(problem: string): TransportError {
  return new TransportError('TRANSPORT_BAD_FRAME', BAD_FRAME_PREFIX + problem);
}

/**
 * Adds where a bad-frame error happened ("message 3 (append): entry 5: …"). Decoders name
 * fields with constant strings and add the position only on the error path, so decoding a
 * good frame builds no strings.
 */
export function withinFrame(error: unknown, where: string): unknown {
  if (!(error instanceof TransportError) || error.code !== 'TRANSPORT_BAD_FRAME') return error;
  return badFrame(`${where}: ${error.message.slice(BAD_FRAME_PREFIX.length)}`);
}
