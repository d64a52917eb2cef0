// The store's operation counters (etcd's /v2/stats/store): which operation each call counts
// as, success against failure, expiry, txn sub-operations, and that the counters stay out of
// the store's state (snapshots and answers).
import t from 'tap';
import { setKind } from '../../core/store/stats.js';
import { Store } from '../../core/store/store.js';
import { storeError, T0 } from './helpers.js';

const ZERO = {
  getsSuccess: 0, getsFail: 0, setsSuccess: 0, setsFail: 0, deleteSuccess: 0, deleteFail: 0,
  updateSuccess: 0, updateFail: 0, createSuccess: 0, createFail: 0, compareAndSwapSuccess: 0,
  compareAndSwapFail: 0, compareAndDeleteSuccess: 0, compareAndDeleteFail: 0, expireCount: 0,
};

t.test('a fresh store counts nothing, in etcd field order', async (t) => {
  const stats = new Store().stats.toJSON();
  t.same(stats, ZERO);
  t.same(Object.keys(stats), Object.keys(ZERO));
});

t.test('set() counts as the branch it takes: set, create, update or compareAndSwap', async (t) => {
  t.equal(setKind({ value: 'x' }), 'set');
  t.equal(setKind({ prevExist: false }), 'create');
  t.equal(setKind({ prevExist: true }), 'update');
  t.equal(setKind({ prevValue: 'a' }), 'compareAndSwap');
  t.equal(setKind({ prevIndex: 3, prevExist: true }), 'compareAndSwap', 'conditions beat prevExist=true');
  t.equal(setKind({ prevIndex: 0 }), 'set', 'prevIndex=0 is no condition');
  const s = new Store();
  s.set('/a', { value: '1' }, T0);
  storeError(() => s.set('/', { value: 'x' }, T0));
  s.set('/b', { value: '1', prevExist: false }, T0);
  storeError(() => s.set('/b', { value: '2', prevExist: false }, T0));
  s.set('/b', { value: '3', prevExist: true }, T0);
  storeError(() => s.set('/nope', { value: '3', prevExist: true }, T0));
  s.set('/b', { value: '4', prevValue: '3' }, T0);
  storeError(() => s.set('/b', { value: '5', prevValue: 'wrong' }, T0));
  storeError(() => s.set('/b', { value: '5', prevIndex: 99 }, T0));
  t.same(s.stats.toJSON(), {
    ...ZERO, setsSuccess: 1, setsFail: 1, createSuccess: 1, createFail: 1, updateSuccess: 1, updateFail: 1,
    compareAndSwapSuccess: 1, compareAndSwapFail: 2,
  });
});

t.test('gets, in-order creates, deletes, compareAndDeletes and expiry', async (t) => {
  const s = new Store();
  s.create('/q', { value: 'x' }, T0);
  s.set('/file', { value: 'f' }, T0);
  storeError(() => s.create('/file', { value: 'y' }, T0));
  s.get('/q', {}, T0);
  storeError(() => s.get('/missing', {}, T0));
  s.set('/d', { value: 'd' }, T0);
  s.delete('/d', {}, T0);
  storeError(() => s.delete('/d', {}, T0));
  s.set('/c', { value: 'c' }, T0);
  storeError(() => s.delete('/c', { prevValue: 'wrong' }, T0));
  s.delete('/c', { prevValue: 'c' }, T0);
  s.set('/t1', { value: '1', ttl: 1 }, T0);
  s.set('/t2', { value: '2', ttl: 1 }, T0);
  t.equal(s.expire(T0 + 1000).length, 2);
  t.same(s.stats.toJSON(), {
    ...ZERO, getsSuccess: 1, getsFail: 1, setsSuccess: 5, createSuccess: 1, createFail: 1,
    deleteSuccess: 1, deleteFail: 1, compareAndDeleteSuccess: 1, compareAndDeleteFail: 1, expireCount: 2,
  });
});

t.test('a txn counts its operations, not its compares; a rollback keeps the counts', async (t) => {
  const s = new Store();
  s.set('/a', { value: '1' }, T0);
  s.txn({ compare: [{ key: '/a', value: '1' }, { key: '/gone', exists: false }],
    success: [{ set: { key: '/b', value: '2', prevExist: false } }, { get: { key: '/a' } }] }, T0);
  t.same(s.stats.toJSON(), { ...ZERO, setsSuccess: 1, createSuccess: 1, getsSuccess: 1 }, 'compares are not gets');
  storeError(() => s.txn({ compare: [], success: [{ set: { key: '/c', value: '3' } }, { delete: { key: '/nope' } }] }, T0));
  t.same(s.stats.toJSON(), { ...ZERO, setsSuccess: 2, createSuccess: 1, getsSuccess: 1, deleteFail: 1 },
    'the rolled-back set was attempted and stays counted');
  t.equal(s.index, 2, 'while the store itself rolled back');
});

t.test('counters are not state: snapshots ignore them and a restored store starts at 0', async (t) => {
  const a = new Store();
  const b = new Store();
  a.set('/k', { value: 'v' }, T0);
  b.set('/k', { value: 'v' }, T0);
  for (let i = 0; i < 5; i++) a.get('/k', {}, T0);
  storeError(() => a.get('/none', {}, T0));
  t.same(Buffer.from(a.snapshot()), Buffer.from(b.snapshot()), 'gets leave the snapshot unchanged');
  const restored = Store.restore(a.snapshot());
  t.same(restored.stats.toJSON(), ZERO);
  t.equal(restored.get('/k', {}, T0).node.value, 'v');
  t.equal(restored.stats.toJSON().getsSuccess, 1);
});
