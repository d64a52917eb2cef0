// The cairn client: connect() picks a live member and returns a CairnClient whose typed
// methods retry what may be retried and fail over between members; see README.md
// ("Client library and cairnctl") for the error codes and the retry rules.
import { setMaxListeners } from 'node:events';
import { ErrorCodes } from '../core/api/types.js';
import type {
  ClusterStatus, KvEvent, KvResult, TxnOp, TxnParams, TxnResult,
} from '../core/api/types.js';
import type { Connection } from './connection.js';
import { EndpointPool } from './endpoints.js';
import { LeaderRoute, wantsLeader } from './leader-route.js';
import {
  CairnError, ClientErrorCodes, closedError, deadlineError, isCairnError, outcomeUnknownError,
} from './errors.js';
import { CallLink, withRetries } from './retry.js';
import type { CallSignal } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { MAX_BUFFERED_DEFAULT, Subscription } from './subscription.js';
import type {
  AddMemberResult, CallOptions, ConnectOptions, CreateOptions, DeleteOptions, GetOptions,
  MembersResult, RawCallOptions, SetOptions, SubscribeOptions, TransferLeaderResult, WaitOptions,
} from './types.js';
import {
  expectKvResult, expectObject, expectTxnResult, expectWatchNotice, expectWatchStarted,
} from './validate.js';
import { Watch } from './watch.js';
import type { WatchHost, WatchOptions } from './watch.js';

/** Methods that change nothing, so they may be sent again after a lost connection. */
const READ_METHODS: ReadonlySet<string> = new Set(['kv.get', 'kv.wait', 'cluster.status', 'cluster.members']);

interface Settings extends RetryPolicy {
  requestTimeoutMs: number;
}

/** Connects to the first member that answers; rejects with code 301 if none does. */
export async function connect(options: ConnectOptions): Promise<CairnClient> {
  const endpoints = checkEndpoints(options.endpoints);
  const client = new CairnClient(endpoints, options);
  try {
    await client.ready({ signal: options.signal, timeoutMs: Infinity });
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

function checkEndpoints(endpoints: readonly string[]): string[] {
  const bad = (why: string): CairnError => new CairnError(ErrorCodes.InvalidParams, `endpoints: ${why}`, undefined, false);
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw bad('give at least one, e.g. http://127.0.0.1:4001');
  for (const endpoint of endpoints) {
    if (!URL.canParse(endpoint) || !/^(https?|wss?):$/.test(new URL(endpoint).protocol)) {
      throw bad(`${String(endpoint)} is not an http(s):// or ws(s):// URL`);
    }
  }
  return [...endpoints];
}

export class CairnClient implements WatchHost {
  readonly retryPolicy: RetryPolicy;
  private readonly settings: Settings;
  private readonly pool: EndpointPool;
  /** Where writes and linearizable reads go when the leader is one of the endpoints. */
  private readonly route: LeaderRoute | undefined;
  private readonly closing = new AbortController();
  private readonly removeSignalListener: () => void;

  /** Use connect(), which also waits for the first connection. */
  constructor(endpoints: readonly string[], options: ConnectOptions) {
    // Every call or stream in flight listens on it; dozens at once are normal, not a leak.
    setMaxListeners(0, this.closing.signal);
    const random = options.random ?? Math.random;
    this.settings = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 50,
      retryMaxMs: options.retryMaxMs ?? 2_000,
      random,
    };
    this.retryPolicy = this.settings;
    const connection = {
      connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
      maxPayloadBytes: options.maxPayloadBytes ?? 64 * 1024 * 1024,
      keepaliveMs: options.keepaliveMs ?? 5_000,
    };
    this.pool = new EndpointPool(endpoints, connection, options.shuffleEndpoints === false ? undefined : random);
    this.route = options.leaderRouting !== false && endpoints.length > 1
      ? new LeaderRoute(endpoints, connection, () => this.pool.open, this.closing.signal)
      : undefined;
    const onAbort = (): void => this.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.removeSignalListener = () => options.signal?.removeEventListener('abort', onAbort);
  }

  /** The endpoints in the order they are tried. */
  get endpoints(): readonly string[] {
    return this.pool.endpoints;
  }

  get closingSignal(): AbortSignal {
    return this.closing.signal;
  }

  /** Ends every call, stream and timer of this client; it cannot be used again. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort(closedError('call'));
    this.pool.close();
    this.route?.close();
    this.removeSignalListener();
  }

  /** Any method of API.md; writes are retried only on 301 unless `idempotent` says so. */
  async call<T = unknown>(method: string, params: object = {}, options: RawCallOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? READ_METHODS.has(method);
    const route = this.route !== undefined && wantsLeader(method, params) ? this.route : undefined;
    return this.run(method, options, idempotent, (conn, signal) => conn.request(method, params, signal), undefined, route) as Promise<T>;
  }

  /** Resolves once a socket to some member is open (connect() waits for this). */
  async ready(options: CallOptions = {}): Promise<void> {
    await this.run('connect', options, true, () => Promise.resolve());
  }

  /**
   * Starts a server-pushed stream (kv.watch, election.observe, …) and iterates over its
   * notifications' raw `result`s. The stream ends with a thrown CairnError when the member
   * ends it (its error) or the connection drops (602); it is not resumed (watch() is).
   */
  async subscribe<T = unknown>(method: string, params: object, options: SubscribeOptions = {}): Promise<Subscription<T>> {
    const sub = new Subscription<T>(method, options.maxBuffered ?? MAX_BUFFERED_DEFAULT, options.signal);
    try {
      sub.started = await this.run(method, options, options.idempotent ?? true, async (conn, signal) => {
        const { id, result } = await conn.subscribe(method, params, sub, signal);
        sub.bind(() => conn.unsubscribe(id));
        return result;
      }, options.maxRetries);
      return sub;
    } catch (error) {
      sub.close();
      throw error;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<KvResult> {
    const [call, params] = splitOptions(options);
    return expectKvResult('kv.get', await this.call('kv.get', { key, ...params }, call));
  }

  /** Sets a key; leave `value` undefined for a directory (dir: true) or a TTL refresh. */
  async set(key: string, value: string | undefined, options: SetOptions = {}): Promise<KvResult> {
    const [call, params] = splitOptions(options);
    const body = value === undefined ? { key, ...params } : { key, value, ...params };
    return expectKvResult('kv.set', await this.call('kv.set', body, call));
  }

  /** Creates an in-order key under `dirKey` (its key is the directory plus the new index). */
  async create(dirKey: string, value?: string, options: CreateOptions = {}): Promise<KvResult> {
    const [call, params] = splitOptions(options);
    const body = value === undefined ? { key: dirKey, ...params } : { key: dirKey, value, ...params };
    return expectKvResult('kv.create', await this.call('kv.create', body, call));
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<KvResult> {
    const [call, params] = splitOptions(options);
    return expectKvResult('kv.delete', await this.call('kv.delete', { key, ...params }, call));
  }

  /**
   * The first event at or after `waitIndex` (or after now); null when `timeoutMs` passes.
   * Carried as a kv.watch stream rather than kv.wait: JSON-RPC has no way to cancel a
   * request, but a stream can be unsubscribed, so an aborted or timed-out wait leaves
   * nothing behind on the member. After a lost connection it resumes from the index the
   * stream started at, so no event in between is missed.
   */
  async wait(key: string, options: WaitOptions = {}): Promise<KvEvent | null> {
    const { signal, timeoutMs: waitMs, waitIndex, recursive } = options;
    const timeout = waitMs === undefined ? undefined : AbortSignal.timeout(waitMs);
    const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const stop = signals.length === 0 ? undefined : AbortSignal.any(signals);
    let from = waitIndex;
    for (let attempt = 0; ; attempt++) {
      let sub: Subscription<unknown> | undefined;
      try {
        const params = { key, ...(recursive === undefined ? {} : { recursive }), ...(from === undefined ? {} : { waitIndex: from }) };
        sub = await this.subscribe<unknown>('kv.watch', params, stop === undefined ? {} : { signal: stop });
        from ??= expectWatchStarted('kv.watch', sub.started).index + 1;
        for await (const item of sub) {
          const notice = expectWatchNotice('kv.watch', item);
          if ('action' in notice) return notice;
        }
        throw closedError('wait');
      } catch (error) {
        if (timeout?.aborted === true && signal?.aborted !== true) return null;
        const lost = isCairnError(error) && error.code === ClientErrorCodes.ConnectionLost;
        if (!lost || attempt >= this.settings.maxRetries) throw error;
      } finally {
        sub?.close();
      }
    }
  }

  /** Atomic compare and branch; retried after a lost connection only when it only reads. */
  async txn(params: TxnParams, options: CallOptions = {}): Promise<TxnResult> {
    const readOnly = (ops: readonly TxnOp[] = []): boolean => ops.every((op) => 'get' in op);
    const idempotent = readOnly(params.success) && readOnly(params.failure);
    return expectTxnResult('kv.txn', await this.call('kv.txn', params, { ...options, idempotent }));
  }

  /** An endless, resuming watch: see Watch (./watch.ts). */
  watch(key: string, options: WatchOptions = {}): Watch {
    return new Watch(this, key, options);
  }

  async status(options: CallOptions = {}): Promise<ClusterStatus> {
    return expectObject<ClusterStatus>('cluster.status', await this.call('cluster.status', {}, options));
  }

  async members(options: CallOptions = {}): Promise<MembersResult> {
    return expectObject<MembersResult>('cluster.members', await this.call('cluster.members', {}, options));
  }

  async addMember(peerUrls: readonly string[], name?: string, options: CallOptions = {}): Promise<AddMemberResult> {
    const params = name === undefined ? { peerUrls } : { peerUrls, name };
    return expectObject<AddMemberResult>('cluster.addMember', await this.call('cluster.addMember', params, options));
  }

  async removeMember(id: string, options: CallOptions = {}): Promise<MembersResult> {
    return expectObject<MembersResult>('cluster.removeMember', await this.call('cluster.removeMember', { id }, options));
  }

  async transferLeader(id: string, options: CallOptions = {}): Promise<TransferLeaderResult> {
    return expectObject<TransferLeaderResult>('cluster.transferLeader', await this.call('cluster.transferLeader', { id }, options));
  }

  /**
   * One call with retries: each attempt takes the current connection (or sweeps for one)
   * and runs `send` on it. A lost connection fails a non-idempotent request with 302, as
   * it may have been applied; such a request is retried only on 301, when nothing was.
   * With a `route`, an attempt goes to the leader's connection when one is open.
   */
  private async run<T>(
    what: string,
    options: CallOptions,
    idempotent: boolean,
    send: (conn: Connection, signal: CallSignal) => Promise<T>,
    maxRetries = this.settings.maxRetries,
    route?: LeaderRoute,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.settings.requestTimeoutMs;
    const deadlineMs = Date.now() + timeoutMs;
    const link = new CallLink([options.signal, this.closing.signal], deadlineMs, () => deadlineError(what, timeoutMs));
    const mayRetry = (error: CairnError): boolean =>
      idempotent ? error.retryable : error.code === ErrorCodes.NoLeader;
    try {
      return await withRetries(what, { ...this.settings, maxRetries }, link, deadlineMs, mayRetry, async (signal) => {
        const conn = route?.connection() ?? await this.pool.get(signal);
        try {
          return await send(conn, signal);
        } catch (error) {
          if (route !== undefined && isCairnError(error) && leaderMayHaveMoved(error.code)) route.suspect();
          if (!idempotent && isCairnError(error) && error.code === ClientErrorCodes.ConnectionLost) {
            throw outcomeUnknownError(what, conn.endpoint);
          }
          throw error;
        }
      });
    } finally {
      link.dispose();
    }
  }
}

/** Errors after which the member a routed call went to may no longer lead. */
function leaderMayHaveMoved(code: number): boolean {
  return code === ErrorCodes.NoLeader || code === ErrorCodes.Timeout || code === ClientErrorCodes.ConnectionLost;
}

/** Splits a method's options into the call's own (signal, timeoutMs) and its wire params. */
function splitOptions<T extends CallOptions>(options: T): [CallOptions, Omit<T, 'signal' | 'timeoutMs'>] {
  const { signal, timeoutMs, ...params } = options;
  return [{ signal, timeoutMs }, params];
}
