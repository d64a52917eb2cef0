// Hand-written histories with known verdicts for checkHistory: good ones (sequential,
// overlapping, unknown outcomes that did or did not happen) and bad ones, one per classic
// anomaly (stale read, lost write, a read from the future, double cas, double create, ...).
import t from 'tap';
import { cas, create, del, fail, get, ok, op, set, unknown } from './build.js';
import { checkHistory } from './check.js';
import type { Operation } from './history.js';
import type { Test } from 'tap';

function good(t: Test, name: string, ops: Operation[]): void {
  const result = checkHistory(ops);
  t.same([result.ok, result.badKeys, result.undecidedKeys], [true, [], []], `${name}: ok`);
  t.equal(result.explanation, undefined, `${name}: nothing to explain`);
}

function bad(t: Test, name: string, ops: Operation[], key = 'x'): void {
  const result = checkHistory(ops);
  t.same([result.ok, result.badKeys, result.undecidedKeys], [false, [key], []], `${name}: bad`);
  t.match(result.explanation, new RegExp(`key "${key}" is not linearizable`), `${name}: explained`);
}

t.test('known-good histories', async (t) => {
  good(t, 'empty', []);
  good(t, 'sequential', [
    op(1, 0, 1, get('x'), ok(null)),
    op(1, 2, 3, set('x', 'a'), ok()),
    op(2, 4, 5, get('x'), ok('a')),
    op(2, 6, 7, cas('x', 'a', 'b'), ok()),
    op(1, 8, 9, cas('x', 'a', 'c'), fail(101)),
    op(1, 10, 11, create('x', 'z'), fail(105)),
    op(2, 12, 13, del('x'), ok()),
    op(1, 14, 15, del('x'), fail(100)),
    op(1, 16, 17, get('x'), fail(100)),
    op(2, 18, 19, cas('x', 'b', 'c'), fail(100)),
    op(2, 20, 21, create('x', 'n'), ok()),
  ]);
  good(t, 'a read overlapping a write may see either value', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 10, set('x', 'b'), ok()),
    op(2, 3, 4, get('x'), ok('b')),
    op(3, 5, 6, get('x'), ok('b')),
  ]);
  good(t, 'the order of concurrent writes is decided by later reads', [
    op(1, 0, 10, set('x', 'a'), ok()),
    op(2, 0, 10, set('x', 'b'), ok()),
    op(3, 11, 12, get('x'), ok('a')),
  ]);
  good(t, 'a return and a call at the same time count as concurrent', [
    op(1, 0, 5, set('x', 'a'), ok()),
    op(2, 5, 6, get('x'), ok(null)),
  ]);
  good(t, 'keys are independent', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 3, set('y', 'b'), ok()),
    op(2, 4, 5, get('y'), ok('b')),
    op(2, 6, 7, get('x'), ok('a')),
  ]);
  good(t, 'echoed values on writes are ignored', [
    op(1, 0, 1, set('x', 'a'), ok('whatever')),
    op(1, 2, 3, get('x'), ok('a')),
  ]);
  good(t, 'a fail with a code the model does not predict carries no information', [
    op(1, 0, 1, set('x', 'a'), fail(500)),
    op(1, 2, 3, get('x'), ok(null)),
    op(1, 4, 5, cas('x', 'q', 'r'), fail(300)),
  ]);
});

t.test('unknown outcomes', async (t) => {
  good(t, 'a 302 set whose value appears later', [
    op(1, 0, 1, set('x', 'a'), unknown),
    op(2, 50, 51, get('x'), ok('a')),
  ]);
  good(t, 'a 302 set that never happened', [
    op(1, 0, 1, set('x', 'a'), unknown),
    op(2, 50, 51, get('x'), ok(null)),
    op(2, 52, 53, create('x', 'b'), ok()),
    op(2, 54, 55, get('x'), ok('b')),
  ]);
  good(t, 'a timed-out write may take effect long after its client gave up', [
    op(1, 0, 1, set('x', 'a'), unknown),
    op(2, 10, 11, set('x', 'b'), ok()),
    op(2, 12, 13, get('x'), ok('b')),
    op(3, 20, 21, get('x'), ok('a')),
  ]);
  good(t, 'an unknown delete explains a key gone missing', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(2, 2, 3, del('x'), unknown),
    op(1, 10, 11, get('x'), fail(100)),
  ]);
  good(t, 'unknown gets are ignored', [op(1, 0, 1, get('x'), unknown)]);
  bad(t, 'a 302 set whose value appears before its call', [
    op(2, 0, 1, get('x'), ok('a')),
    op(1, 5, 6, set('x', 'a'), unknown),
  ]);
  bad(t, 'an unknown write can happen only once', [
    op(1, 0, 1, set('x', 'a'), unknown),
    op(2, 10, 11, set('x', 'b'), ok()),
    op(2, 12, 13, get('x'), ok('a')),
    op(2, 14, 15, set('x', 'c'), ok()),
    op(2, 16, 17, get('x'), ok('a')),
  ]);
});

t.test('known-bad histories', async (t) => {
  bad(t, 'stale read after a completed write', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 3, set('x', 'b'), ok()),
    op(2, 4, 5, get('x'), ok('a')),
  ]);
  bad(t, 'lost write: a completed set never visible, later reads show the older value', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(2, 2, 3, set('x', 'b'), ok()),
    op(3, 4, 5, get('x'), ok('a')),
    op(1, 6, 7, get('x'), ok('a')),
  ]);
  bad(t, 'a read of a value before its write was called', [
    op(2, 0, 1, get('x'), ok('a')),
    op(1, 2, 3, set('x', 'a'), ok()),
  ]);
  bad(t, 'two cas both succeeding from the same expected value', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(2, 2, 10, cas('x', 'a', 'b'), ok()),
    op(3, 2, 10, cas('x', 'a', 'c'), ok()),
  ]);
  bad(t, 'create succeeding twice', [
    op(1, 0, 10, create('x', 'a'), ok()),
    op(2, 0, 10, create('x', 'b'), ok()),
  ]);
  bad(t, 'delete of an absent key succeeding', [op(1, 0, 1, del('x'), ok())]);
  bad(t, 'a cas failing although the value matched', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 3, cas('x', 'a', 'b'), fail(101)),
  ]);
  bad(t, 'not found on a present key', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(2, 2, 3, get('x'), fail(100)),
  ]);
  bad(t, 'a read that goes back in time', [
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 20, set('x', 'b'), ok()),
    op(2, 3, 4, get('x'), ok('b')),
    op(3, 5, 6, get('x'), ok('a')),
  ]);
});

t.test('only the bad key is reported, with its longest prefix and the misfit', async (t) => {
  const result = checkHistory([
    op(1, 0, 1, set('y', 'ok'), ok()),
    op(1, 2, 3, get('y'), ok('ok')),
    op(1, 0, 1, set('x', 'a'), ok()),
    op(1, 2, 3, set('x', 'b'), ok()),
    op(2, 4, 5, get('x'), ok('a')),
  ]);
  t.same(result.badKeys, ['x']);
  t.same(result.keys.map((k) => [k.key, k.verdict]), [['x', 'bad'], ['y', 'ok']]);
  t.match(result.explanation, /longest linearizable prefix has 2 ops/);
  t.match(result.explanation, /leaves the key = "b"/);
  t.match(result.explanation, /fits nowhere: client 2 \[4, 5\] get "x" => ok "a"/);
});

t.test('a search over budget reports the key undecided, neither ok nor bad', async (t) => {
  // Many concurrent unknown writes, then a read nobody wrote: refuting it takes many states.
  const ops: Operation[] = [];
  for (let i = 0; i < 16; i++) ops.push(op(i, 0, 1, set('x', `v${i}`), unknown));
  for (let i = 0; i < 16; i++) ops.push(op(100 + i, 2, 3, cas('x', `v${i}`, `w${i}`), fail(101)));
  ops.push(op(99, 4, 5, get('x'), ok('never')));
  const result = checkHistory(ops, { stateBudget: 100 });
  t.same([result.ok, result.badKeys, result.undecidedKeys], [true, [], ['x']]);
  t.same(checkHistory(ops, { timeBudgetMs: 0 }).undecidedKeys, ['x']);
});

t.test('pending unknown writes do not make a refutation exponential', async (t) => {
  // 30 unknown writes of three values, then a read nobody wrote: without the dominance and
  // twin rules (visited.ts, search.ts) the search would walk 2^30 subsets of them.
  const ops: Operation[] = [];
  for (let i = 0; i < 30; i++) ops.push(op(i, i, i + 1, set('x', `v${i % 3}`), unknown));
  ops.push(op(99, 100, 101, get('x'), ok('v1')), op(99, 102, 103, get('x'), ok('never')));
  const result = checkHistory(ops, { stateBudget: 10_000 });
  t.same([result.badKeys, result.undecidedKeys], [['x'], []]);
  t.match(result.explanation, /fits nowhere: client 99 \[102, 103\] get "x" => ok "never"/);
});

t.test('malformed operations are refused, not judged', async (t) => {
  t.throws(() => checkHistory([op(1, 5, 4, set('x', 'a'), ok())]), /returned before it was called/);
  t.throws(() => checkHistory([op(1, NaN, 4, set('x', 'a'), ok())]), /call time/);
  t.throws(() => checkHistory([op(1, 0, 1, get('x'), ok())]), /must record its value/);
  t.doesNotThrow(() => checkHistory([op(1, 5, NaN, set('x', 'a'), unknown)]));
});
