// Chooses the member the client talks to. Endpoints are tried one after another in a
// shuffled order (so that many clients spread over the cluster) and the first socket that
// opens is kept until it closes. The next sweep starts after the endpoint that was lost, so
// a dead member is tried last. A client may ask for the order given instead. One sweep runs
// at a time; concurrent callers share it.
import { setMaxListeners } from 'node:events';
import { Connection } from './connection.js';
import type { ConnectionOptions } from './connection.js';
import { closedError, unreachableError } from './errors.js';
import type { CairnError } from './errors.js';
import { abortReason } from './retry.js';
import type { CallSignal } from './retry.js';

/** Fisher-Yates with an injectable random source, so tests can fix the order. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export class EndpointPool {
  private readonly order: readonly string[];
  /** Where the next sweep starts in `order`: just after the endpoint last connected to. */
  private nextStart = 0;
  private current: Connection | undefined;
  private sweep: Promise<Connection> | undefined;
  private readonly closing = new AbortController();

  /** `random` undefined keeps the endpoints in the order given. */
  constructor(endpoints: readonly string[], private readonly options: ConnectionOptions, random: (() => number) | undefined) {
    // Every call or stream in flight listens on it; dozens at once are normal, not a leak.
    setMaxListeners(0, this.closing.signal);
    this.order = random === undefined ? [...endpoints] : shuffled(endpoints, random);
  }

  get endpoints(): readonly string[] {
    return this.order;
  }

  /** The open connection, if there is one; never connects. */
  get open(): Connection | undefined {
    return this.current?.isOpen === true ? this.current : undefined;
  }

  /** The open connection, or one sweep over the endpoints to open one. */
  get(signal?: CallSignal): Promise<Connection> {
    if (this.closing.signal.aborted) return Promise.reject(closedError('connect'));
    if (this.current?.isOpen === true) return Promise.resolve(this.current);
    this.sweep ??= this.runSweep().finally(() => {
      this.sweep = undefined;
    });
    return raceSignal(this.sweep, signal, 'connect');
  }

  /** Closes the connection (its calls and streams end with a Closed error) for good. */
  close(): void {
    this.closing.abort(closedError('connect'));
    this.current?.close(closedError('request'));
    this.current = undefined;
  }

  private async runSweep(): Promise<Connection> {
    let lastProblem = 'no endpoints';
    for (let i = 0; i < this.order.length; i++) {
      const index = (this.nextStart + i) % this.order.length;
      const endpoint = this.order[index] as string;
      try {
        const connection = await Connection.open(endpoint, this.options, this.closing.signal);
        this.nextStart = (index + 1) % this.order.length;
        this.current = connection;
        connection.onClose(() => {
          if (this.current === connection) this.current = undefined;
        });
        return connection;
      } catch (error) {
        if (this.closing.signal.aborted) throw closedError('connect');
        lastProblem = `${endpoint}: ${(error as Error).message}`;
      }
    }
    throw unreachableError(this.order, lastProblem);
  }
}

/** `promise`, unless `signal` fires first; the shared sweep itself goes on for the others. */
function raceSignal<T>(promise: Promise<T>, signal: CallSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: CairnError) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
