// The sequential model of one key (model.ts), case by case: which recorded outputs each
// operation may have in an absent and in a present key, and the state it leaves behind.
import t from 'tap';
import { cas, create, del, fail, get, ok, set, unknown } from './build.js';
import type { KvInput, KvOutput } from './history.js';
import { ILLEGAL, isInert, step, type KeyState } from './model.js';

type After = KeyState | typeof ILLEGAL;
type Row = readonly [state: KeyState, input: KvInput, output: KvOutput, after: After];

const rows: readonly Row[] = [
  [null, get('x'), ok(null), null],
  [null, get('x'), fail(100), null],
  [null, get('x'), ok('a'), ILLEGAL],
  ['a', get('x'), ok('a'), 'a'],
  ['a', get('x'), ok('b'), ILLEGAL],
  ['a', get('x'), ok(null), ILLEGAL],
  ['a', get('x'), fail(100), ILLEGAL],
  [null, set('x', 'a'), ok(), 'a'],
  ['b', set('x', 'a'), ok('ignored'), 'a'],
  [null, cas('x', 'a', 'b'), fail(100), null],
  [null, cas('x', 'a', 'b'), fail(101), ILLEGAL],
  [null, cas('x', 'a', 'b'), ok(), ILLEGAL],
  ['a', cas('x', 'a', 'b'), ok(), 'b'],
  ['a', cas('x', 'a', 'b'), fail(101), ILLEGAL],
  ['c', cas('x', 'a', 'b'), fail(101), 'c'],
  ['c', cas('x', 'a', 'b'), fail(100), ILLEGAL],
  ['a', del('x'), ok(), null],
  [null, del('x'), ok(), ILLEGAL],
  [null, del('x'), fail(100), null],
  ['a', del('x'), fail(100), ILLEGAL],
  [null, create('x', 'a'), ok(), 'a'],
  ['b', create('x', 'a'), ok(), ILLEGAL],
  ['b', create('x', 'a'), fail(105), 'b'],
  [null, create('x', 'a'), fail(105), ILLEGAL],
  // Unknown outcomes: always legal, with the op's sequential effect.
  ['a', set('x', 'b'), unknown, 'b'],
  ['a', cas('x', 'a', 'b'), unknown, 'b'],
  ['c', cas('x', 'a', 'b'), unknown, 'c'],
  ['a', del('x'), unknown, null],
  [null, del('x'), unknown, null],
  [null, create('x', 'a'), unknown, 'a'],
  ['b', create('x', 'a'), unknown, 'b'],
  // Codes the model does not predict carry no information: legal, no effect.
  ['a', set('x', 'b'), fail(500), 'a'],
  ['a', cas('x', 'a', 'b'), fail(105), 'a'],
  [null, create('x', 'a'), fail(100), null],
];

t.test('step: legal outputs and the state after them', async (t) => {
  for (const [state, input, output, after] of rows) {
    const name = `${JSON.stringify(state)} ${input.kind} ${JSON.stringify(output)}`;
    t.equal(step(state, input, output), after, name);
  }
});

t.test('inert ops are exactly those legal everywhere with no effect', async (t) => {
  t.equal(isInert(get('x'), unknown), true);
  t.equal(isInert(set('x', 'a'), fail(500)), true);
  t.equal(isInert(get('x'), fail(100)), false);
  t.equal(isInert(set('x', 'a'), unknown), false);
  t.equal(isInert(cas('x', 'a', 'b'), fail(101)), false);
  for (const [state, input, output] of rows) {
    if (!isInert(input, output)) continue;
    t.equal(step(state, input, output), state, `${input.kind} is inert`);
  }
});
