// The in-cluster scheduler: a member service that acts only while its member is the Raft
// leader, so it moves with leadership. It is level-triggered: every pass re-reads all
// machines and jobs (after a read barrier) and plans from scratch (plan.ts), so a new leader
// needs no hand-over. Store events on /cairn/jobs and /cairn/machines start a pass soon; a
// periodic pass is the backstop. Each change is a txn comparing the job's modifiedIndex and
// the scheduler epoch (epoch.ts): if two members briefly both believe they lead, or a pass
// planned on a stale view, only one write per job state wins, so no attempt is ever assigned
// twice, and an older leader's writes fail once a newer one claimed the epoch.
import type { Logger } from '../../server/log.js';
import { MemberError } from '../../server/errors.js';
import type { MemberApi } from '../../server/member-api.js';
import type { RecipeService } from '../method.js';
import { JOBS_DIR, MACHINES_DIR } from './job.js';
import { planChanges } from './plan.js';
import { claimEpoch, writeJobFenced } from './epoch.js';
import { readJobs, readMachines, toRow } from './store-io.js';

export interface SchedulerOptions {
  /** The backstop pass interval. */
  resyncMs: number;
  /** Delay from a store event to the pass it triggers (coalesces bursts of events). */
  debounceMs: number;
  /** Writes at most this many changes per pass; a full pass is followed by another at once. */
  maxChangesPerPass: number;
  now(): number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { resyncMs: 1000, debounceMs: 10, maxChangesPerPass: 256, now: Date.now };

export class Scheduler implements RecipeService {
  private readonly timer: NodeJS.Timeout;
  private readonly removers: (() => void)[];
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Passes run and changes written, for tests and logs. */
  readonly counts = { passes: 0, written: 0, conflicts: 0 };

  constructor(private readonly member: MemberApi, private readonly logger: Logger | undefined, private readonly options: SchedulerOptions = DEFAULT_SCHEDULER_OPTIONS) {
    this.timer = setInterval(() => this.kick(), options.resyncMs);
    this.timer.unref();
    // Only this member's applied events: cheap, and a follower ignores them (not leading).
    this.removers = [JOBS_DIR, MACHINES_DIR].map((key) => member.watchHub.add({
      key, recursive: true, deliver: () => this.kickSoon(), reset: () => this.kickSoon(),
    }));
  }

  private leading(): boolean {
    const status = this.member.status();
    return status.leaderId !== '' && status.leaderId === this.member.memberId;
  }

  private kickSoon(): void {
    if (this.soon !== undefined || this.stopped || !this.leading()) return;
    this.soon = setTimeout(() => { this.soon = undefined; this.kick(); }, this.options.debounceMs);
    this.soon.unref();
  }

  /** Starts a pass, or asks the running one to be followed by another. */
  kick(): void {
    if (this.stopped || !this.leading()) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => { this.running = undefined; });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        if (await this.pass()) this.again = true;
      } catch (error) {
        // No leader, a timeout: the next kick or resync tries again from a fresh read.
        if (!(error instanceof MemberError)) this.logger?.log('warn', `scheduler pass failed: ${String(error)}`);
        return;
      }
    } while (this.again && !this.stopped && this.leading());
  }

  /** One pass; true when it should be followed by another at once (it wrote or met a conflict). */
  async pass(): Promise<boolean> {
    this.counts.passes += 1;
    let changes = await this.plan();
    // The epoch is claimed only when there is something to write, so an idle cluster writes
    // nothing; a fresh claim re-reads, so the plan sees every write of an older leader.
    if (changes.length === 0) return false;
    const claim = await claimEpoch(this.member);
    if (claim === undefined) return false; // a newer leader schedules now
    if (claim.fresh) changes = await this.plan();
    const epochIndex = claim.index;
    let conflict = false;
    for (const change of changes) {
      if (this.stopped || !this.leading()) return false;
      if (await writeJobFenced(this.member, change.next, change.prevIndex, epochIndex)) {
        this.counts.written += 1;
      } else {
        // Someone else moved this job (a report, a cancel) or a newer leader took the epoch: re-plan.
        this.counts.conflicts += 1;
        conflict = true;
      }
    }
    return conflict || changes.length >= this.options.maxChangesPerPass;
  }

  private async plan(): Promise<ReturnType<typeof planChanges>> {
    const machines = await readMachines(this.member);
    const rows = (await readJobs(this.member, false)).map(toRow);
    return planChanges(machines, rows, this.options.now(), this.options.maxChangesPerPass);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.soon !== undefined) clearTimeout(this.soon);
    for (const remove of this.removers) remove();
    await this.running?.catch(() => undefined);
  }
}

export const startScheduler = (member: MemberApi, logger: Logger): RecipeService => new Scheduler(member, logger);
