// The flags and output of a load generator, shared by cairn-load and the runner: the same
// names as bench/etcd-load (Go's flag package reads `--name=value` too), so the runner
// builds one argument list for both.
import { parseArgs } from 'node:util';

export const WORKLOADS = ['put', 'get-lin', 'get-ser', 'watch', 'failover'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface LoadOptions {
  endpoints: string[];
  workload: Workload;
  /** Requests in flight. */
  clients: number;
  seconds: number;
  total: number;
  valueSize: number;
  /** Keys written before a get workload. */
  keys: number;
  watchers: number;
  watchConns: number;
  watchRounds: number;
  timeoutMs: number;
  prefix: string;
  /** Failover: seconds of load before the leader is named (and killed by the runner). */
  leaderAfterSec: number;
}

/** One JSON line on stdout; the last one a process prints is its `result`. */
export type LoadEvent =
  | { event: 'start' } | { event: 'end' } | { event: 'leader'; endpoint: string }
  | ({ event: 'result' } & LoadResult);

export interface LoadResult {
  workload: Workload;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Watch: each timed round's fan-out. */
  samplesMs?: number[];
  /** Failover: the longest time without an acknowledged write. */
  gapMs?: number;
  /** Failover: acknowledged writes a read afterwards did not find. */
  lost?: number;
  clientCpuSec?: number;
}

const FLAGS = {
  endpoints: 'endpoints', workload: 'workload', clients: 'clients', seconds: 'duration', total: 'total',
  valueSize: 'value-size', keys: 'keys', watchers: 'watchers', watchConns: 'watch-conns',
  watchRounds: 'watch-rounds', timeoutMs: 'timeout-ms', prefix: 'prefix', leaderAfterSec: 'leader-after',
} as const satisfies Record<keyof LoadOptions, string>;

/** The argument list both load generators understand. */
export function toArgs(o: LoadOptions): string[] {
  return (Object.keys(FLAGS) as (keyof LoadOptions)[]).map((k) => {
    const v = o[k];
    return `--${FLAGS[k]}=${Array.isArray(v) ? v.join(',') : String(v)}`;
  });
}

export function fromArgs(argv: readonly string[]): LoadOptions {
  const spec = Object.fromEntries(Object.values(FLAGS).map((name) => [name, { type: 'string' as const }]));
  const { values } = parseArgs({ args: [...argv], options: spec, strict: true });
  const str = (name: string, fallback: string): string => {
    const v = values[name];
    return typeof v === 'string' ? v : fallback;
  };
  const num = (name: string, fallback: number): number => {
    const n = Number(str(name, String(fallback)));
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const workload = str('workload', 'put');
  if (!(WORKLOADS as readonly string[]).includes(workload)) throw new Error(`unknown workload ${workload}`);
  return {
    endpoints: str('endpoints', 'http://127.0.0.1:4001').split(','), workload: workload as Workload,
    clients: num('clients', 64), seconds: num('duration', 5), total: num('total', 1_000_000),
    valueSize: num('value-size', 256), keys: num('keys', 1000), watchers: num('watchers', 1000),
    watchConns: num('watch-conns', 10), watchRounds: num('watch-rounds', 5), timeoutMs: num('timeout-ms', 5000),
    prefix: str('prefix', `/bench/${Date.now()}`), leaderAfterSec: num('leader-after', 1.5),
  };
}
