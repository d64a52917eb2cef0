// A seeded fault schedule for the fault runner: pure (no I/O, no clock), so the same seed,
// member count, duration and fault kinds always give the same list of timed steps. Faults
// come one at a time: each is injected, held for a while, then undone, followed by a quiet
// gap, so the cluster gets chances to recover and the workload gets chances to succeed. The
// last step always undoes whatever is active and a final `healAll` closes the schedule.
import { Rng } from '../sim/rng.js';

export type FaultKind = 'kill' | 'pause' | 'partition';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition'];

/** Who a fault targets: the current leader (resolved when it happens) or a named member. */
export type Target = { readonly leader: true } | { readonly member: string };

export type FaultStep =
  | { readonly at: number; readonly type: 'kill'; readonly target: Target }
  | { readonly at: number; readonly type: 'restart' }
  | { readonly at: number; readonly type: 'pause'; readonly target: Target }
  | { readonly at: number; readonly type: 'resume' }
  /** Symmetric: members in different groups cannot talk. `leader` puts the leader in the minority. */
  | { readonly at: number; readonly type: 'partition'; readonly minority: number; readonly isolateLeader: boolean }
  /** One-way: `from`'s messages no longer reach `to` (resolved when it happens; skipped if the same). */
  | { readonly at: number; readonly type: 'cut'; readonly from: Target; readonly to: Target }
  | { readonly at: number; readonly type: 'heal' }
  | { readonly at: number; readonly type: 'healAll' };

export interface ScheduleOptions {
  readonly seed: number;
  readonly members: readonly string[];
  /** The fault window, ms from the start; every step lies in [0, durationMs]. */
  readonly durationMs: number;
  readonly faults: readonly FaultKind[];
  /** How long a fault is held, ms (default 1,500–4,000). */
  readonly holdMs?: readonly [number, number];
  /** The quiet gap after a fault is undone, ms (default 500–2,000). */
  readonly gapMs?: readonly [number, number];
}

/** The steps, in time order; the last is `healAll` at `durationMs`. */
export function makeSchedule(options: ScheduleOptions): FaultStep[] {
  if (options.members.length < 1) throw new Error('schedule: no members');
  if (!(options.durationMs > 0)) throw new Error('schedule: durationMs must be positive');
  const rng = new Rng(options.seed);
  const [holdLo, holdHi] = options.holdMs ?? [1_500, 4_000];
  const [gapLo, gapHi] = options.gapMs ?? [500, 2_000];
  const steps: FaultStep[] = [];
  let at = rng.int(gapLo, gapHi);
  for (let i = 0; i < 10_000 && options.faults.length > 0; i++) {
    const hold = rng.int(holdLo, holdHi);
    if (at + hold >= options.durationMs) break;
    const [inject, undo] = faultPair(rng, rng.pick(options.faults), options.members, at, at + hold);
    steps.push(inject, undo);
    at += hold + rng.int(gapLo, gapHi);
  }
  steps.push({ at: options.durationMs, type: 'healAll' });
  return steps;
}

function target(rng: Rng, members: readonly string[]): Target {
  return rng.chance(0.5) ? { leader: true } : { member: rng.pick(members) };
}

function faultPair(rng: Rng, kind: FaultKind, members: readonly string[], at: number, until: number): [FaultStep, FaultStep] {
  switch (kind) {
    case 'kill':
      return [{ at, type: 'kill', target: target(rng, members) }, { at: until, type: 'restart' }];
    case 'pause':
      return [{ at, type: 'pause', target: target(rng, members) }, { at: until, type: 'resume' }];
    case 'partition':
      return [partitionStep(rng, members, at), { at: until, type: 'heal' }];
    default:
      return assertNever(kind);
  }
}

/** A majority/minority split (the leader on either side) or a one-way cut, half and half. */
function partitionStep(rng: Rng, members: readonly string[], at: number): FaultStep {
  if (members.length >= 2 && rng.chance(0.5)) {
    const from = target(rng, members);
    let to: Target = { member: rng.pick(members) };
    // A cut of a member to itself means nothing; pick a member other than a named `from`.
    if ('member' in from) to = { member: rng.pick(members.filter((m) => m !== from.member)) };
    return { at, type: 'cut', from, to };
  }
  const minority = rng.int(1, Math.max(1, Math.floor((members.length - 1) / 2)));
  return { at, type: 'partition', minority, isolateLeader: rng.chance(0.5) };
}

/**
 * Splits `members` into a minority of `size` (holding `leader` if `isolateLeader`, else not)
 * and the majority; pure, so the runner's choice is replayable from `seed`.
 */
export function splitMembers(members: readonly string[], size: number, leader: string | undefined, isolateLeader: boolean, seed: number): [string[], string[]] {
  const rng = new Rng(seed);
  const others = members.filter((m) => m !== leader);
  const shuffled = others.map((m) => [rng.float(), m] as const).sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  const minority: string[] = [];
  if (leader !== undefined && isolateLeader) minority.push(leader);
  while (minority.length < size && shuffled.length > 0) minority.push(shuffled.shift()!);
  const majority = members.filter((m) => !minority.includes(m));
  return [minority, majority];
}

/** A one-line description of a step, for the run log. */
export function describeStep(step: FaultStep): string {
  const who = (t: Target): string => ('leader' in t ? 'leader' : t.member);
  switch (step.type) {
    case 'kill': case 'pause': return `${step.type} ${who(step.target)}`;
    case 'cut': return `cut ${who(step.from)}→${who(step.to)}`;
    case 'partition': return `partition minority=${step.minority}${step.isolateLeader ? ' (with leader)' : ''}`;
    default: return step.type;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}
