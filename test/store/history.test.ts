// Event history: first matching event at or after waitIndex (inclusive), matching rules, the
// bounded window and error 401 (notes/etcd-v2.md §5).
import t from 'tap';
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

t.test('the history scan does not hide _hidden keys (as etcd)', async (t) => {
  const s = new Store();
  s.set('/h/_x', { value: '1' }, T0);
  t.equal(s.eventsSince(1, '/h', true)?.node.key, '/h/_x');
});
