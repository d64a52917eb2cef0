// The fault runner's workload: K concurrent workers, each with its own client over every
// endpoint, each doing a seeded random mix of get / set / cas / delete / create on a small
// key set, one operation at a time, recording every one as an Operation (times in ms from
// the run's start on a monotonic clock). Bounded in operations and in time.
//
// How results map to outputs (see test/linearizability/history.ts):
//   - a reply: `ok` (a get carries the value read);
//   - 100 key not found, 101 compare failed, 105 node exists: `fail`, a definite refusal;
//   - 301 on a write: `fail`. The member answers a write with 301 only before proposing
//     (server/member.ts `submit`: no leader within the wait, or RawNode refusing the proposal
//     synchronously: no leader, transfer under way, uncommitted limit), and the client gives
//     301 only when no endpoint could be reached, and retries a write on 301 alone (a lost
//     connection becomes 302 and is not retried), so a final 301 means no attempt was proposed;
//   - everything else (302, 300, a deadline, a lost connection, 6xx, a non-CairnError):
//     `unknown`. A get's error is `unknown` too (it has no effect either way).
import { performance } from 'node:perf_hooks';
import { connect } from '../../clients/index.js';
import type { CairnClient, ConnectOptions } from '../../clients/index.js';
import { isCairnError } from '../../clients/errors.js';
import type { KvInput, KvOutput, Operation } from '../linearizability/history.js';
import { Rng } from '../sim/rng.js';

export interface WorkloadOptions {
  readonly endpoints: readonly string[];
  readonly seed: number;
  readonly workers: number;
  readonly keys: number;
  /** Workers stop issuing operations this long after `start`. */
  readonly durationMs: number;
  /** And each after this many operations. */
  readonly maxOpsPerWorker: number;
  /** A call's deadline, retries included. */
  readonly requestTimeoutMs: number;
}

const DEFINITE_REFUSALS: ReadonlySet<number> = new Set([100, 101, 105]);
const NO_LEADER = 301;
const KEY_PREFIX = '/jepsen/k';

/** Whether the cluster answered the operation (the availability measure counts these). */
export function answered(op: Operation): boolean {
  return op.output.status === 'ok' || (op.output.status === 'fail' && DEFINITE_REFUSALS.has(op.output.code));
}

export function outputOfError(input: KvInput, error: unknown): KvOutput {
  if (!isCairnError(error)) return { status: 'unknown' };
  if (DEFINITE_REFUSALS.has(error.code)) return { status: 'fail', code: error.code };
  if (error.code === NO_LEADER && input.kind !== 'get') return { status: 'fail', code: error.code };
  return { status: 'unknown' };
}

/** The next operation of a worker: keys and values from its own seeded stream. */
export function nextInput(rng: Rng, worker: number, seq: number, keys: number, seen: Map<string, string>): KvInput {
  const key = `${KEY_PREFIX}${rng.int(0, keys - 1)}`;
  const value = `w${worker}-${seq}`;
  switch (rng.weighted({ get: 40, set: 20, cas: 20, delete: 5, create: 15 })) {
    case 'get': return { kind: 'get', key };
    case 'set': return { kind: 'set', key, value };
    case 'cas': return { kind: 'cas', key, expected: seen.get(key) ?? `w${worker}-${Math.max(0, seq - 1)}`, value };
    case 'delete': return { kind: 'delete', key };
    default: return { kind: 'create', key, value };
  }
}

async function invoke(client: CairnClient, input: KvInput): Promise<KvOutput> {
  switch (input.kind) {
    case 'get': {
      const r = await client.get(input.key);
      return { status: 'ok', value: r.node.value ?? null };
    }
    case 'set': await client.set(input.key, input.value); return { status: 'ok' };
    case 'cas': await client.set(input.key, input.value, { prevValue: input.expected }); return { status: 'ok' };
    case 'delete': await client.delete(input.key); return { status: 'ok' };
    case 'create': await client.set(input.key, input.value, { prevExist: false }); return { status: 'ok' };
  }
}

/**
 * connect(), given up after `ms`. Not AbortSignal.timeout: connect's signal stays bound to
 * the client for its whole life and would close it once the timeout fires.
 */
export async function connectWithin(ms: number, options: ConnectOptions): Promise<CairnClient> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await connect({ ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

interface Worker {
  readonly id: number;
  readonly rng: Rng;
  readonly client: CairnClient;
}

export class Workload {
  readonly ops: Operation[] = [];
  /** How many calls failed with each error code ('other' for a non-CairnError), for the summary. */
  readonly errorCodes = new Map<string, number>();
  private workers: Worker[] = [];
  private start = 0;

  constructor(private readonly options: WorkloadOptions) {}

  /** Connects every worker's client (bounded by `connectTimeoutMs`). */
  async connect(connectTimeoutMs: number): Promise<void> {
    const root = new Rng(this.options.seed);
    for (let id = 0; id < this.options.workers; id++) {
      const rng = root.fork();
      const client = await connectWithin(connectTimeoutMs, {
        endpoints: this.options.endpoints, requestTimeoutMs: this.options.requestTimeoutMs,
        connectTimeoutMs: 1_000, random: rng.generator(),
      });
      this.workers.push({ id, rng, client });
    }
  }

  /** Runs every worker until the duration or its operation budget is spent. */
  async run(start: number): Promise<Operation[]> {
    this.start = start;
    await Promise.all(this.workers.map((w) => this.runWorker(w)));
    return this.ops;
  }

  private now(): number {
    return performance.now() - this.start;
  }

  private async runWorker(worker: Worker): Promise<void> {
    const seen = new Map<string, string>();
    for (let seq = 0; seq < this.options.maxOpsPerWorker && this.now() < this.options.durationMs; seq++) {
      const input = nextInput(worker.rng, worker.id, seq, this.options.keys, seen);
      const call = this.now();
      const output = await invoke(worker.client, input).catch((error: unknown) => {
        const code = isCairnError(error) ? String(error.code) : 'other';
        this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
        if (process.env['JEPSEN_DEBUG'] !== undefined) process.stderr.write(`${code} ${(error as Error).message}\n`);
        return outputOfError(input, error);
      });
      this.ops.push({ client: worker.id, input, output, call, return: this.now() });
      if (input.kind === 'get' && output.status === 'ok' && typeof output.value === 'string') seen.set(input.key, output.value);
      if (input.kind !== 'get' && input.kind !== 'delete' && output.status === 'ok') seen.set(input.key, input.value);
    }
  }

  close(): void {
    for (const w of this.workers) w.client.close();
    this.workers = [];
  }
}

/** Every key the workload may touch. */
export function workloadKeys(keys: number): string[] {
  return Array.from({ length: keys }, (_, i) => `${KEY_PREFIX}${i}`);
}
