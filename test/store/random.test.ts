// A seeded random workload: a store restored from a mid-run snapshot and the original, fed the
// same remaining operations, end byte-identical; and the index counts exactly the successes
// (each expired key included), never the failures.
import t from 'tap';
import { Store, StoreError } from '../../core/store/index.js';
import { T0, rng } from './helpers.js';

/** Applies one random operation; returns how many index steps it should have taken. */
function step(s: Store, r: () => number, now: number): number {
  const keys = ['/a', '/a/b', '/a/c', '/d', '/d/e/f', '/_h', '/q'];
  const key = keys[Math.floor(r() * keys.length)]!;
  const pick = r();
  try {
    if (pick < 0.3) s.set(key, { value: String(Math.floor(r() * 3)), ttl: r() < 0.3 ? 1 + Math.floor(r() * 3) : undefined }, now);
    else if (pick < 0.4) s.set(key, { value: 'x', prevValue: String(Math.floor(r() * 3)) }, now);
    else if (pick < 0.5) s.set(key, { dir: true, prevExist: r() < 0.5 }, now);
    else if (pick < 0.6) s.create(key, { value: 'j' }, now);
    else if (pick < 0.75) s.delete(key, { recursive: r() < 0.5 }, now);
    else if (pick < 0.85) s.txn({ compare: [{ key, exists: r() < 0.5 }], success: [{ set: { key: '/t', value: 'y' } }], failure: [{ delete: { key } }] }, now);
    else return s.expire(now).length;
    return pick < 0.75 ? 1 : -1; // -1: a txn, counted by the caller from the index
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    return 0;
  }
}

t.test('restore mid-run, continue, compare bytes; index counts successes', async (t) => {
  for (const seed of [1, 2, 3, 42]) {
    const r = rng(seed);
    const plan = Array.from({ length: 400 }, () => Array.from({ length: 8 }, r));
    const run = (s: Store, from: number, to: number): number => {
      let counted = 0;
      for (let i = from; i < to; i++) {
        const draws = [...plan[i]!];
        const before = s.index;
        const n = step(s, () => draws.shift() ?? 0.5, T0 + i * 100);
        counted += n === -1 ? s.index - before : n;
      }
      return counted;
    };
    const a = new Store({ historySize: 50 });
    let counted = run(a, 0, 200);
    const b = Store.restore(a.snapshot());
    counted += run(a, 200, 400);
    run(b, 200, 400);
    t.equal(a.index, counted, `seed ${seed}: index counts exactly the successes`);
    t.ok(a.index > 100, `seed ${seed}: the workload did real work (${a.index})`);
    t.same(Buffer.from(b.snapshot()), Buffer.from(a.snapshot()), `seed ${seed}: restored copy identical`);
  }
});
