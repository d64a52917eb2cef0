// Event history: first matching event at or after waitIndex (inclusive), matching rules, the
// bounded window and error 401 (notes/etcd-v2.md §5).
import t from 'tap';
import { freezeEvent } from '../../core/store/history.js';
import { Store } from '../../core/store/store.js';
import { storeError, T0 } from './helpers.js';

t.test('waitIndex is inclusive and returns the first match', async (t) => {
  const s = new Store();
  s.set('/w/a', { value: '1' }, T0); // 1
  s.set('/w/b', { value: '2' }, T0); // 2
  s.set('/w/a', { value: '3' }, T0); // 3
  t.equal(s.eventsSince(1, '/w/a', false)?.index, 1);
  t.equal(s.eventsSince(2, '/w/a', false)?.index, 3);
  t.equal(s.eventsSince(4, '/w/a', false), null, 'future: nothing yet');
  t.equal(s.eventsSince(1, '/w', false), null, 'non-recursive dir watch ignores children');
  t.equal(s.eventsSince(2, '/w', true)?.node.key, '/w/b', 'recursive sees children');
  t.equal(s.eventsSince(1, '/w/a/', false)?.index, 1, 'the watch key is cleaned');
  t.equal(s.eventsSince(1, '/w/', true)?.index, 1);
  s.set('/wx', { value: 'x' }, T0);
  t.equal(s.eventsSince(4, '/w', true), null, '/wx is not under /w');
});

t.test('a recursive delete of an ancestor matches watchers of keys below it', async (t) => {
  const s = new Store();
  s.set('/w2/a', { value: '1' }, T0);
  s.delete('/w2', { recursive: true }, T0);
  const e = s.eventsSince(2, '/w2/a', false);
  t.same([e?.action, e?.node.key, e?.node.dir, e?.prevNode?.dir], ['delete', '/w2', true, true]);
  t.equal(s.eventsSince(2, '/w2/a/deeper', false)?.index, 2);
  t.equal(s.eventsSince(2, '/w', false), null);
});

t.test('implicit dirs emit no event; each write one event', async (t) => {
  const s = new Store();
  s.set('/i/j/k', { value: '1' }, T0);
  t.equal(s.eventsSince(1, '/i', false), null);
  t.equal(s.eventsSince(1, '/i', true)?.node.key, '/i/j/k');
});

t.test('bounded history and 401 with the oldest index', async (t) => {
  const s = new Store({ historySize: 5 });
  for (let i = 0; i < 8; i++) s.set('/k', { value: String(i) }, T0);
  t.equal(s.historyStart(), 4);
  t.equal(s.eventsSince(4, '/k', false)?.index, 4);
  const e = storeError(() => s.eventsSince(3, '/k', false));
  t.equal(e.code, 401);
  t.equal(e.data.cause, 'the requested history has been cleared [4/3]');
  t.equal(e.data.index, 8, 'index is the current store index, as etcd');
  t.equal(e.oldestIndex, 4);
  t.throws(() => new Store({ historySize: 0 }), RangeError);
});

t.test('the default history keeps 1000 events', async (t) => {
  const s = new Store();
  for (let i = 0; i < 1010; i++) s.set('/k', { value: String(i) }, T0);
  t.equal(s.eventsSince(11, '/k', false)?.index, 11);
  t.equal(storeError(() => s.eventsSince(10, '/k', false)).data.cause, 'the requested history has been cleared [11/10]');
});

t.test('the window is exactly the last N events however many were added (cut in chunks inside)', async (t) => {
  const s = new Store({ historySize: 5 });
  for (let i = 1; i <= 23; i++) {
    s.set('/k', { value: String(i) }, T0);
    const oldest = Math.max(1, i - 4);
    t.equal(s.historyStart(), oldest, `after ${i} writes the oldest retained is ${oldest}`);
    t.equal(s.eventsSince(oldest, '/k', false)?.index, oldest);
    if (oldest > 1) t.equal(storeError(() => s.eventsSince(oldest - 1, '/k', false)).code, 401);
  }
  const restored = Store.restore(s.snapshot());
  t.equal(restored.historyStart(), 19, 'a snapshot keeps the same window');
  t.equal(restored.eventsSince(19, '/k', false)?.index, 19);
});

t.test('the history scan does not hide _hidden keys (as etcd)', async (t) => {
  const s = new Store();
  s.set('/h/_x', { value: '1' }, T0);
  t.equal(s.eventsSince(1, '/h', true)?.node.key, '/h/_x');
});

t.test('live matching hides _hidden paths below a recursive watch root', async (t) => {
  const { matchesLive } = await import('../../core/store/history.js');
  const s = new Store();
  const h = s.set('/svc/_tcp/x', { value: '1' }, T0);
  const v = s.set('/svc/a', { value: '1' }, T0);
  t.notOk(matchesLive(h, '/svc', true), 'hidden segment below the root');
  t.ok(matchesLive(h, '/svc/_tcp', true), 'rooted inside the hidden dir');
  t.ok(matchesLive(h, '/svc/_tcp/x', false), 'watching the hidden key itself');
  t.ok(matchesLive(v, '/svc', true));
  t.ok(matchesLive(v, '/', true));
  t.notOk(matchesLive(h, '/', true));
  t.equal(s.eventsSince(1, '/svc', true)?.index, 1, 'history scan does not filter');
});

t.test('events in the history cannot be changed through returned results', async (t) => {
  const s = new Store();
  const r = s.set('/m', { value: 'orig' }, T0);
  r.node.value = 'mutated';
  t.equal(s.eventsSince(1, '/m', false)?.node.value, 'orig');
  const e = s.eventsSince(1, '/m', false)!;
  t.throws(() => { e.node.value = 'x'; }, TypeError, 'history events are frozen');
  const restored = Store.restore(s.snapshot()).eventsSince(1, '/m', false)!;
  t.ok(Object.isFrozen(restored.node), 'also after restore');
});

t.test('freezeEvent freezes the views it holds, listed children included', async (t) => {
  const child = { key: '/d/a', value: '1', createdIndex: 1, modifiedIndex: 1 };
  const e = freezeEvent({
    action: 'delete', index: 3,
    node: { key: '/d', dir: true, createdIndex: 1, modifiedIndex: 3 },
    prevNode: { key: '/d', dir: true, nodes: [child], createdIndex: 1, modifiedIndex: 2 },
  });
  t.ok(Object.isFrozen(e) && Object.isFrozen(e.node) && Object.isFrozen(e.prevNode), 'the event and both views');
  t.ok(Object.isFrozen(e.prevNode!.nodes) && Object.isFrozen(child), 'the children list and each child');
});
