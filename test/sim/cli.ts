// Command line for the simulator:
//   npm run sim -- --seed N [--verbose]     one seed (with --verbose: its whole trace)
//   npm run sim -- --seeds A..B [--verbose]  a range of seeds
// Prints every failing seed with its replay command, in how many seeds each coverage mark
// was hit (coverage.ts), the throughput, and last exactly "N seeds, M violations"; exits 1
// when M > 0, 2 on bad usage.
import { performance } from 'node:perf_hooks';
import { runSeed } from './scenario.js';
import type { SimResult } from './scenario.js';

interface CliArgs {
  readonly first: number;
  readonly last: number;
  readonly verbose: boolean;
}

const USAGE = 'usage: npm run sim -- (--seed N | --seeds A..B) [--verbose]';

function parseArgs(argv: readonly string[]): CliArgs | string {
  let range: [number, number] | undefined;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--seed') {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n < 0) return `--seed needs a non-negative integer. ${USAGE}`;
      range = [n, n];
    } else if (arg === '--seeds') {
      const match = /^(\d+)\.\.(\d+)$/.exec(argv[++i] ?? '');
      if (match === null || Number(match[1]) > Number(match[2])) return `--seeds needs A..B with A <= B. ${USAGE}`;
      range = [Number(match[1]), Number(match[2])];
    } else return `unknown argument ${arg}. ${USAGE}`;
  }
  if (range === undefined) return USAGE;
  return { first: range[0], last: range[1], verbose };
}

function reportFailure(result: SimResult, verbose: boolean): void {
  const v = result.violations[0]!;
  console.log(`seed ${result.seed}: VIOLATION ${v.invariant}: ${v.detail}`);
  console.log(`  at step ${v.step}, ${v.time}ms virtual; members ${v.members.join(',') || '-'}; ${result.summary}`);
  if (!verbose) {
    console.log('  last trace lines:');
    for (const line of result.traceTail.slice(-40)) console.log(`    ${line}`);
  }
  console.log(`replay: npm run sim -- --seed ${result.seed}`);
  console.log('  (add --verbose to print the whole trace)');
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(args);
    return 2;
  }
  const sink = args.verbose ? (line: string) => console.log(line) : undefined;
  const started = performance.now();
  let seeds = 0;
  let violations = 0;
  const marked = new Map<string, number>();
  for (let seed = args.first; seed <= args.last; seed++) {
    const result = runSeed(seed, sink === undefined ? {} : { sink });
    seeds++;
    for (const mark of Object.keys(result.coverage)) marked.set(mark, (marked.get(mark) ?? 0) + 1);
    if (result.violations.length > 0) {
      violations++;
      reportFailure(result, args.verbose);
    } else if (args.verbose || args.first === args.last) {
      console.log(`seed ${seed}: ok (${result.summary}; trace ${result.traceDigest})`);
    }
  }
  const minutes = (performance.now() - started) / 60_000;
  const coverage = [...marked].sort(([a], [b]) => a.localeCompare(b)).map(([mark, n]) => `${mark} in ${n}`);
  console.log(`coverage marks: ${coverage.join(', ') || 'none'} of ${seeds} seeds`);
  console.log(`${(seeds / minutes).toFixed(0)} seeds per minute (${(minutes * 60).toFixed(1)}s wall)`);
  console.log(`${seeds} seeds, ${violations} violations`);
  return violations > 0 ? 1 : 0;
}

process.exitCode = main();
