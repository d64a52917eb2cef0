// Smaller etcd v2 rules: delete dir=true on a file, CAD by index, refresh + prevValue as CAS,
// in-order directories, the root listing, and deterministic order of same-deadline expiries.
import t from 'tap';
import { Store, StoreError } from '../../core/store/index.js';
import { storeError, T0 } from './helpers.js';

t.test('delete with dir=true also deletes a file', async (t) => {
  const s = new Store();
  s.set('/f', { value: 'x' }, T0);
  t.equal(s.delete('/f', { dir: true }, T0).action, 'delete');
});

t.test('compareAndDelete by prevIndex', async (t) => {
  const s = new Store();
  s.set('/job', { value: 'x' }, T0);
  t.equal(storeError(() => s.delete('/job', { prevIndex: 7 }, T0)).data.cause, '[7 != 1]');
  t.equal(s.delete('/job', { prevIndex: 1 }, T0).action, 'compareAndDelete');
  t.equal(storeError(() => s.delete('/', { prevValue: 'x' }, T0)).code, 102, 'CAD on the root is 102');
});

t.test('refresh with prevValue is a compareAndSwap and keeps the value', async (t) => {
  const s = new Store();
  s.set('/lock', { value: 'me', ttl: 5 }, T0);
  const r = s.set('/lock', { refresh: true, ttl: 5, prevValue: 'me' }, T0 + 2000);
  t.same([r.action, r.node.value, r.node.createdIndex, r.node.modifiedIndex], ['compareAndSwap', 'me', 1, 2]);
  t.equal(r.node.expiration, '2026-01-01T00:00:07.000Z');
  t.equal(storeError(() => s.set('/lock', { refresh: true, ttl: 5, prevValue: 'you' }, T0)).code, 101);
});

t.test('in-order directories and the root listing', async (t) => {
  const s = new Store();
  const d = s.create('/q', { dir: true }, T0);
  t.same(d.node, { key: '/q/00000000000000000001', dir: true, createdIndex: 1, modifiedIndex: 1 });
  const root = s.get('/', {}, T0).node;
  t.same(root, { key: '/', dir: true, createdIndex: 0, modifiedIndex: 0,
    nodes: [{ key: '/q', dir: true, createdIndex: 1, modifiedIndex: 1 }] });
});

t.test('same-deadline expiries happen in key order, the same on every run', async (t) => {
  const s = new Store();
  for (const k of ['/c', '/a', '/b']) s.set(k, { value: k, ttl: 1 }, T0);
  const evs = s.expire(T0 + 1000);
  t.same(evs.map((e) => [e.node.key, e.index]), [['/a', 4], ['/b', 5], ['/c', 6]]);
});

t.test('StoreError messages name the problem and the key', async (t) => {
  const s = new Store();
  s.set('/d/x', { value: '1' }, T0);
  const e = storeError(() => s.delete('/d', { dir: true }, T0));
  t.ok(e instanceof StoreError);
  t.equal(e.message, 'Directory not empty: /d');
  t.equal(storeError(() => s.set('/d/x', { value: '1', prevExist: false }, T0)).message, 'Key already exists: /d/x');
  t.equal(storeError(() => s.set('/d', { value: '1' }, T0)).message, 'Not a file: /d');
  t.equal(storeError(() => s.set('/d/x/y', { value: '1' }, T0)).message, 'Not a directory: /d/x');
  t.equal(storeError(() => s.set('/', { value: '1' }, T0)).message, 'Root is read only: /');
});
