// The scheduler's agent: registers a machine, keeps it alive, and runs the jobs the scheduler
// gives it. A job's spec is `{"command": ["prog", "arg", …]}`, run as a child process without
// a shell. The agent reports job.start before it spawns (so an at-most-once job never runs
// unless the member recorded it running) and job.complete with the exit status after. It stops
// work it may no longer own: a job withdrawn from it (canceled, requeued), and every job once
// its heartbeats have failed for longer than its ttl (the member may have given them to
// another machine by then: fleet#440 never did this).
import { spawn } from 'node:child_process';
import type { CairnClient } from '../client.js';
import { isCairnError } from '../errors.js';
import type { JobNotice, SchedulerJob } from './scheduler.js';
import { completeJob, deregisterMachine, heartbeatMachine, listJobs, registerMachine, startJob, watchJobs } from './scheduler.js';

export interface JobExit { code: number | null; signal: string | null; error?: string }
export interface JobProcess { readonly exited: Promise<JobExit>; kill(): void }

export interface AgentOptions {
  machine: string;
  labels?: Record<string, string>;
  capacity?: number;
  ttl?: number;
  /** Stops the agent: children are killed and the machine deregistered. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Starts a job's process (default: spawn spec.command, no shell, output inherited). */
  spawnJob?: (job: SchedulerJob, env: Record<string, string>) => JobProcess;
  now?: () => number;
}

interface Local { job: SchedulerJob; proc: JobProcess; withdrawn: boolean }

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  function done(): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
  signal.addEventListener('abort', done, { once: true });
});

function commandOf(job: SchedulerJob): string[] | undefined {
  const command = (job.spec as { command?: unknown } | null)?.command;
  return Array.isArray(command) && command.length > 0 && command.every((c) => typeof c === 'string') ? command as string[] : undefined;
}

export function spawnCommand(job: SchedulerJob, env: Record<string, string>): JobProcess {
  const command = commandOf(job) ?? [];
  const child = spawn(command[0] ?? '', command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise<JobExit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { exited, kill: () => { child.kill('SIGKILL'); } };
}

/** Runs the agent until `options.signal` aborts. */
export async function runAgent(client: CairnClient, options: AgentOptions): Promise<void> {
  const agent = new Agent(client, options);
  await agent.run();
}

class Agent {
  private readonly local = new Map<string, Local>();
  /**
   * Every job attempt this agent process has taken on (job.start sent). A notice about one of
   * them — a resubscription's first list, a late or duplicate notice, one arriving while its
   * completion is on the way — must neither start it twice nor be taken for the leftover of
   * an earlier agent process. (Bounded by the attempts one agent process runs in its life.)
   */
  private readonly takenOn = new Set<string>();
  private readonly stop = new AbortController();
  private readonly ttlS: number;
  private lastAckSentAt: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly client: CairnClient, private readonly o: AgentOptions) {
    this.ttlS = o.ttl ?? 10;
    this.now = o.now ?? Date.now;
    this.lastAckSentAt = this.now();
    this.log = o.log ?? (() => {});
    o.signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  async run(): Promise<void> {
    const signal = this.stop.signal;
    await this.register();
    const beating = this.heartbeats();
    while (!signal.aborted) {
      try {
        await this.watchOnce();
      } catch (error) {
        if (!signal.aborted) this.log(`job.watch ended (${String(error)}); watching again`);
      }
      await sleep(200, signal);
    }
    await beating;
    this.killAll('the agent is stopping');
    await deregisterMachine(this.client, this.o.machine, { timeoutMs: 2_000 }).catch(() => undefined);
  }

  private async register(): Promise<void> {
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      const sentAt = this.now();
      try {
        const m = await registerMachine(this.client, this.o.machine, {
          ...(this.o.labels === undefined ? {} : { labels: this.o.labels }), capacity: this.o.capacity ?? 1, ttl: this.ttlS,
        });
        this.lastAckSentAt = sentAt;
        this.log(`registered machine ${this.o.machine} (index ${m.registeredIndex})`);
        return;
      } catch (error) {
        this.log(`register failed: ${String(error)}`);
        await sleep(Math.min(2_000, 100 * 2 ** attempt), this.stop.signal);
      }
    }
  }

  /** Heartbeats every ttl/3; kills every child once none was acknowledged for a whole ttl. */
  private async heartbeats(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      await sleep((this.ttlS * 1000) / 3, signal);
      if (signal.aborted) return;
      const sentAt = this.now();
      try {
        await heartbeatMachine(this.client, this.o.machine, { timeoutMs: (this.ttlS * 1000) / 3 });
        this.lastAckSentAt = sentAt;
      } catch (error) {
        if (isCairnError(error) && error.code === 100) {
          this.killAll('the registration lapsed');
          await this.register();
          continue;
        }
        this.log(`heartbeat failed: ${String(error)}`);
      }
      if (this.now() - this.lastAckSentAt > this.ttlS * 1000 && this.local.size > 0) {
        this.killAll(`no heartbeat acknowledged for more than ${this.ttlS} s`);
        // The jobs killed may still be ours on the member: registering anew (a new
        // incarnation) makes the scheduler give them back rather than leave them running.
        await this.register();
      }
    }
  }

  private async watchOnce(): Promise<void> {
    const sub = await watchJobs(this.client, this.o.machine, { signal: this.stop.signal });
    try {
      // Children of jobs this machine no longer owns (withdrawn while the stream was down) stop.
      const owned = new Set((await listJobs(this.client, { machine: this.o.machine }))
        .filter((j) => j.state === 'assigned' || j.state === 'running').map((j) => `${j.job}#${j.attempt}`));
      for (const [key, l] of this.local) if (!owned.has(key)) this.kill(l, 'no longer assigned here');
      for await (const notice of sub) this.onNotice(notice);
    } finally {
      sub.close();
    }
  }

  private onNotice(n: JobNotice): void {
    const key = `${n.job.job}#${n.job.attempt}`;
    if (n.action === 'withdrawn') {
      const l = this.local.get(key);
      if (l !== undefined) this.kill(l, `withdrawn (${n.job.state})`);
      return;
    }
    if (this.local.has(key) || this.takenOn.has(key)) return;
    if (n.job.state === 'running') {
      // Marked running by an earlier agent process of this machine: its child is gone.
      void this.complete(n.job, 'failed', { error: 'the agent restarted while the job was running' });
      return;
    }
    void this.start(n.job);
  }

  private async start(job: SchedulerJob): Promise<void> {
    const report = { job: job.job, machine: this.o.machine, attempt: job.attempt };
    const key = `${job.job}#${job.attempt}`;
    this.takenOn.add(key);
    if (!(await this.reportStart(job, report))) {
      this.takenOn.delete(key); // a later notice may try again
      return;
    }
    if (commandOf(job) === undefined) {
      await this.complete(job, 'failed', { error: 'spec has no "command": a non-empty array of strings' });
      return;
    }
    const env = { CAIRN_JOB: job.job, CAIRN_JOB_ATTEMPT: String(job.attempt), CAIRN_JOB_TOKEN: String(job.token ?? ''), CAIRN_MACHINE: this.o.machine };
    const proc = (this.o.spawnJob ?? spawnCommand)(job, env);
    const l: Local = { job, proc, withdrawn: false };
    this.local.set(key, l);
    this.log(`job ${job.job} attempt ${job.attempt}: started`);
    const exit = await proc.exited;
    this.local.delete(key);
    if (l.withdrawn) return; // Not ours any more: nothing to report.
    const status = exit.code === 0 ? 'succeeded' : 'failed';
    await this.complete(job, status, { exitCode: exit.code, signal: exit.signal, ...(exit.error === undefined ? {} : { error: exit.error }) });
  }

  /** job.start, retried (it is idempotent) through a leader change; false if refused or never answered. */
  private async reportStart(job: SchedulerJob, report: { job: string; machine: string; attempt: number }): Promise<boolean> {
    for (let attempt = 0; attempt < 5 && !this.stop.signal.aborted; attempt++) {
      try {
        await startJob(this.client, report);
        return true;
      } catch (error) {
        if (!isCairnError(error) || !error.retryable) {
          this.log(`job ${job.job} attempt ${job.attempt}: start refused: ${String(error)}`);
          return false;
        }
        await sleep(200 * (attempt + 1), this.stop.signal);
      }
    }
    this.log(`job ${job.job} attempt ${job.attempt}: start not acknowledged after 5 tries`);
    return false;
  }

  private async complete(job: SchedulerJob, status: 'succeeded' | 'failed', result: unknown): Promise<void> {
    const report = { job: job.job, machine: this.o.machine, attempt: job.attempt, status, result };
    for (let attempt = 0; attempt < 5 && !this.stop.signal.aborted; attempt++) {
      try {
        await completeJob(this.client, report);
        this.log(`job ${job.job} attempt ${job.attempt}: ${status}`);
        return;
      } catch (error) {
        if (isCairnError(error) && !error.retryable && error.code !== 302) {
          this.log(`job ${job.job} attempt ${job.attempt}: completion refused: ${error.code}: ${error.message}`);
          return;
        }
        await sleep(200 * (attempt + 1), this.stop.signal);
      }
    }
  }

  private kill(l: Local, why: string): void {
    if (l.withdrawn) return;
    l.withdrawn = true;
    this.log(`job ${l.job.job} attempt ${l.job.attempt}: killed: ${why}`);
    l.proc.kill();
  }

  private killAll(why: string): void {
    for (const l of this.local.values()) this.kill(l, why);
  }
}
