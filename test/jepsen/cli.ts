// `node dist/test/jepsen/cli.js --nodes 3|5 --duration S --faults kill,pause,partition --seed N`
// (npm run jepsen -- …): one fault run; prints its summary, exits 1 on any violation, 2 on a
// usage error. --recipes also runs the recipe workload (recipes.ts) and checks it. A hard
// deadline (duration + 120 s) ends the process if anything hangs.
import { parseArgs } from 'node:util';
import { runJepsen } from './runner.js';
import { FAULT_KINDS } from './schedule.js';
import type { FaultKind } from './schedule.js';

const USAGE = 'usage: jepsen [--nodes 3|5] [--duration S] [--faults kill,pause,partition] [--seed N] [--workers K] [--keys K] [--recipes]';

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, text: string | undefined, fallback: number, lo: number, hi: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < lo || value > hi) usage(`--${name} must be an integer in [${lo}, ${hi}]`);
  return value;
}

function parse(): Parameters<typeof runJepsen>[0] {
  let values: Record<string, string | undefined>;
  let recipes = false;
  try {
    const options = { nodes: { type: 'string' }, duration: { type: 'string' }, faults: { type: 'string' },
      seed: { type: 'string' }, workers: { type: 'string' }, keys: { type: 'string' }, recipes: { type: 'boolean' } } as const;
    const parsed = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false }).values;
    const { recipes: withRecipes, ...strings } = parsed;
    values = strings;
    recipes = withRecipes === true;
  } catch (error) {
    usage((error as Error).message);
  }
  const nodes = int('nodes', values.nodes, 3, 1, 7);
  const faults = (values.faults ?? FAULT_KINDS.join(',')).split(',').filter((f) => f !== '');
  for (const f of faults) if (!FAULT_KINDS.includes(f as FaultKind)) usage(`unknown fault ${JSON.stringify(f)}`);
  return {
    nodes, faults: faults as FaultKind[],
    durationMs: int('duration', values.duration, 20, 1, 3600) * 1000,
    seed: int('seed', values.seed, Date.now() % 1_000_000, 0, 0xffffffff),
    workers: int('workers', values.workers, 5, 1, 64),
    keys: int('keys', values.keys, 5, 1, 1000),
    recipes,
  };
}

async function main(): Promise<void> {
  const options = parse();
  // process.exit runs FaultCluster's exit hook, which kills every member it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const deadline = setTimeout(() => {
    process.stderr.write('jepsen: hard deadline passed; exiting\n');
    process.exit(3);
  }, options.durationMs + 120_000);
  deadline.unref();
  const result = await runJepsen(options);
  process.stdout.write(`${result.summary}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`jepsen: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
