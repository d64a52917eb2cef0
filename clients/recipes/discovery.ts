// Client-side helpers of the discovery recipe (API.md "Service discovery"), built on
// CairnClient.call/subscribe: registerService keeps a registration alive by itself and
// registers it again, with its current data, whenever it lapsed (a long pause, a lost
// connection, a member that died); listServiceInstances and listServices read; watchService
// yields the whole instance list after every change and subscribes again when its stream
// ends for a reason that may pass (a lost connection, a slow consumer).
import type { Instance, ServiceStatus } from '../../recipes/discovery/instance.js';
import type { CairnClient } from '../client.js';
import { ClientErrorCodes, isCairnError } from '../errors.js';
import { backoffMs, sleep } from '../retry.js';

export type ServiceInstance = Instance;
export type ServiceInstanceStatus = ServiceStatus;
export const SERVICE_STATUSES: readonly ServiceInstanceStatus[] = ['passing', 'warning', 'critical', 'maintenance'];

/** One service.watch notification: the whole list as of store index `index`. */
export interface ServiceWatchUpdate {
  instances: ServiceInstance[];
  index: number;
}

export interface RegisterServiceOptions {
  service: string;
  instance: string;
  /** A URL with a scheme (http://10.0.0.5:8080) or host:port (10.0.0.5:8080). */
  endpoint: string;
  meta?: Record<string, string>;
  status?: ServiceInstanceStatus;
  /** Seconds the registration outlives its last heartbeat (default 10). */
  ttl?: number;
  /** Aborting it deregisters (once, best effort) and stops heartbeating. */
  signal?: AbortSignal;
  /** A heartbeat or re-registration failed; it is tried again shortly. */
  onError?(error: unknown): void;
  /** Each successful (re-)registration, the first one included. */
  onRegistered?(instance: ServiceInstance): void;
}

type Caller = Pick<CairnClient, 'call'>;

const DEFAULT_TTL_SECONDS = 10;
/** After a failed heartbeat, the next one comes this soon (or at the usual period if sooner). */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * How long to wait before the next heartbeat: a third of the TTL, so two may fail before the
 * registration lapses; after a failure at most RETRY_AFTER_FAILURE_MS, so a registration
 * lost with a connection comes back soon after the connection does.
 */
export function serviceHeartbeatDelayMs(ttlSeconds: number, lastSucceeded: boolean): number {
  const periodMs = Math.max(100, Math.floor((ttlSeconds * 1000) / 3));
  return lastSucceeded ? periodMs : Math.min(periodMs, RETRY_AFTER_FAILURE_MS);
}

const codeOf = (error: unknown): number | undefined => (isCairnError(error) ? error.code : undefined);

/** A registration kept alive in the background; see registerService. */
export class ServiceRegistration {
  private current: ServiceInstance | undefined;
  private count = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Heartbeats, status changes and registrations run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private status: ServiceInstanceStatus;
  private readonly ttl: number;
  private readonly removeAbortListener: () => void;

  constructor(private readonly client: Caller, private readonly options: RegisterServiceOptions) {
    this.status = options.status ?? 'passing';
    this.ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
    const onAbort = (): void => void this.deregister().catch((e: unknown) => this.options.onError?.(e));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.removeAbortListener = () => options.signal?.removeEventListener('abort', onAbort);
  }

  /** The instance as last registered, with the status last set. */
  get instance(): ServiceInstance {
    if (this.current === undefined) throw new Error('registerService: not registered yet');
    return { ...this.current, status: this.status };
  }

  /** How many times it was registered (1 + re-registrations after it lapsed). */
  get registrations(): number {
    return this.count;
  }

  get isClosed(): boolean {
    return this.stopped;
  }

  /** Registers for the first time and starts heartbeating; throws if registering fails. */
  async start(): Promise<void> {
    await this.serial(() => this.register(true));
    this.schedule(true);
  }

  /** Changes the status (a write watchers see); kept and re-asserted by every heartbeat. */
  async setStatus(status: ServiceInstanceStatus): Promise<void> {
    this.status = status;
    await this.serial(() => this.beat(true));
  }

  /** Stops heartbeating and removes the registration now. */
  async deregister(): Promise<void> {
    this.close();
    const { service, instance } = this.options;
    // After close() no heartbeat can start, so none can register it again behind this.
    await this.serial(() => this.client.call('service.deregister', { service, instance }, { idempotent: true }));
  }

  /** Stops heartbeating and leaves the registration to lapse by its TTL. */
  close(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.removeAbortListener();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private schedule(lastSucceeded: boolean): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.serial(() => this.beat(false)).then((ok) => this.schedule(ok), () => this.schedule(false));
    }, serviceHeartbeatDelayMs(this.ttl, lastSucceeded));
  }

  /** One heartbeat carrying the wanted status; registers again if the registration lapsed. */
  private async beat(throwing: boolean): Promise<boolean> {
    if (this.stopped) return false;
    const { service, instance } = this.options;
    try {
      // Bounded by the period, so a stuck call cannot hold back the next heartbeat.
      const timeoutMs = serviceHeartbeatDelayMs(this.ttl, true);
      await this.client.call('service.heartbeat', { service, instance, status: this.status }, { idempotent: true, timeoutMs });
      return true;
    } catch (error) {
      if (codeOf(error) === 530) return this.register(throwing);
      if (throwing) throw error;
      this.options.onError?.(error);
      return false;
    }
  }

  private async register(throwing: boolean): Promise<boolean> {
    if (this.stopped) return false;
    const { service, instance, endpoint, meta } = this.options;
    const params = { service, instance, endpoint, status: this.status, ttl: this.ttl, ...(meta === undefined ? {} : { meta }) };
    try {
      // Registering sets the same value again, so a retry after a lost reply is harmless.
      const { instance: registered } = await this.client.call<{ instance: ServiceInstance }>('service.register', params, { idempotent: true });
      this.current = registered;
      this.count += 1;
      this.options.onRegistered?.(registered);
      return true;
    } catch (error) {
      if (throwing) throw error;
      this.options.onError?.(error);
      return false;
    }
  }
}

/**
 * Registers an instance and keeps it registered: a heartbeat every ttl/3 (sooner after a
 * failure), and a new registration with the current data whenever a heartbeat finds it
 * lapsed (530), e.g. after the connection was down for longer than the TTL. Resolves once
 * the first registration succeeded; rejects (and keeps nothing running) if it failed.
 */
export async function registerService(client: Caller, options: RegisterServiceOptions): Promise<ServiceRegistration> {
  const registration = new ServiceRegistration(client, options);
  try {
    await registration.start();
  } catch (error) {
    registration.close();
    throw error;
  }
  return registration;
}

/** The instances of `service` (only those in `status`, if given), read linearizably. */
export async function listServiceInstances(
  client: Caller, service: string, status?: ServiceInstanceStatus,
): Promise<{ instances: ServiceInstance[]; index: number }> {
  return client.call('service.list', { service, ...(status === undefined ? {} : { status }) }, { idempotent: true });
}

/** The names of services with at least one registered instance. */
export async function listServices(client: Caller): Promise<string[]> {
  return (await client.call<{ services: string[] }>('service.services', {}, { idempotent: true })).services;
}

/** Stream ends worth subscribing again after: each notification is a whole list, so nothing is lost. */
const RESUBSCRIBE_CODES: ReadonlySet<number> = new Set([
  401, 301, 302, ClientErrorCodes.ConnectionLost, ClientErrorCodes.Overflow,
]);

/**
 * The instance list of `service` now and after every change, as an async iterator. The
 * first item is the current list; a lost connection or a slow-consumer end is answered by
 * subscribing again (the next item is then the whole current list), skipping a list that is
 * no newer than one already yielded. Ends when `signal` aborts or the client closes.
 */
export async function* watchService(
  client: Pick<CairnClient, 'subscribe' | 'closingSignal'>, service: string, options: { signal?: AbortSignal } = {},
): AsyncGenerator<ServiceWatchUpdate, void, undefined> {
  const signal = options.signal;
  const done = (): boolean => signal?.aborted === true || client.closingSignal.aborted;
  let lastIndex = -1;
  for (let failures = 0; !done();) {
    try {
      const sub = await client.subscribe<ServiceWatchUpdate>('service.watch', { service }, signal === undefined ? {} : { signal });
      try {
        for await (const update of sub) {
          failures = 0;
          if (update.index <= lastIndex) continue;
          lastIndex = update.index;
          yield update;
        }
      } finally {
        sub.close();
      }
    } catch (error) {
      if (done()) return;
      const code = codeOf(error);
      if (code === undefined || !RESUBSCRIBE_CODES.has(code)) throw error;
    }
    if (done()) return;
    await sleep(backoffMs(failures++, { retryBaseMs: 50, retryMaxMs: 2000 }), signal, 'watchService').catch(() => undefined);
  }
}
