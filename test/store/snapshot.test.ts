// Snapshot/restore: a round trip keeps tree, index, TTLs and history; the bytes depend only
// on the operations applied.
import t from 'tap';
import { Store } from '../../core/store/store.js';
import { storeError, T0 } from './helpers.js';

function workload(s: Store): void {
  s.set('/a/b', { value: '1' }, T0);
  s.set('/a/c', { value: '2', ttl: 5 }, T0);
  s.create('/q', { value: 'j' }, T0);
  s.set('/d', { dir: true, ttl: 3 }, T0);
  s.set('/a/b', { value: '3', prevValue: '1' }, T0);
  s.delete('/q', { recursive: true }, T0);
  s.set('/a/_h', { value: 'h' }, T0);
  s.expire(T0 + 3000);
}

t.test('same operations give byte-identical snapshots', async (t) => {
  const a = new Store({ historySize: 4 });
  const b = new Store({ historySize: 4 });
  workload(a);
  workload(b);
  t.same(Buffer.from(a.snapshot()), Buffer.from(b.snapshot()));
  const c = new Store({ historySize: 4 });
  workload(c);
  c.set('/x', { value: 'x' }, T0);
  t.notSame(Buffer.from(a.snapshot()), Buffer.from(c.snapshot()), 'a different history differs');
});

t.test('restore round trip', async (t) => {
  const a = new Store({ historySize: 4 });
  workload(a);
  const bytes = a.snapshot();
  const r = Store.restore(bytes);
  t.same(Buffer.from(r.snapshot()), Buffer.from(bytes), 'restore then snapshot is identical');
  t.equal(r.index, a.index);
  t.same(r.get('/', { recursive: true, sorted: true }, T0 + 3000), a.get('/', { recursive: true, sorted: true }, T0 + 3000));
  t.equal(r.get('/a/c', {}, T0 + 1000).node.ttl, 4, 'TTL survives');
  t.equal(r.historyStart(), a.historyStart());
  t.same(r.eventsSince(r.historyStart(), '/', true), a.eventsSince(a.historyStart(), '/', true));
  t.equal(storeError(() => r.eventsSince(r.historyStart() - 1, '/', true)).code, 401, 'history bound kept');
  t.same(r.expire(T0 + 5000), a.expire(T0 + 5000), 'both expire the same key at the same index');
  t.equal(r.set('/n', { value: 'n' }, T0).index, a.set('/n', { value: 'n' }, T0).index);
  t.throws(() => Store.restore(new TextEncoder().encode('{"format":"other"}')));
});

t.test('a format 1 (JSON) snapshot from an older data dir is still restored', async (t) => {
  const node = (k: string, v: string, c: number, e: number | null = null, ttl: number | null = null) =>
    ({ k, d: false, v, c, m: c, e, t: ttl });
  const event = { action: 'set', node: { key: '/a/b', value: '1', createdIndex: 2, modifiedIndex: 2 }, index: 2 };
  const v1 = {
    format: 'cairn-store/1', index: 3, historySize: 4,
    root: {
      k: '/', d: true, v: '', c: 0, m: 0, e: null, t: null,
      ch: [{ k: '/a', d: true, v: '', c: 2, m: 2, e: null, t: null, ch: [node('/a/b', '1', 2), node('/a/c', '2', 3, T0 + 5000, 5000)] }],
    },
    events: [event],
  };
  const r = Store.restore(new TextEncoder().encode(JSON.stringify(v1)));
  t.equal(r.index, 3);
  t.equal(r.get('/a/b', {}, T0).node.value, '1');
  t.equal(r.get('/a/c', {}, T0 + 1000).node.ttl, 4, 'the TTL is kept');
  t.same(r.eventsSince(2, '/a/b', false), event, 'the history is kept');
  const again = Store.restore(r.snapshot());
  t.same(again.get('/', { recursive: true, sorted: true }, T0), r.get('/', { recursive: true, sorted: true }, T0), 'rewritten as format 2, same content');
  t.not(Buffer.from(r.snapshot())[0], 0x7b, 'new snapshots are binary');
});

t.test('a damaged binary snapshot is refused with the reason', async (t) => {
  const a = new Store({ historySize: 4 });
  workload(a);
  const bytes = Buffer.from(a.snapshot());
  t.throws(() => Store.restore(bytes.subarray(0, bytes.length - 10)), /truncated at byte \d+ of \d+; it is damaged/);
  t.throws(() => Store.restore(Buffer.concat([bytes, Buffer.from([1, 2])])), /2 stray bytes at the end/);
  t.throws(() => Store.restore(Buffer.from('\u0000cairnS9....', 'latin1')), /unknown format/);
  t.throws(() => Store.restore(new Uint8Array(0)), /unknown format/);
});

t.test('keys and values outside ASCII survive the round trip', async (t) => {
  const a = new Store({ historySize: 4 });
  a.set('/ключ/é', { value: 'naïve ☃ 𝄞' }, T0);
  const r = Store.restore(a.snapshot());
  t.equal(r.get('/ключ/é', {}, T0).node.value, 'naïve ☃ 𝄞');
  t.same(Buffer.from(r.snapshot()), Buffer.from(a.snapshot()));
});
