// cairn-load: the cairn side of `npm run bench`, a load generator on cairn's TypeScript client
// in its own process (as etcd-load is on Go clientv3), so the members' CPU is theirs alone. It
// reads the same flags and prints the same JSON lines (see options.ts and bench/etcd-load).
import { fromArgs } from './options.js';
import type { LoadOptions, LoadResult } from './options.js';
import { emit } from './common.js';
import { runLoad } from './load.js';
import { runWatch } from './watch.js';
import { runFailover } from './failover.js';

export async function run(o: LoadOptions): Promise<LoadResult> {
  switch (o.workload) {
    case 'put': case 'get-lin': case 'get-ser': return runLoad(o);
    case 'watch': return runWatch(o);
    case 'failover': return runFailover(o);
  }
}

async function main(): Promise<void> {
  // The runner's pipe closing means it is gone: no load generator outlives it.
  process.stdin.on('end', () => process.exit(3));
  process.stdin.resume();
  const o = fromArgs(process.argv.slice(2));
  const result = await run(o);
  emit({ event: 'result', ...result });
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`cairn-load: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
