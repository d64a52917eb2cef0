// Carries out a fault schedule (schedule.ts) against a FaultCluster in real time: waits for
// each step's moment, resolves "the leader" when the step happens (falling back to a seeded
// pick of a live member when none is known), and logs what it did with the time.
import { performance } from 'node:perf_hooks';
import { Rng } from '../sim/rng.js';
import type { FaultCluster } from './cluster.js';
import { describeStep, splitMembers } from './schedule.js';
import type { FaultStep, Target } from './schedule.js';

export interface InjectedStep {
  readonly at: number;
  readonly what: string;
}

export class Injector {
  readonly log: InjectedStep[] = [];
  private readonly rng: Rng;
  private stopped = false;

  constructor(private readonly cluster: FaultCluster, seed: number, private readonly start: number) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  private now(): number {
    return performance.now() - this.start;
  }

  /** Runs `steps` in order, each no earlier than its `at`; stop() ends it between steps. */
  async run(steps: readonly FaultStep[]): Promise<void> {
    for (const step of steps) {
      const wait = step.at - this.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 600_000)));
      if (this.stopped) return;
      const what = await this.apply(step);
      this.log.push({ at: this.now(), what });
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async resolve(target: Target, avoid?: string): Promise<string> {
    const candidates = this.cluster.liveMembers().filter((m) => m !== avoid);
    if ('member' in target && target.member !== avoid) return target.member;
    const leader = 'leader' in target ? await this.cluster.leader() : undefined;
    if (leader !== undefined && leader !== avoid) return leader;
    const pool = candidates.length > 0 ? candidates : this.cluster.memberNames.filter((m) => m !== avoid);
    return this.rng.pick(pool);
  }

  /** Does one step; returns a description naming the members it hit. */
  private async apply(step: FaultStep): Promise<string> {
    const names = this.cluster.memberNames;
    switch (step.type) {
      case 'kill': {
        const who = await this.resolve(step.target);
        await this.cluster.kill(who);
        return `${describeStep(step)} (${who})`;
      }
      case 'pause': {
        const who = await this.resolve(step.target);
        this.cluster.pause(who);
        return `${describeStep(step)} (${who})`;
      }
      case 'cut': {
        const from = await this.resolve(step.from);
        const to = await this.resolve(step.to, from);
        this.cluster.proxy.cut(from, to);
        return `${describeStep(step)} (${from}→${to})`;
      }
      case 'partition': {
        const leader = await this.cluster.leader();
        const [minority, majority] = splitMembers(names, step.minority, leader, step.isolateLeader, this.rng.int(0, 0xffffffff));
        this.cluster.proxy.partition([minority, majority]);
        return `${describeStep(step)} (${minority.join(',')} | ${majority.join(',')})`;
      }
      case 'restart': for (const n of names) this.cluster.restart(n); return step.type;
      case 'resume': for (const n of names) this.cluster.resume(n); return step.type;
      case 'heal': this.cluster.proxy.heal(); return step.type;
      case 'healAll':
        this.cluster.proxy.heal();
        for (const n of names) { this.cluster.resume(n); this.cluster.restart(n); }
        return step.type;
    }
  }
}
