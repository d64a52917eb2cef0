// set/get/delete of keys and directories, action names, index rules and error codes, as in
// notes/etcd-v2.md §1 and §3.
import t from 'tap';
import { Store } from '../../core/store/store.js';
import { storeError, T0 } from './helpers.js';

t.test('set creates parents, get reads back, index moves by one', async (t) => {
  const s = new Store();
  const r = s.set('a//b/c/', { value: 'v' }, T0);
  t.same(r, { action: 'set', node: { key: '/a/b/c', value: 'v', createdIndex: 1, modifiedIndex: 1 }, index: 1 });
  t.equal(s.index, 1);
  const dir = s.get('/a', {}, T0).node;
  t.same(dir, { key: '/a', dir: true, createdIndex: 1, modifiedIndex: 1,
    nodes: [{ key: '/a/b', dir: true, createdIndex: 1, modifiedIndex: 1 }] }, 'implicit dirs get the write index');
  t.equal(s.get('/a/b/c', {}, T0).node.value, 'v');
  t.equal(s.get('/a/b/c', {}, T0).index, 1);
});

t.test('plain set on an existing key re-creates it; update and CAS keep createdIndex', async (t) => {
  const s = new Store();
  s.set('/p1/a', { value: 'hello' }, T0);
  const r2 = s.set('/p1/a', { value: 'world' }, T0);
  t.equal(r2.action, 'set');
  t.same(r2.node, { key: '/p1/a', value: 'world', createdIndex: 2, modifiedIndex: 2 });
  t.same(r2.prevNode, { key: '/p1/a', value: 'hello', createdIndex: 1, modifiedIndex: 1 });
  const r3 = s.set('/p1/a', { value: 'w3', prevExist: true }, T0);
  t.equal(r3.action, 'update');
  t.same([r3.node.createdIndex, r3.node.modifiedIndex], [2, 3]);
  const r4 = s.set('/p1/a', { value: 'w4', prevValue: 'w3' }, T0);
  t.equal(r4.action, 'compareAndSwap');
  t.same([r4.node.createdIndex, r4.node.modifiedIndex], [2, 4]);
  const r5 = s.set('/p1/a', { value: 'w5', prevExist: true, prevIndex: 4 }, T0);
  t.equal(r5.action, 'compareAndSwap', 'prevExist=true with prevIndex is a CAS');
  const r6 = s.set('/p1/new', { value: 'x', prevExist: false, prevValue: 'ignored', prevIndex: 99 }, T0);
  t.equal(r6.action, 'create', 'prevExist=false ignores prevValue/prevIndex');
  t.notOk('prevNode' in r6);
});

t.test('compare failures: code 101 with etcd cause, index not consumed', async (t) => {
  const s = new Store();
  for (let i = 0; i < 7; i++) s.set('/p1/a', { value: 'w' + i }, T0);
  s.set('/p1/a', { value: 'w3' }, T0);
  const e1 = storeError(() => s.set('/p1/a', { value: 'x', prevValue: 'nope' }, T0));
  t.equal(e1.code, 101);
  t.equal(e1.data.cause, '[nope != w3]');
  t.equal(e1.data.index, 8);
  const e2 = storeError(() => s.set('/p1/a', { value: 'x', prevValue: 'nope', prevIndex: 1 }, T0));
  t.equal(e2.data.cause, '[nope != w3] [1 != 8]');
  const e3 = storeError(() => s.set('/p1/a', { value: 'x', prevIndex: 1 }, T0));
  t.equal(e3.data.cause, '[1 != 8]');
  t.match(e3.message, /Compare failed/);
  t.equal(s.index, 8, 'failed writes consume no index');
  t.equal(s.set('/p1/a', { value: 'ok', prevIndex: 0 }, T0).action, 'set', 'prevIndex 0 means absent');
});

t.test('error codes for missing keys, files, dirs and the root', async (t) => {
  const s = new Store();
  s.set('/f', { value: 'x' }, T0);
  s.set('/d', { dir: true }, T0);
  const nf = storeError(() => s.get('/nope1/deeper/x', {}, T0));
  t.equal(nf.code, 100);
  t.equal(nf.data.cause, '/nope1', 'cause is the first missing component');
  t.match(nf.message, /Key not found: \/nope1/);
  t.equal(storeError(() => s.set('/f', { value: 'y', prevExist: false }, T0)).code, 105);
  t.equal(storeError(() => s.set('/d', { value: 'y' }, T0)).code, 102, 'value write on a dir');
  t.equal(storeError(() => s.set('/d', { dir: true }, T0)).code, 102, 'dir=true on an existing dir');
  t.equal(storeError(() => s.set('/f/x', { value: 'y' }, T0)).code, 104, 'key under a file');
  t.equal(storeError(() => s.get('/f/x', {}, T0)).data.cause, '/f');
  t.equal(storeError(() => s.set('/', { value: 'y' }, T0)).code, 107);
  t.equal(storeError(() => s.delete('/', { dir: true }, T0)).code, 107);
  t.equal(storeError(() => s.set('/nope', { value: 'y', prevExist: true }, T0)).code, 100);
  t.equal(storeError(() => s.set('/nope', { value: 'y', prevValue: 'a' }, T0)).code, 100);
  t.equal(storeError(() => s.set('/d', { value: 'y', prevValue: 'a' }, T0)).code, 102);
  t.equal(s.index, 2);
});

t.test('a file is replaced by a dir with dir=true', async (t) => {
  const s = new Store();
  s.set('/k', { value: 'x' }, T0);
  const r = s.set('/k', { dir: true, value: 'ignored' }, T0);
  t.same(r.node, { key: '/k', dir: true, createdIndex: 2, modifiedIndex: 2 });
  t.equal(r.prevNode?.value, 'x');
});

t.test('delete: keys, dirs, recursive, compareAndDelete', async (t) => {
  const s = new Store();
  s.set('/cad/k', { value: 'v' }, T0);
  s.set('/dd/a/b', { value: '1' }, T0);
  s.set('/empty', { dir: true }, T0);
  const r = s.delete('/cad/k', { prevValue: 'v' }, T0);
  t.same(r, { action: 'compareAndDelete', node: { key: '/cad/k', createdIndex: 1, modifiedIndex: 4 },
    prevNode: { key: '/cad/k', value: 'v', createdIndex: 1, modifiedIndex: 1 }, index: 4 });
  t.equal(storeError(() => s.delete('/dd', {}, T0)).code, 102, 'dir needs dir=true');
  t.equal(storeError(() => s.delete('/dd', { dir: true }, T0)).code, 108);
  t.equal(storeError(() => s.delete('/dd/a/b', { prevValue: 'no' }, T0)).code, 101);
  t.equal(storeError(() => s.delete('/dd/a', { prevIndex: 2 }, T0)).code, 102);
  t.equal(storeError(() => s.delete('/zz', {}, T0)).code, 100);
  t.equal(s.delete('/empty', { dir: true }, T0).action, 'delete');
  const rr = s.delete('/dd', { recursive: true }, T0);
  t.same(rr.node, { key: '/dd', dir: true, createdIndex: 2, modifiedIndex: 6 });
  t.equal(rr.prevNode?.dir, true);
  t.equal(storeError(() => s.get('/dd/a/b', {}, T0)).code, 100);
  t.equal(s.delete('/cad', { dir: true }, T0).action, 'delete', 'parents are kept, so /cad is an empty dir');
  t.equal(s.index, 7);
});

t.test('update on a dir changes only the TTL; a value is 102', async (t) => {
  const s = new Store();
  s.set('/d2', { dir: true }, T0);
  s.set('/d2/x', { value: 'x' }, T0);
  t.equal(storeError(() => s.set('/d2', { value: 'v', prevExist: true }, T0)).code, 102);
  const r = s.set('/d2', { dir: true, prevExist: true, ttl: 100 }, T0);
  t.equal(r.action, 'update');
  t.equal(r.node.ttl, 100);
  t.equal(r.node.modifiedIndex, 3, 'the answer shows the new index');
  t.equal(s.get('/d2', {}, T0).node.modifiedIndex, 1, 'the stored dir keeps its old one (#5148)');
});
