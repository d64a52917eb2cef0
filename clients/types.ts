// The option bags and cluster result shapes of the client library's public methods. Wire
// params come from ../core/api/types.ts (each method's options are its params without the
// positional ones, plus signal and timeoutMs), so they cannot drift from the server's.
import type {
  CreateParams, DeleteParams, GetParams, MemberView, SetParams, WaitParams,
} from '../core/api/types.js';

export interface ConnectOptions {
  /** Member client URLs, e.g. http://127.0.0.1:4001 (the socket goes to ws://…/rpc). */
  endpoints: readonly string[];
  /** How long one endpoint may take to open a socket (default 2,000 ms). */
  connectTimeoutMs?: number;
  /** A call's default deadline, retries included (default 10,000 ms). */
  requestTimeoutMs?: number;
  /** Retries of a failed attempt per call, and sweeps over the endpoints (default 5). */
  maxRetries?: number;
  /** The first backoff step; full jitter over a doubling step (default 50 ms). */
  retryBaseMs?: number;
  /** The largest backoff step (default 2,000 ms). */
  retryMaxMs?: number;
  /** The largest frame accepted from a member (default 64 MiB). */
  maxPayloadBytes?: number;
  /**
   * Ping interval; a member that misses a ping's answer for this long is given up on and
   * another is tried (default 5,000 ms; 0 turns it off).
   */
  keepaliveMs?: number;
  /** Aborts connecting; once connected, aborting it closes the client. */
  signal?: AbortSignal;
  /** The random source for endpoint order and jitter (tests fix it). */
  random?: () => number;
  /**
   * Try the endpoints in a random order, so that many clients spread over the members
   * (default true); false tries them in the order given.
   */
  shuffleEndpoints?: boolean;
  /**
   * Send writes and linearizable reads to the Raft leader's member directly, over a second
   * socket, when that member is one of the endpoints (default true). Any member would
   * forward them; going straight there saves a hop and lets the leader batch writes.
   * Watches, waits and serializable reads stay on the first connection.
   */
  leaderRouting?: boolean;
}

export interface CallOptions {
  /** Aborting it fails the call with an AbortError (CairnError code 600). */
  signal?: AbortSignal;
  /** This call's deadline, retries included; past it the call fails with code 302. */
  timeoutMs?: number;
}

export interface RawCallOptions extends CallOptions {
  /**
   * May the request be sent again after its connection was lost, or after any retryable
   * error? Default: true for kv.get, kv.wait, cluster.status and cluster.members. Other
   * methods are retried only on 301 (nothing was proposed).
   */
  idempotent?: boolean;
}

export interface SubscribeOptions extends RawCallOptions {
  /** Undelivered notifications held at most before the stream ends with code 604. */
  maxBuffered?: number;
  /** Retries of starting the stream (default: the client's maxRetries). */
  maxRetries?: number;
}

export type GetOptions = CallOptions & Omit<GetParams, 'key'>;
export type SetOptions = CallOptions & Omit<SetParams, 'key' | 'value'>;
export type CreateOptions = CallOptions & Omit<CreateParams, 'key' | 'value'>;
export type DeleteOptions = CallOptions & Omit<DeleteParams, 'key'>;
/**
 * kv.wait's params. `timeoutMs` here is the member's wait (the answer is null when it
 * passes); the call's own deadline is that plus the client's requestTimeoutMs, or none.
 */
export type WaitOptions = Omit<WaitParams, 'key'> & { signal?: AbortSignal };

export interface MembersResult { members: MemberView[] }
export interface AddMemberResult { member: MemberView; members: MemberView[] }
export interface TransferLeaderResult { leaderId: string }
