// The fault schedule is pure and seeded: the same inputs give the same steps; every fault is
// undone before the next begins; steps stay within the duration in time order; only the
// asked-for kinds appear; the schedule always ends with healAll; splits keep a majority.
import t from 'tap';
import { describeStep, makeSchedule, splitMembers } from './schedule.js';
import type { FaultKind, FaultStep } from './schedule.js';

const members = ['m1', 'm2', 'm3', 'm4', 'm5'];
const base = { seed: 7, members, durationMs: 30_000, faults: ['kill', 'pause', 'partition'] as FaultKind[] };
const undoOf: Record<string, string> = { kill: 'restart', pause: 'resume', partition: 'heal', cut: 'heal' };

t.test('same seed, same schedule; another seed, another one', async (t) => {
  t.same(makeSchedule(base), makeSchedule(base));
  t.notSame(makeSchedule(base), makeSchedule({ ...base, seed: 8 }));
});

t.test('faults alternate with their undo, in order, within the duration, ending healed', async (t) => {
  for (let seed = 1; seed <= 50; seed++) {
    const steps = makeSchedule({ ...base, seed });
    t.equal(steps.at(-1)!.type, 'healAll');
    t.equal(steps.at(-1)!.at, base.durationMs);
    let previous = 0;
    let open: FaultStep | undefined;
    for (const step of steps.slice(0, -1)) {
      if (step.at < previous || step.at > base.durationMs) t.fail(`seed ${seed}: ${describeStep(step)} at ${step.at}`);
      previous = step.at;
      if (open === undefined) open = step;
      else {
        if (undoOf[open.type] !== step.type) t.fail(`seed ${seed}: ${describeStep(open)} undone by ${step.type}`);
        open = undefined;
      }
      if (step.type === 'cut' && 'member' in step.from && 'member' in step.to && step.from.member === step.to.member) {
        t.fail(`seed ${seed}: a member cut from itself`);
      }
    }
    if (open !== undefined) t.fail(`seed ${seed}: ${describeStep(open)} never undone`);
  }
  t.ok(makeSchedule(base).length > 4, 'a 30 s window holds several faults');
});

t.test('only the asked-for kinds appear; none gives only healAll', async (t) => {
  const kinds = new Set(makeSchedule({ ...base, faults: ['pause'] }).map((s) => s.type));
  t.same([...kinds].sort(), ['healAll', 'pause', 'resume']);
  t.same(makeSchedule({ ...base, faults: [] }), [{ at: base.durationMs, type: 'healAll' }]);
});

t.test('splitMembers keeps a strict majority and places the leader as asked', async (t) => {
  const [minority, majority] = splitMembers(members, 2, 'm3', true, 1);
  t.ok(minority.includes('m3'));
  t.equal(minority.length, 2);
  t.equal(majority.length, 3);
  const [without] = splitMembers(members, 2, 'm3', false, 1);
  t.notOk(without.includes('m3'));
  t.same(splitMembers(members, 2, 'm3', false, 9), splitMembers(members, 2, 'm3', false, 9));
});
