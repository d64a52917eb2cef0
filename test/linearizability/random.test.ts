// Randomized tests of checkHistory. Histories generated from a real sequential execution
// (generate.ts) must pass; the same histories with one read changed to a value nobody wrote
// must fail on that key; and small random histories, good and bad, must get the verdict of
// the brute-force oracle (brute-force.ts). Every failure names its seed: rerun it by putting
// that seed in place of the loop.
import t from 'tap';
import type { Test } from 'tap';
import { Rng } from '../sim/rng.js';
import { bruteForceLinearizable } from './brute-force.js';
import { checkHistory } from './check.js';
import { DEFAULT_GENERATE, generateHistory } from './generate.js';
import type { KvOutput, Operation } from './history.js';

t.test('histories generated from a sequential execution are linearizable', async (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const ops = generateHistory(new Rng(seed));
    const result = checkHistory(ops);
    if (!result.ok || result.undecidedKeys.length > 0) {
      const verdict = `bad ${result.badKeys} undecided ${result.undecidedKeys}`;
      t.fail(`seed ${seed}: ${verdict}\n${result.explanation}`);
    }
  }
  t.pass('40 seeds');
});

t.test('changing one read to a value never written makes exactly its key bad', async (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new Rng(seed);
    const ops = generateHistory(rng);
    const reads = ops.flatMap((op, i) => (isRead(op) ? [i] : []));
    const victim = rng.pick(reads);
    const never: KvOutput = { status: 'ok', value: 'never' };
    const mutated = ops.map((op, i) => (i === victim ? { ...op, output: never } : op));
    const result = checkHistory(mutated);
    t.same([result.badKeys, result.undecidedKeys], [[ops[victim]!.input.key], []], `seed ${seed}`);
  }
});

/** A get with a definite outcome. */
function isRead(op: Operation): boolean {
  return op.input.kind === 'get' && op.output.status !== 'unknown';
}

/** Replace one op's output or times with something random: often, not always, a violation. */
function mutate(rng: Rng, ops: Operation[]): Operation[] {
  const victim = rng.int(0, ops.length - 1);
  const op = ops[victim]!;
  const outputs: KvOutput[] = [
    { status: 'ok', value: rng.pick([null, 'v0', 'v1']) },
    { status: 'fail', code: rng.pick([100, 101, 105]) },
    { status: 'unknown' },
  ];
  const changed: Operation = rng.chance(0.7)
    ? { ...op, output: rng.pick(outputs) }
    : { ...op, call: op.call + rng.int(-5, 5), return: op.return + rng.int(0, 10) };
  const fixed = changed.return < changed.call ? { ...changed, return: changed.call } : changed;
  return ops.map((o, i) => (i === victim ? fixed : o));
}

/** Compare the checker with the oracle on small random histories; returns the verdict counts. */
function crossCheck(t: Test, seeds: number, unknownRate: number): { good: number; bad: number } {
  const verdicts = { good: 0, bad: 0 };
  for (let seed = 1; seed <= seeds; seed++) {
    const rng = new Rng(seed);
    const options = {
      ops: rng.int(1, 8),
      keys: rng.int(1, 2),
      clients: rng.int(1, 3),
      valuesPerKey: 2,
      unknownRate,
      maxDurationMs: 6,
    };
    const generated = generateHistory(rng, options);
    const ops = rng.chance(0.7) ? mutate(rng, generated) : generated;
    const expected = bruteForceLinearizable(ops);
    const result = checkHistory(ops);
    verdicts[expected ? 'good' : 'bad'] += 1;
    if (result.ok !== expected || result.undecidedKeys.length > 0) {
      t.fail(`seed ${seed} (unknown rate ${unknownRate}): checker says ${result.ok}, ` +
        `brute force ${expected}\n${JSON.stringify(ops)}`);
    }
  }
  t.comment(`verdicts: ${JSON.stringify(verdicts)}`);
  return verdicts;
}

t.test('small random histories get the brute-force verdict', async (t) => {
  const verdicts = crossCheck(t, 1500, 0.15);
  t.ok(verdicts.good > 300 && verdicts.bad > 150, 'both verdicts are well represented');
});

t.test('... and so do small histories where most outcomes are unknown', async (t) => {
  const verdicts = crossCheck(t, 1000, 0.6);
  t.ok(verdicts.good > 100 && verdicts.bad > 50, 'both verdicts are represented');
});

t.test('speed: 5,000 ops over 10 keys and 8 clients', async (t) => {
  const options = { ...DEFAULT_GENERATE, ops: 5000, keys: 10, clients: 8 };
  const ops = generateHistory(new Rng(2024), options);
  const started = performance.now();
  const result = checkHistory(ops);
  const elapsedMs = performance.now() - started;
  t.same([result.ok, result.undecidedKeys], [true, []], 'seed 2024');
  const opsPerSecond = Math.round(ops.length / (elapsedMs / 1000));
  t.comment(`${ops.length} ops in ${elapsedMs.toFixed(0)} ms: ${opsPerSecond} ops/s`);
  t.ok(elapsedMs < 3000, 'well inside the suite budget');
});
