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
