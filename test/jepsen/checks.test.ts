// The runner's own checks on hand-made histories: a final value nobody wrote, an acknowledged
// write lost without a delete, the last acknowledged write overwritten, what unknown writes
// excuse, and availability over 1 s windows.
import t from 'tap';
import type { KvInput, KvOutput, Operation } from '../linearizability/history.js';
import { availability, checkFinalState } from './checks.js';

const key = '/k';
const op = (input: KvInput, output: KvOutput, call: number, ret: number, client = 0): Operation => ({ client, input, output, call, return: ret });
const ok: KvOutput = { status: 'ok' };
const unknown: KvOutput = { status: 'unknown' };
const finals = (value: string | null): Map<string, string | null> => new Map([[key, value]]);

t.test('the last acknowledged write must be the final value when nothing could overtake it', async (t) => {
  const ops = [op({ kind: 'set', key, value: 'a' }, ok, 0, 10), op({ kind: 'set', key, value: 'b' }, ok, 20, 30)];
  t.same(checkFinalState(ops, finals('b')), []);
  t.match(checkFinalState(ops, finals('a')).join(), /last acknowledged write/);
  t.match(checkFinalState(ops, finals(null)).join(), /absent at the end/);
  t.match(checkFinalState(ops, finals('z')).join(), /never written/);
});

t.test('overlapping or unknown writes excuse another final value, refusals do not count', async (t) => {
  const overlapping = [op({ kind: 'set', key, value: 'a' }, ok, 0, 25), op({ kind: 'set', key, value: 'b' }, ok, 20, 30)];
  t.same(checkFinalState(overlapping, finals('a')), []);
  const withUnknown = [op({ kind: 'set', key, value: 'b' }, ok, 20, 30), op({ kind: 'delete', key }, unknown, 0, 5)];
  t.same(checkFinalState(withUnknown, finals(null)), []);
  const refused = [op({ kind: 'create', key, value: 'c' }, { status: 'fail', code: 105 }, 0, 5)];
  t.match(checkFinalState(refused, finals('c')).join(), /never written/);
});

t.test('availability counts 1 s windows with an answered operation', async (t) => {
  const ops = [op({ kind: 'get', key }, ok, 100, 200), op({ kind: 'get', key }, unknown, 1100, 1200), op({ kind: 'get', key }, ok, 2100, 2900)];
  t.equal(availability(ops, 4000, (o) => o.output.status === 'ok'), 0.5);
  t.equal(availability([], 4000, () => true), 0);
});
