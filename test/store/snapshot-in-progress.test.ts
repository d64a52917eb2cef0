// A snapshot encoded a slice at a time while writes go on must be byte for byte the snapshot
// taken at the index it began: seeded random writes (sets, replacements, compare-and-swaps,
// TTL updates, in-order creates, recursive deletes, expiry, deadline extension, txns that
// succeed, and txns that change several keys and then roll back) between slices of 1 to 6
// nodes. A failing seed is printed.
import t from 'tap';
import { Store, StoreError } from '../../core/store/index.js';
import type { TxnOp } from '../../core/store/index.js';
import { T0, rng } from './helpers.js';

const KEYS = ['/a', '/a/b', '/a/c', '/a/b/x', '/d', '/d/e/f', '/d/e/g', '/q', '/_h', '/z/1', '/z/2', '/z/3'];

/** Up to three changes for a txn: new nested keys, replacements, updates, recursive deletes. */
function changes(key: string, r: () => number): TxnOp[] {
  const ops: TxnOp[] = [];
  for (let n = Math.floor(r() * 4); n > 0; n--) {
    const pick = r();
    if (pick < 0.3) ops.push({ set: { key: `${key}/n${Math.floor(r() * 3)}`, value: 'v', ttl: r() < 0.5 ? 2 : undefined } });
    else if (pick < 0.5) ops.push({ set: { key, value: 'w' } });
    else if (pick < 0.7) ops.push({ create: { key: '/z', value: 'c' } });
    else ops.push({ delete: { key: KEYS[Math.floor(r() * KEYS.length)]!, recursive: true } });
  }
  return ops;
}

/** One random write; failures (the store's own errors) are part of the workload. */
function write(s: Store, r: () => number, now: number): void {
  const key = KEYS[Math.floor(r() * KEYS.length)]!;
  const pick = r();
  const ttl = r() < 0.3 ? 1 + Math.floor(r() * 4) : undefined;
  try {
    if (pick < 0.25) s.set(key, { value: String(Math.floor(r() * 3)), ttl }, now);
    else if (pick < 0.32) s.set(key, { value: 'u', prevExist: true, ttl }, now);
    else if (pick < 0.4) s.set(key, { value: 'x', prevValue: String(Math.floor(r() * 3)) }, now);
    else if (pick < 0.47) s.set(key, { dir: true, prevExist: r() < 0.5, ttl }, now);
    else if (pick < 0.55) s.create(key, { value: 'j', ttl }, now);
    else if (pick < 0.68) s.delete(key, { recursive: r() < 0.6, dir: r() < 0.3 }, now);
    else if (pick < 0.76) s.txn({ compare: [{ key, exists: r() < 0.5 }], success: [{ set: { key: '/t', value: 'y' } }], failure: [{ delete: { key } }] }, now);
    else if (pick < 0.8) s.txn({ compare: [], success: [...changes(key, r), { delete: { key: '/no/such/key' } }] }, now); // rolls back
    else if (pick < 0.9) s.expire(now);
    else s.extendDeadlines(now);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
  }
}

/** A snapshot encoded in slices of `budget` nodes, and the one taken at once when it began. */
function sliced(s: Store, budget: number): { bytes: Uint8Array; expected: Buffer } {
  s.beginSnapshot();
  const expected = Buffer.from(s.snapshot());
  let bytes: Uint8Array | undefined;
  while (bytes === undefined) bytes = s.continueSnapshot(budget);
  return { bytes, expected };
}

t.test('a snapshot encoded in slices between writes equals the snapshot at its index', async (t) => {
  const seeds = 300;
  let checked = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const s = new Store({ historySize: 5 });
    let now = T0;
    for (let i = 0; i < 40; i++) write(s, r, (now += Math.floor(r() * 700)));
    for (let round = 0; round < 3; round++) {
      s.beginSnapshot();
      const expected = Buffer.from(s.snapshot());
      let bytes: Uint8Array | undefined;
      for (let slices = 0; bytes === undefined; slices++) {
        if (slices > 10_000) throw new Error(`seed ${seed}: the snapshot never finished`);
        bytes = s.continueSnapshot(1 + Math.floor(r() * 6));
        for (let w = Math.floor(r() * 3); w > 0; w--) write(s, r, (now += Math.floor(r() * 700)));
      }
      if (!Buffer.from(bytes).equals(expected)) {
        t.fail(`seed ${seed}, round ${round}: the sliced snapshot differs from the one at its index (replay with this seed)`);
        return;
      }
      checked++;
      t.notOk(s.snapshotInProgress, 'done means detached');
      const restored = Store.restore(bytes);
      t.equal(restored.index <= s.index, true);
    }
  }
  t.equal(checked, seeds * 3, `${checked} sliced snapshots matched`);
});

t.test('one snapshot at a time; continuing without one says so', async (t) => {
  const s = new Store();
  s.set('/a', { value: '1' }, T0);
  t.throws(() => s.continueSnapshot(10), /no snapshot in progress/);
  s.beginSnapshot();
  t.throws(() => s.beginSnapshot(), /already in progress/);
  const bytes = s.continueSnapshot(1_000);
  t.ok(bytes, 'a small store is done in one slice');
  t.same(Buffer.from(bytes!), Buffer.from(s.snapshot()));
});

t.test('a write during the snapshot is not in it, and the store keeps it', async (t) => {
  const s = new Store();
  for (let i = 0; i < 10; i++) s.set(`/k/${i}`, { value: 'v' }, T0);
  s.beginSnapshot();
  const expected = Buffer.from(s.snapshot());
  t.equal(s.continueSnapshot(3), undefined, 'not done after 3 nodes');
  s.set('/k/new', { value: 'n' }, T0);
  s.set('/k/9', { value: 'changed' }, T0);
  s.delete('/k/0', {}, T0);
  let bytes: Uint8Array | undefined;
  while (bytes === undefined) bytes = s.continueSnapshot(3);
  t.ok(Buffer.from(bytes).equals(expected));
  const restored = Store.restore(bytes);
  t.equal(restored.get('/k/9', {}, T0).node.value, 'v', 'the snapshot has the value at its index');
  t.equal(s.get('/k/9', {}, T0).node.value, 'changed', 'the store has the new one');
  t.equal(restored.get('/k/0', {}, T0).node.value, 'v');
});

t.test('a key unchanged since the last encoding is copied from its bytes, a changed one encoded', async (t) => {
  const s = new Store();
  s.set('/k/a', { value: 'aaaa' }, T0);
  s.set('/k/b', { value: 'bbbb' }, T0);
  s.set('/k/c', { value: 'cccc' }, T0);
  s.beginSnapshot();
  const bytes = s.continueSnapshot(1_000)!;
  const first = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // its own memory, not a copy
  s.set('/k/b', { value: 'BBBB' }, T0);
  s.set('/k/c', { value: 'cccc', prevExist: true, ttl: 5 }, T0); // the same value, a deadline
  // Marks a's and c's values in the first encoding's bytes only: a copy carries the mark along.
  for (const value of ['aaaa', 'cccc']) first[first.indexOf(value)] = 0x7a; // "z"
  s.beginSnapshot();
  const second = Store.restore(s.continueSnapshot(1_000)!);
  t.equal(second.get('/k/a', {}, T0).node.value, 'zaaa', 'a was copied');
  t.equal(second.get('/k/b', {}, T0).node.value, 'BBBB', 'b, replaced, was encoded');
  t.equal(second.get('/k/c', {}, T0).node.value, 'cccc', 'c, updated in place, was encoded');
  t.ok(second.get('/k/c', {}, T0).node.ttl, 'with its deadline');
});

t.test('the second snapshot after one writes into its memory, and is still exact', async (t) => {
  const s = new Store();
  for (let i = 0; i < 50; i++) s.set(`/k/${i}`, { value: `v${i}` }, T0);
  const encodings: Uint8Array[] = [];
  for (let n = 0; n < 3; n++) {
    s.set(`/k/${n}`, { value: `changed${n}` }, T0);
    s.delete(`/k/${10 + n}`, {}, T0);
    const { bytes, expected } = sliced(s, 7);
    t.ok(Buffer.from(bytes).equals(expected), `snapshot ${n} is exact`);
    encodings.push(bytes);
  }
  t.not(encodings[1]!.buffer, encodings[0]!.buffer, 'the next one may not: the first is its source');
  t.equal(encodings[2]!.buffer, encodings[0]!.buffer, 'the one after reuses the first one\'s memory');
});

t.test('a directory with nothing changed below it is copied whole, and the result stays exact', async (t) => {
  const s = new Store({ historySize: 5 });
  for (let d = 0; d < 4; d++) for (let k = 0; k < 20; k++) s.set(`/svc/d${d}/sub/k${k}`, { value: `d${d}k${k}` }, T0);
  /** Checks the bytes against a snapshot taken at once, unless a mark made them differ. */
  const encode = (marked = false): Uint8Array => {
    const { bytes, expected } = sliced(s, 5);
    if (!marked) t.ok(Buffer.from(bytes).equals(expected), 'exactly the snapshot at its index');
    return bytes;
  };
  const first = encode();
  s.set('/svc/d1/sub/k3', { value: 'changed' }, T0); // d1 changes; d0, d2 and d3 do not
  const mark = Buffer.from(first.buffer, first.byteOffset, first.byteLength);
  mark[mark.indexOf('d2k5')] = 0x5a; // "Z", in the first encoding's bytes only
  const second = Store.restore(encode(true));
  t.equal(second.get('/svc/d2/sub/k5', {}, T0).node.value, 'Z2k5', 'd2 was copied from the first encoding');
  t.equal(second.get('/svc/d1/sub/k3', {}, T0).node.value, 'changed');
  // The third copies d2 from the second (memory of its own), then d2 changes and is encoded again.
  t.equal(Store.restore(encode(true)).get('/svc/d2/sub/k5', {}, T0).node.value, 'Z2k5');
  s.set('/svc/d2/sub/k6', { value: 'new' }, T0);
  s.set('/svc/d2/sub/k99', { value: 'added' }, T0);
  const fourth = Store.restore(encode());
  t.equal(fourth.get('/svc/d2/sub/k5', {}, T0).node.value, 'd2k5', 'a changed directory is encoded from the nodes');
  t.equal(fourth.get('/svc/d2/sub/k99', {}, T0).node.value, 'added');
});
