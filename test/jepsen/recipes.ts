// The fault runner's recipe workload (--recipes), run alongside the kv workload while faults
// are injected: semaphore agents looping acquire → hold → release on a semaphore of max 2;
// election candidates looping campaign → hold → resign (ttl 2 s); jobs submitted over the run
// and run by in-process agents (runAgent, each job `node -e ''`). Every client grant is
// recorded with its time, and each recipe's keys are watched from before the first write with
// the client's resuming watch(). After healing, finish() lets the jobs drain (bounded), waits
// for every watch to reach the store's index, stops everything and judges with recipe-checks.
import { performance } from 'node:perf_hooks';
import { acquireSemaphore, campaign, getJob, isCairnError, releaseSemaphore, runAgent, setSemaphoreMax, submitJob } from '../../clients/index.js';
import type { CairnClient, KvEvent, Watch } from '../../clients/index.js';
import { checkElection, checkJobs, checkSemaphore } from './recipe-checks.js';
import type { ClientGrant, RecipeVerdict } from './recipe-checks.js';
import { connectWithin } from './workload.js';

export interface RecipeWorkloadOptions {
  readonly endpoints: readonly string[];
  readonly seed: number;
  /** Loops stop starting new rounds this long after `start`. */
  readonly durationMs: number;
  readonly semaphoreAgents?: number;
  readonly max?: number;
  readonly candidates?: number;
  readonly jobs?: number;
  readonly jobAgents?: number;
}

export interface RecipeVerdicts {
  readonly semaphore: RecipeVerdict;
  readonly election: RecipeVerdict;
  readonly jobs: RecipeVerdict;
  /** Problems of the run itself (a watch that never caught up, jobs not finished in time). */
  readonly notes: string[];
  /** What the clients were told: semaphore grants, leaderships, jobs submitted. */
  readonly told: { readonly semaphore: number; readonly election: number; readonly jobs: number };
}

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'lost']);
const ELECTION_TTL_S = 2;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
  signal?.addEventListener('abort', done, { once: true });
});

/** One recorded watch: its events, and the index it has reached (events or progress). */
class Recorder {
  readonly events: KvEvent[] = [];
  private readonly watch: Watch;
  private readonly done: Promise<void>;
  error: string | undefined;

  constructor(client: CairnClient, key: string, waitIndex: number, recursive: boolean) {
    const watch = client.watch(key, { waitIndex, recursive, progressMs: 500 });
    this.watch = watch;
    this.done = (async () => {
      try {
        for await (const e of watch) this.events.push(e);
      } catch (error) {
        this.error = (error as Error).message;
      }
    })();
  }

  /** The store index up to which the stream is complete. */
  get reached(): number {
    return (this.watch.nextIndex ?? 1) - 1;
  }

  async close(): Promise<void> {
    this.watch.close();
    await this.done;
  }
}

export class RecipeWorkload {
  readonly semaphoreGrants: ClientGrant[] = [];
  readonly electionGrants: ClientGrant[] = [];
  /** Job ids whose submission was acknowledged. */
  readonly submitted = new Set<string>();
  readonly names: { semaphore: string; election: string };
  private readonly stopAgents = new AbortController();
  private readonly clients: CairnClient[] = [];
  private admin: CairnClient | undefined;
  private recorders: { semaphore: Recorder; election: Recorder; jobs: Recorder } | undefined;
  private agents: Promise<void>[] = [];
  private start = 0;
  private readonly max: number;
  private readonly jobCount: number;

  constructor(private readonly o: RecipeWorkloadOptions) {
    this.names = { semaphore: `jepsen-${o.seed}`, election: `jepsen-${o.seed}` };
    this.max = o.max ?? 2;
    this.jobCount = o.jobs ?? 20;
  }

  private async client(timeoutMs: number): Promise<CairnClient> {
    const c = await connectWithin(timeoutMs, { endpoints: this.o.endpoints, requestTimeoutMs: 4_000, connectTimeoutMs: 1_000 });
    this.clients.push(c);
    return c;
  }

  /** Sets the semaphore's max and starts the watches from the index before it (healthy cluster). */
  async prepare(timeoutMs: number): Promise<void> {
    const admin = await this.client(timeoutMs);
    this.admin = admin;
    const from = (await admin.get('/')).index + 1;
    await setSemaphoreMax(admin, this.max, { name: this.names.semaphore });
    this.recorders = {
      semaphore: new Recorder(admin, `/cairn/semaphore/${this.names.semaphore}/state`, from, false),
      election: new Recorder(admin, `/cairn/election/${this.names.election}`, from, true),
      jobs: new Recorder(admin, '/cairn/jobs', from, true),
    };
  }

  private now(): number {
    return performance.now() - this.start;
  }

  private running(): boolean {
    return this.now() < this.o.durationMs;
  }

  /** Runs the semaphore and election loops and submits the jobs; the job agents keep going. */
  async run(start: number, timeoutMs: number): Promise<void> {
    this.start = start;
    const sem = await Promise.all(Array.from({ length: this.o.semaphoreAgents ?? 4 }, () => this.client(timeoutMs)));
    const cands = await Promise.all(Array.from({ length: this.o.candidates ?? 3 }, () => this.client(timeoutMs)));
    const agents = await Promise.all(Array.from({ length: this.o.jobAgents ?? 2 }, () => this.client(timeoutMs)));
    this.agents = agents.map((c, i) => runAgent(c, { machine: `jepsen-m${i}`, capacity: 2, ttl: 3, signal: this.stopAgents.signal }));
    await Promise.all([
      ...sem.map((c, i) => this.semaphoreLoop(c, `s${i}`)),
      ...cands.map((c, i) => this.electionLoop(c, `c${i}`)),
      this.submitJobs(),
    ]);
  }

  private async semaphoreLoop(client: CairnClient, holder: string): Promise<void> {
    const name = this.names.semaphore;
    for (let round = 0; round < 10_000 && this.running(); round++) {
      try {
        const r = await acquireSemaphore(client, { name, holder, timeoutMs: 2_000, marginMs: 3_000 });
        if (!r.acquired || r.token === undefined) continue;
        this.semaphoreGrants.push({ who: holder, token: r.token, from: this.now() });
        await sleep(20 + (round * 37) % 80);
        for (let i = 0; i < 30; i++) {
          try {
            await releaseSemaphore(client, holder, { name });
            break;
          } catch (error) {
            if (isCairnError(error) && error.code === 501) break; // an earlier try landed
            await sleep(100);
          }
        }
      } catch {
        await sleep(100);
      }
    }
  }

  private async electionLoop(client: CairnClient, candidate: string): Promise<void> {
    const name = this.names.election;
    for (let round = 0; round < 10_000 && this.running(); round++) {
      try {
        const lead = await campaign(client, { name, candidate, ttl: ELECTION_TTL_S, timeoutMs: 2_000 });
        if (lead === null) continue;
        const from = this.now();
        let lostAt: number | undefined;
        if (lead.signal.aborted) lostAt = from;
        else lead.signal.addEventListener('abort', () => { lostAt ??= this.now(); }, { once: true });
        await sleep(100 + (round * 53) % 300, lead.signal);
        // Counted on until it was lost or given up, and never past the handle's deadline.
        const to = Math.min(lostAt ?? this.now(), lead.deadline - this.start);
        this.electionGrants.push({ who: candidate, token: lead.token, from, to });
        await lead.resign().catch(() => undefined);
      } catch {
        await sleep(100);
      }
    }
  }

  private async submitJobs(): Promise<void> {
    const spec = { command: [process.execPath, '-e', ''] };
    const every = this.o.durationMs / this.jobCount;
    for (let i = 0; i < this.jobCount; i++) {
      const job = `jepsen-${this.o.seed}-${i}`;
      while (this.running() && this.now() < i * every) await sleep(Math.min(200, i * every - this.now()));
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          await submitJob(this.admin!, spec, { job });
          this.submitted.add(job);
          break;
        } catch {
          if (!this.running()) break;
          await sleep(200);
        }
      }
    }
  }

  /** Whether every job is in a final state: job → state (undefined if not found). */
  private async finals(): Promise<Map<string, string | undefined>> {
    const finals = new Map<string, string | undefined>();
    for (let i = 0; i < this.jobCount; i++) {
      const job = `jepsen-${this.o.seed}-${i}`;
      try {
        finals.set(job, (await getJob(this.admin!, job)).state);
      } catch (error) {
        // Never created (its submission was not acknowledged either): nothing to check.
        if (isCairnError(error) && error.code === 521 && !this.submitted.has(job)) continue;
        finals.set(job, undefined);
      }
    }
    return finals;
  }

  /** After healing: waits (bounded) for the jobs and the watches, stops everything, judges. */
  async finish(timeoutMs: number): Promise<RecipeVerdicts> {
    const notes: string[] = [];
    const deadline = performance.now() + timeoutMs;
    let finals = new Map<string, string | undefined>();
    while (performance.now() < deadline) {
      finals = await this.finals().catch(() => finals);
      const settled = [...finals.values()].every((s) => s !== undefined && TERMINAL.has(s));
      if (settled && (finals.size > 0 || this.submitted.size === 0)) break;
      await sleep(500);
    }
    const recorders = this.recorders!;
    let target = 0;
    try {
      target = (await this.admin!.get('/')).index;
    } catch (error) {
      notes.push(`recipes: cannot read the store index: ${(error as Error).message}`);
    }
    while (performance.now() < deadline && Object.values(recorders).some((r) => r.reached < target)) await sleep(200);
    for (const [what, r] of Object.entries(recorders)) {
      if (r.reached < target) notes.push(`recipes: the ${what} watch reached index ${r.reached} of ${target}`);
      if (r.error !== undefined) notes.push(`recipes: the ${what} watch failed: ${r.error}`);
    }
    await this.close();
    return {
      semaphore: checkSemaphore(recorders.semaphore.events, this.semaphoreGrants, { name: this.names.semaphore, max: this.max }),
      election: checkElection(recorders.election.events, this.electionGrants, { name: this.names.election }),
      jobs: checkJobs(recorders.jobs.events, finals),
      notes,
      told: { semaphore: this.semaphoreGrants.length, election: this.electionGrants.length, jobs: this.submitted.size },
    };
  }

  /** Everything recorded, for the saved history of a failing run. */
  record(): object {
    const events = this.recorders === undefined ? {} : Object.fromEntries(Object.entries(this.recorders).map(([k, r]) => [k, r.events]));
    return { names: this.names, semaphoreGrants: this.semaphoreGrants, electionGrants: this.electionGrants, submitted: [...this.submitted], events };
  }

  /** Stops the agents and the watches and closes every client (idempotent). */
  async close(): Promise<void> {
    this.stopAgents.abort();
    await Promise.race([Promise.all(this.agents), sleep(5_000)]);
    if (this.recorders !== undefined) await Promise.all(Object.values(this.recorders).map((r) => r.close()));
    for (const c of this.clients) c.close();
  }
}
