// The fault runner: starts a FaultCluster, drives the workload while the injector carries
// out a seeded fault schedule, then heals everything, waits (bounded) for one leader, reads
// every key back, and judges the run: the final state against the history, the checker's
// linearizability verdict, and availability. Returns one summary; saves the history of a
// failing run to a temporary file. Every process is stopped on every path.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CairnClient } from '../../clients/index.js';
import type { CheckResult, Operation } from '../linearizability/history.js';
import { availability, checkFinalState, defaultChecker } from './checks.js';
import type { Checker } from './checks.js';
import { FaultCluster } from './cluster.js';
import { Injector } from './inject.js';
import type { InjectedStep } from './inject.js';
import { RecipeWorkload } from './recipes.js';
import type { RecipeVerdicts } from './recipes.js';
import { makeSchedule } from './schedule.js';
import type { FaultKind } from './schedule.js';
import { Workload, answered, connectWithin, outputOfError, workloadKeys } from './workload.js';

export interface RunOptions {
  readonly nodes: number;
  readonly durationMs: number;
  readonly faults: readonly FaultKind[];
  readonly seed: number;
  readonly workers?: number;
  readonly keys?: number;
  /** The workload goes on this long after the schedule's final heal (default 3,000 ms). */
  readonly tailMs?: number;
  /** How long the healed cluster may take to agree on a leader (default 30,000 ms). */
  readonly healTimeoutMs?: number;
  /** The checker's time budget per key (default 5,000 ms). */
  readonly checkBudgetMs?: number;
  /** The linearizability checker (default test/linearizability's checkHistory). */
  readonly checker?: Checker;
  /** Also run the recipe workload (recipes.ts: semaphore, election, jobs) and check it. */
  readonly recipes?: boolean;
}

export interface RunResult {
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly summary: string;
  readonly ops: readonly Operation[];
  readonly availability: number;
  readonly linearizability: CheckResult;
  readonly historyPath: string | undefined;
  readonly faults: readonly InjectedStep[];
  /** The recipe checks' verdicts, when `recipes` was on. */
  readonly recipes?: RecipeVerdicts;
}

const FINAL_READ_ATTEMPTS = 20;
/** How long after healing the jobs may take to finish and the recipe watches to catch up. */
const RECIPE_SETTLE_MS = 30_000;

/** Every recipe violation (and problem of the recipe run), each prefixed by its recipe. */
function recipeViolations(r: RecipeVerdicts): string[] {
  const all = [...r.semaphore.violations, ...r.election.violations, ...r.jobs.violations, ...r.notes];
  if (r.semaphore.grants === 0) all.push('recipes: no semaphore grant in the whole run');
  if (r.election.grants === 0) all.push('recipes: no leadership in the whole run');
  return all;
}

export async function runJepsen(options: RunOptions): Promise<RunResult> {
  // A long event history, so the recipe watches resume across member kills without gaps.
  const cluster = await FaultCluster.start({ size: options.nodes, electionMs: 1000, heartbeatMs: 100, eventHistory: 100_000 });
  const workers = options.workers ?? 5;
  const keys = options.keys ?? 5;
  const tailMs = options.tailMs ?? 3_000;
  const workload = new Workload({
    endpoints: cluster.endpoints, seed: options.seed, workers, keys,
    durationMs: options.durationMs + tailMs, maxOpsPerWorker: 100_000, requestTimeoutMs: 4_000,
  });
  const recipes = options.recipes === true
    ? new RecipeWorkload({ endpoints: cluster.endpoints, seed: options.seed, durationMs: options.durationMs + tailMs })
    : undefined;
  try {
    await cluster.healAll(30_000);
    await workload.connect(10_000);
    await recipes?.prepare(10_000);
    const start = performance.now();
    const injector = new Injector(cluster, options.seed, start);
    const schedule = makeSchedule({ seed: options.seed, members: cluster.memberNames, durationMs: options.durationMs, faults: options.faults });
    await Promise.all([workload.run(start), recipes?.run(start, 10_000), injector.run(schedule).finally(() => injector.stop())]);
    return await judge(cluster, workload.ops, injector.log, start, options, recipes);
  } finally {
    workload.close();
    await recipes?.close();
    await cluster.stop();
  }
}

/** Heals, reads back, checks; builds the summary and saves the history on failure. */
async function judge(cluster: FaultCluster, ops: Operation[], faults: readonly InjectedStep[], start: number, options: RunOptions,
  recipeWorkload: RecipeWorkload | undefined): Promise<RunResult> {
  const violations: string[] = [];
  const workloadEndMs = options.durationMs + (options.tailMs ?? 3_000);
  const leader = await cluster.healAll(options.healTimeoutMs ?? 30_000).catch((error: Error) => {
    violations.push(`not healthy after healing: ${error.message}`);
    return undefined;
  });
  const workers = options.workers ?? 5;
  const finals = await readFinals(cluster.endpoints, workloadKeys(options.keys ?? 5), start, workers);
  violations.push(...finals.violations);
  const history = [...ops, ...finals.ops];
  violations.push(...checkFinalState(ops, finals.values));
  const check = options.checker ?? defaultChecker;
  const linearizability = check(history, { timeBudgetMs: options.checkBudgetMs ?? 5_000 });
  if (!linearizability.ok) {
    violations.push(`not linearizable: keys ${linearizability.badKeys.join(', ')}`);
  }
  const avail = availability(ops, workloadEndMs, answered);
  if (avail === 0) violations.push('no operation succeeded in the whole run');
  const recipes = await recipeWorkload?.finish(RECIPE_SETTLE_MS);
  if (recipes !== undefined) violations.push(...recipeViolations(recipes));
  const ok = violations.length === 0;
  const recipeRecord = recipeWorkload === undefined ? {} : { recipes: recipeWorkload.record() };
  const historyPath = ok ? undefined : await saveHistory({ options, faults, violations, leader, history, linearizability, ...recipeRecord });
  const summary = summarize({ options, ops, faults, violations, avail, linearizability, historyPath, leader, recipes });
  return { ok, violations, summary, ops: history, availability: avail, linearizability, historyPath, faults, ...(recipes === undefined ? {} : { recipes }) };
}

interface Finals {
  readonly values: Map<string, string | null>;
  readonly ops: Operation[];
  readonly violations: string[];
}

/** A linearizable get of every key (retried, bounded), each recorded as an operation too. */
async function readFinals(endpoints: readonly string[], keys: readonly string[], start: number, firstClient: number): Promise<Finals> {
  const finals: Finals = { values: new Map(), ops: [], violations: [] };
  let client: CairnClient | undefined;
  try {
    client = await connectWithin(10_000, { endpoints, requestTimeoutMs: 5_000 });
  } catch (error) {
    finals.violations.push(`final reads: cannot connect: ${(error as Error).message}`);
    return finals;
  }
  try {
    for (const [i, key] of keys.entries()) {
      const read = await readOne(client, key, start, firstClient + i);
      if (read === undefined) finals.violations.push(`final read of ${key} failed ${FINAL_READ_ATTEMPTS} times`);
      else { finals.values.set(key, read.value); finals.ops.push(read.op); }
    }
  } finally {
    client.close();
  }
  return finals;
}

async function readOne(client: CairnClient, key: string, start: number, clientId: number): Promise<{ value: string | null; op: Operation } | undefined> {
  const input = { kind: 'get', key } as const;
  for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS; attempt++) {
    const call = performance.now() - start;
    try {
      const value = (await client.get(key)).node.value ?? null;
      return { value, op: { client: clientId, input, output: { status: 'ok', value }, call, return: performance.now() - start } };
    } catch (error) {
      const output = outputOfError(input, error);
      if (output.status === 'fail' && output.code === 100) {
        return { value: null, op: { client: clientId, input, output, call, return: performance.now() - start } };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return undefined;
}

async function saveHistory(record: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-jepsen-'));
  const path = join(dir, 'history.json');
  await writeFile(path, JSON.stringify(record, null, 1));
  return path;
}

interface SummaryInput {
  readonly options: RunOptions;
  readonly ops: readonly Operation[];
  readonly faults: readonly InjectedStep[];
  readonly violations: readonly string[];
  readonly avail: number;
  readonly linearizability: CheckResult;
  readonly historyPath: string | undefined;
  readonly leader: string | undefined;
  readonly recipes: RecipeVerdicts | undefined;
}

function recipeLines(r: RecipeVerdicts): string[] {
  const line = (what: string, v: RecipeVerdicts['semaphore'], unit: string, told: string): string =>
    `  ${what}: ${v.grants} ${unit} in the store's history, ${told}${v.gaps > 0 ? `, ${v.gaps} gap(s) in the watch, ${v.unverified} client grant(s) unverified` : ''}` +
    `${v.violations.length > 0 ? `, ${v.violations.length} violation(s)` : ''}`;
  const bad = recipeViolations(r);
  return [
    'recipes:',
    line('semaphore', r.semaphore, 'grants', `${r.told.semaphore} told to agents`),
    line('election', r.election, 'leaderships', `${r.told.election} told to candidates`),
    line('jobs', r.jobs, 'attempts assigned', `${r.told.jobs} jobs submitted`),
    `recipes safe: ${bad.length === 0 ? 'yes' : `no\n  ${bad.join('\n  ')}`}`,
  ];
}

function summarize(s: SummaryInput): string {
  const o = s.options;
  const count = (status: string): number => s.ops.filter((op) => op.output.status === status).length;
  const lin = s.linearizability;
  const linText = lin.ok ? `yes${lin.undecidedKeys.length > 0 ? ` (undecided: ${lin.undecidedKeys.join(', ')})` : ''}`
      : `NO: ${lin.badKeys.join(', ')}${lin.explanation === undefined ? '' : `\n${lin.explanation}`}`;
  const lines = [
    `jepsen: nodes=${o.nodes} duration=${o.durationMs / 1000}s faults=${o.faults.join(',') || 'none'} seed=${o.seed}`,
    `faults injected: ${s.faults.map((f) => `${(f.at / 1000).toFixed(1)}s ${f.what}`).join('; ') || 'none'}`,
    `operations: ${s.ops.length} (ok ${count('ok')}, fail ${count('fail')}, unknown ${count('unknown')})`,
    `availability: ${(s.avail * 100).toFixed(0)}% of 1 s windows had an answered operation`,
    `leader after healing: ${s.leader ?? 'none'}`,
    `linearizable: ${linText}`,
    ...(s.recipes === undefined ? [] : recipeLines(s.recipes)),
    `violations: ${s.violations.length === 0 ? 'none' : `\n  ${s.violations.join('\n  ')}`}`,
  ];
  if (s.historyPath !== undefined) lines.push(`history saved to ${s.historyPath}`);
  lines.push(`result: ${s.violations.length === 0 ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}
