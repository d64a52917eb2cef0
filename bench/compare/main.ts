// `npm run bench`: cairn as its users feel it next to etcd 3.4, in the same run. For each
// cluster size, both systems run side by side; each round runs every phase once on each,
// cairn first in odd rounds and etcd first in even ones; a phase is one load generator process
// (bench/cairn-load on cairn's TypeScript client, bench/etcd-load on Go clientv3). Failover
// gets fresh 3-member clusters each time. The table: medians of the rounds, min–max, ratios.
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadOptions } from '../cairn-load/options.js';
import { installHandlers, release, releaseAll } from './cleanup.js';
import { parseFlags } from './flags.js';
import type { BenchFlags } from './flags.js';
import { buildEtcdLoad } from './go-build.js';
import { runPhase } from './phase.js';
import type { PhaseOutcome } from './phase.js';
import { describe, noiseLine, table } from './report.js';
import type { PhaseSpec, SpecResults } from './report.js';
import { KINDS, startSystem } from './systems.js';
import type { Kind, System } from './systems.js';
import { targetLines } from './targets.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CAIRN_LOAD = fileURLToPath(new URL('../cairn-load/main.js', import.meta.url));
/** Failover: seconds of load before the kill, and after it (etcd's election alone is 1–2 s). */
const LEADER_AFTER_SEC = 1.5;
const AFTER_KILL_SEC = 6;
const MAX_FAILURES_IN_A_ROW = 3;

interface Run { flags: BenchFlags; commands: Record<Kind, string[]>; results: SpecResults[]; failures: Record<Kind, number> }

function specsFor(size: number, flags: BenchFlags): PhaseSpec[] {
  return flags.workloads.flatMap((workload): PhaseSpec[] => {
    if (workload === 'put') return flags.depths.map((clients) => ({ size, workload, clients }));
    if (workload === 'get-lin' || workload === 'get-ser') return flags.getDepths.map((clients) => ({ size, workload, clients }));
    if (workload === 'watch') return [{ size, workload, clients: 1 }];
    return size >= 3 ? [{ size, workload, clients: flags.failoverClients }] : []; // a failover needs a majority left
  });
}

function loadOptions(spec: PhaseSpec, system: System, round: number, flags: BenchFlags): LoadOptions {
  const failover = spec.workload === 'failover';
  return {
    endpoints: system.endpoints(), workload: spec.workload, clients: spec.clients,
    seconds: failover ? LEADER_AFTER_SEC + AFTER_KILL_SEC : flags.seconds, total: 2_000_000, valueSize: 256, keys: 1000,
    watchers: flags.watchers, watchConns: 10, watchRounds: flags.watchRounds, timeoutMs: failover ? 1000 : 5000,
    prefix: `/bench/${system.kind}-${spec.size}m-r${round}-${spec.workload}-${spec.clients}-${Date.now()}`, leaderAfterSec: LEADER_AFTER_SEC,
  };
}

function progress(spec: PhaseSpec, kind: Kind, round: number, flags: BenchFlags, o: PhaseOutcome): string {
  const r = o.result;
  const head = `[${spec.size} member${spec.size > 1 ? 's' : ''}, round ${round}/${flags.rounds}] ${kind.padEnd(5)} ${describe(spec, flags.watchers)}:`;
  const noise = `others ${o.foreignCpuSec.toFixed(1)} s CPU`;
  if (spec.workload === 'watch') return `${head} ${r.samplesMs?.map((v) => v.toFixed(1)).join(', ')} ms (${noise})`;
  if (spec.workload === 'failover') return `${head} writes resumed after ${r.gapMs?.toFixed(0)} ms, ${r.lost} of ${r.ops} acknowledged writes lost, ${r.errors} errors`;
  const us = (sec: number): string => ((sec / Math.max(1, r.ops)) * 1e6).toFixed(0);
  return `${head} ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50Ms?.toFixed(2)} ms, p99 ${r.p99Ms?.toFixed(2)} ms, `
    + `server ${us(o.serverCpuSec)} µs/op, client ${us(o.loadgenCpuSec)} µs/op, ${r.errors} errors (${noise})`;
}

/** One phase on one system; a failure is reported and counted, and ends the run when repeated. */
async function phase(run: Run, spec: PhaseSpec, system: System, round: number): Promise<PhaseOutcome | undefined> {
  const options = loadOptions(spec, system, round, run.flags);
  try {
    const outcome = await runPhase(system, run.commands[system.kind], options, options.seconds * 1000 + 90_000);
    run.failures[system.kind] = 0;
    console.log(progress(spec, system.kind, round, run.flags, outcome));
    return outcome;
  } catch (error) {
    console.log(`${system.kind} ${describe(spec, run.flags.watchers)}, round ${round}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (++run.failures[system.kind] >= MAX_FAILURES_IN_A_ROW) throw new Error(`${system.kind} failed ${MAX_FAILURES_IN_A_ROW} phases in a row; stopping`);
    return undefined;
  }
}

/** Failover kills a member: each one gets a fresh cluster, removed right after. */
async function failoverPhase(run: Run, spec: PhaseSpec, kind: Kind, round: number): Promise<PhaseOutcome | undefined> {
  const system = await startSystem(kind, spec.size);
  try {
    return await phase(run, spec, system, round);
  } finally {
    await release(system);
  }
}

async function runSize(run: Run, size: number): Promise<void> {
  const specs = specsFor(size, run.flags);
  const results = specs.map((spec): SpecResults => ({ spec, runs: { cairn: [], etcd: [] } }));
  run.results.push(...results);
  const shared = specs.some((s) => s.workload !== 'failover');
  const systems = shared ? { cairn: await startSystem('cairn', size), etcd: await startSystem('etcd', size) } : undefined;
  try {
    for (let round = 1; round <= run.flags.rounds; round++) {
      const order: Kind[] = round % 2 === 1 ? ['cairn', 'etcd'] : ['etcd', 'cairn'];
      for (const r of results) {
        for (const kind of order) {
          r.runs[kind][round - 1] = r.spec.workload === 'failover'
            ? await failoverPhase(run, r.spec, kind, round)
            : await phase(run, r.spec, systems![kind], round);
        }
      }
    }
  } finally {
    if (systems !== undefined) await Promise.all(KINDS.map((k) => release(systems[k])));
  }
}

function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${model}, ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
}

async function main(): Promise<void> {
  installHandlers();
  const flags = parseFlags(process.argv.slice(2));
  const run: Run = {
    flags, results: [], failures: { cairn: 0, etcd: 0 },
    commands: { cairn: [process.execPath, CAIRN_LOAD], etcd: [buildEtcdLoad(REPO)] },
  };
  console.log(`machine: ${machine()}`);
  console.log(`${flags.rounds} rounds, ${flags.seconds} s phases, ${flags.sizes.join(' and ')} members, interleaved (cairn first in odd rounds)`);
  try {
    for (const size of flags.sizes) await runSize(run, size);
  } finally {
    await releaseAll();
    console.log(`\n${table(run.results, flags.watchers)}\n\n${noiseLine(run.results)}`);
    const targets = targetLines(run.results);
    if (targets.length > 0) console.log(`issue 8's targets (3 members, 64 in flight):\n${targets.join('\n')}`);
    if (flags.json !== undefined) writeFileSync(flags.json, JSON.stringify({ machine: machine(), flags, results: run.results }, null, 1));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
