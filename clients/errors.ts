// The one error type of the client library. Every failure a caller sees, whether a member
// answered with a JSON-RPC error or the client gave up on its own (no endpoint reachable,
// connection lost, aborted, closed), is a CairnError with a numeric code, so programs branch
// on `code` and `retryable` only, never on message text.
import { ErrorCodes } from '../core/api/types.js';
import type { ErrorData, ErrorObject } from '../core/api/types.js';

/**
 * Codes the client raises itself; no member ever sends them. They sit in the 6xx range, which
 * ../shared/API.md leaves unused, so they cannot be mistaken for a server's answer. Connection
 * trouble is reported with the server's own codes where the meaning is the same: 301 when no
 * endpoint can be reached, 302 when a write was in flight on a lost connection or a call ran
 * past its deadline (its outcome is unknown).
 */
export const ClientErrorCodes = {
  /** The caller's AbortSignal fired. The error's `name` is also 'AbortError'. */
  Aborted: 600,
  /** close() was called on the client (or on a stream) while the call was pending. */
  Closed: 601,
  /**
   * The connection to the member was lost. Reads are retried on another member and writes
   * become 302 before a caller sees it; a raw subscribe() stream ends with it (subscribe
   * again; watch() does that by itself).
   */
  ConnectionLost: 602,
  /** A member sent a reply that is not valid JSON-RPC or not the promised shape. */
  BadReply: 603,
  /** A stream's consumer fell more than `maxBuffered` items behind; it was unsubscribed. */
  Overflow: 604,
} as const;

const BRAND = Symbol.for('cairn.CairnError');

export class CairnError extends Error {
  readonly code: number;
  readonly data?: ErrorData;
  /** True when the same request may succeed later unchanged. */
  readonly retryable: boolean;
  /** Lets `isCairnError` recognise errors made by another copy of this module. */
  readonly [BRAND] = true;

  constructor(code: number, message: string, data?: ErrorData, retryable?: boolean) {
    super(message);
    this.code = code;
    if (data !== undefined) this.data = data;
    this.retryable = retryable ?? (data?.retryable === true || code === ErrorCodes.NoLeader);
    // Callers that check `name === 'AbortError'` (as for fetch) work unchanged.
    this.name = code === ClientErrorCodes.Aborted ? 'AbortError' : 'CairnError';
  }

  /** The error a member sent in a reply or in a stream's last notification. */
  static fromWire(error: ErrorObject): CairnError {
    return new CairnError(error.code, error.message, error.data);
  }
}

export function isCairnError(value: unknown): value is CairnError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

export const abortedError = (what: string): CairnError =>
  new CairnError(ClientErrorCodes.Aborted, `${what}: aborted by the caller`, undefined, false);

export const closedError = (what: string): CairnError =>
  new CairnError(ClientErrorCodes.Closed, `${what}: the client was closed`, undefined, false);

export const connectionLostError = (what: string, endpoint: string): CairnError =>
  new CairnError(ClientErrorCodes.ConnectionLost, `${what}: connection to ${endpoint} lost`, undefined, true);

export const badReplyError = (what: string, problem: string): CairnError =>
  new CairnError(ClientErrorCodes.BadReply, `${what}: bad reply from the member: ${problem}`, undefined, false);

/** A write whose connection dropped before its reply: it may or may not have been applied. */
export const outcomeUnknownError = (what: string, endpoint: string): CairnError =>
  new CairnError(
    ErrorCodes.Timeout,
    `${what}: connection to ${endpoint} lost before the reply; the outcome is unknown, read before retrying`,
    { retryable: true, cause: 'connection lost' },
    true,
  );

export const deadlineError = (what: string, ms: number): CairnError =>
  new CairnError(
    ErrorCodes.Timeout,
    `${what}: no answer within ${ms} ms; if it was a write, its outcome is unknown`,
    { retryable: true, cause: 'deadline' },
    true,
  );

export const unreachableError = (endpoints: readonly string[], lastProblem: string): CairnError =>
  new CairnError(
    ErrorCodes.NoLeader,
    `no endpoint reachable (tried ${endpoints.join(', ')}): ${lastProblem}`,
    { retryable: true, cause: 'unreachable' },
    true,
  );
