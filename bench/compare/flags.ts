// `npm run bench -- [flags]`: what to run and how long. --quick is a smoke run of every
// workload in a couple of minutes; the defaults are the run BENCHMARKS.md reports.
import { parseArgs } from 'node:util';
import { WORKLOADS } from '../cairn-load/options.js';
import type { Workload } from '../cairn-load/options.js';

export interface BenchFlags {
  rounds: number;
  seconds: number;
  workloads: Workload[];
  sizes: number[];
  depths: number[];
  getDepths: number[];
  watchers: number;
  watchRounds: number;
  failoverClients: number;
  json: string | undefined;
}

export const USAGE = `npm run bench -- [--quick] [--rounds 3] [--seconds 5] [--workloads ${WORKLOADS.join(',')}]
  [--sizes 1,3] [--depths 1,16,64,256] [--get-depths 64] [--watchers 1000] [--watch-rounds 5]
  [--failover-clients 16] [--json results.json]`;

const list = (s: string, what: string): number[] => s.split(',').map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what}: ${x} is not a positive integer`);
  return n;
});

export function parseFlags(argv: readonly string[]): BenchFlags {
  const str = { type: 'string' as const };
  const { values } = parseArgs({
    args: [...argv], strict: true,
    options: {
      quick: { type: 'boolean' }, help: { type: 'boolean' }, rounds: str, seconds: str, workloads: str, sizes: str,
      depths: str, 'get-depths': str, watchers: str, 'watch-rounds': str, 'failover-clients': str, json: str,
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const workloads = (values.workloads ?? WORKLOADS.join(',')).split(',');
  for (const w of workloads) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}\n${USAGE}`);
  const seconds = Number(values.seconds ?? (quick ? '1' : '5'));
  if (!(seconds > 0 && seconds <= 600)) throw new Error('--seconds must be in (0, 600]');
  return {
    rounds: list(values.rounds ?? (quick ? '2' : '3'), 'rounds')[0]!,
    seconds,
    workloads: workloads as Workload[],
    sizes: list(values.sizes ?? '1,3', 'sizes'),
    depths: list(values.depths ?? '1,16,64,256', 'depths'),
    getDepths: list(values['get-depths'] ?? '64', 'get-depths'),
    watchers: list(values.watchers ?? '1000', 'watchers')[0]!,
    watchRounds: list(values['watch-rounds'] ?? (quick ? '3' : '5'), 'watch-rounds')[0]!,
    failoverClients: list(values['failover-clients'] ?? '16', 'failover-clients')[0]!,
    json: values.json,
  };
}
