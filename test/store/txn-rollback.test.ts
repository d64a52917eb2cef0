// A txn that fails half way leaves the store exactly as it was: the same snapshot bytes (tree,
// children's order, deadlines, history, index), and the same behaviour afterwards (a twin
// restored from the state before the txn, given the same later writes and expiries, stays
// byte-identical). Seeded random stores and txns; a failing seed is printed.
import t from 'tap';
import { Store, StoreError } from '../../core/store/index.js';
import type { TxnOp } from '../../core/store/index.js';
import { T0, rng } from './helpers.js';

const KEYS = ['/a', '/a/b', '/a/c', '/a/b/x', '/d', '/d/e/f', '/d/e/g', '/q', '/z/1', '/z/2'];
const pickKey = (r: () => number): string => KEYS[Math.floor(r() * KEYS.length)]!;

/** A random change: most of them succeed, some fail (and a txn made of them may fail too). */
function randomOp(r: () => number): TxnOp {
  const key = pickKey(r);
  const ttl = r() < 0.4 ? 1 + Math.floor(r() * 5) : undefined;
  const pick = r();
  if (pick < 0.3) return { set: { key, value: String(Math.floor(r() * 3)), ttl } };
  if (pick < 0.4) return { set: { key, value: 'u', prevExist: true, ttl } };
  if (pick < 0.5) return { set: { key, value: 'x', prevValue: String(Math.floor(r() * 3)) } };
  if (pick < 0.6) return { set: { key, dir: true, ttl } };
  if (pick < 0.7) return { create: { key, value: 'j', ttl } };
  if (pick < 0.9) return { delete: { key, recursive: r() < 0.7 } };
  return { get: { key } };
}

/** Applies one op outside a txn, ignoring the store's own refusals. */
function apply(s: Store, op: TxnOp, now: number): void {
  try {
    s.txn({ compare: [], success: [op] }, now);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
  }
}

const snap = (s: Store): Buffer => Buffer.from(s.snapshot());

t.test('a failed txn leaves the same state and the same future', async (t) => {
  const seeds = 400;
  let rolledBack = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const s = new Store({ historySize: 8 });
    let now = T0;
    for (let i = 0; i < 30; i++) apply(s, randomOp(r), (now += Math.floor(r() * 900)));
    const before = snap(s);
    const ops = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomOp(r));
    // Always ends in a failing op, so the txn rolls back after what the others changed.
    ops.push({ delete: { key: '/no/such/key' } });
    try {
      s.txn({ compare: [], success: ops }, (now += 100));
      t.fail(`seed ${seed}: the txn should have failed`);
      return;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
    rolledBack++;
    if (!snap(s).equals(before)) {
      t.fail(`seed ${seed}: the state after a rollback differs from the state before (replay with this seed)`);
      return;
    }
    const twin = Store.restore(before);
    for (let i = 0; i < 30; i++) {
      now += Math.floor(r() * 900);
      const op = randomOp(r);
      apply(s, op, now);
      apply(twin, op, now);
      s.expire(now);
      twin.expire(now);
    }
    if (!snap(s).equals(snap(twin))) {
      t.fail(`seed ${seed}: after a rollback the store behaves differently from its twin (replay with this seed)`);
      return;
    }
  }
  t.equal(rolledBack, seeds, `${rolledBack} rolled-back txns left the state and its future unchanged`);
});

t.test('a rollback restores the order of a directory\'s children', async (t) => {
  const s = new Store();
  for (const k of ['c', 'a', 'b']) s.set(`/dir/${k}`, { value: k }, T0);
  t.throws(() => s.txn({ compare: [], success: [
    { set: { key: '/dir/a', value: 'replaced' } }, // remove + insert: 'a' would move to the end
    { delete: { key: '/dir/c' } },
    { set: { key: '/dir/new', value: 'n' } },
    { delete: { key: '/no/such/key' } },
  ] }, T0));
  const listed = s.get('/dir', {}, T0).node.nodes?.map((n) => `${n.key}=${n.value}`);
  t.same(listed, ['/dir/c=c', '/dir/a=a', '/dir/b=b'], 'unsorted listing as before the txn');
  t.equal(s.index, 3);
});

t.test('a rollback undoes a TTL given and a TTL taken away', async (t) => {
  const s = new Store();
  s.set('/timed', { value: 't', ttl: 5 }, T0);
  s.set('/forever', { value: 'f' }, T0);
  t.throws(() => s.txn({ compare: [], success: [
    { set: { key: '/timed', value: 't2', prevExist: true } }, // update without ttl: permanent
    { set: { key: '/forever', value: 'f2', prevExist: true, ttl: 1 } },
    { delete: { key: '/no/such/key' } },
  ] }, T0));
  t.equal(s.nextDeadline(), T0 + 5000, 'only /timed has a deadline again');
  t.same(s.expire(T0 + 2000), [], 'nothing expires at 2 s: /forever is permanent again');
  t.same(s.expire(T0 + 5000).map((e) => e.node.key), ['/timed'], '/timed expires on its old deadline');
  t.equal(s.get('/forever', {}, T0 + 5000).node.value, 'f');
});
