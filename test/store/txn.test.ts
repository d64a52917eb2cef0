// Transactions: compare semantics, branch choice, and atomicity (a failing op rolls back all).
import t from 'tap';
import { Store } from '../../core/store/store.js';
import type { StoreError } from '../../core/store/errors.js';
import { storeError, T0 } from './helpers.js';

t.test('compares pick the branch', async (t) => {
  const s = new Store();
  s.set('/a', { value: '1' }, T0);
  const ok = s.txn({ compare: [{ key: '/a', value: '1', index: 1 }, { key: '/b', exists: false }],
    success: [{ set: { key: '/b', value: '2' } }, { get: { key: '/a' } }],
    failure: [{ set: { key: '/f', value: 'x' } }] }, T0);
  t.equal(ok.succeeded, true);
  t.same(ok.results.map((r) => r.action), ['set', 'get']);
  t.equal(ok.index, 2);
  const no = s.txn({ compare: [{ key: '/a', value: '2' }], success: [{ delete: { key: '/a' } }],
    failure: [{ create: { key: '/q', value: 'x' } }] }, T0);
  t.equal(no.succeeded, false);
  t.equal(no.results[0]?.node.key, '/q/00000000000000000003');
  t.equal(s.txn({ compare: [{ key: '/missing' }], success: [] }, T0).succeeded, false, 'missing key is false');
  t.equal(s.txn({ compare: [{ key: '/missing', value: '' }], success: [] }, T0).succeeded, false);
  t.equal(s.txn({ compare: [{ key: '/a', exists: false }], success: [] }, T0).succeeded, false);
  t.equal(s.txn({ compare: [{ key: '/a', index: 2 }], success: [] }, T0).succeeded, false, 'index is modifiedIndex');
  t.equal(s.txn({ compare: [{ key: '/a', exists: true }], success: [] }, T0).succeeded, true);
  t.same(s.txn({ compare: [{ key: '/a', value: '1' }], success: [] }, T0).results, []);
});

t.test('a failing op rolls the whole branch back', async (t) => {
  const s = new Store();
  s.set('/a', { value: '1' }, T0);
  const before = s.snapshot();
  const e = storeError(() => s.txn({ compare: [],
    success: [{ set: { key: '/b', value: '2' } }, { delete: { key: '/a', prevValue: 'nope' } }] }, T0));
  t.equal(e.code, 101);
  t.equal(s.index, 1, 'no index consumed');
  t.equal(storeError(() => s.get('/b', {}, T0)).code, 100, 'the first op was undone');
  t.same(Buffer.from(s.snapshot()), Buffer.from(before), 'state identical to before');
  t.equal(s.eventsSince(2, '/b', false), null, 'no event left behind');
  t.equal(s.set('/c', { value: 'c' }, T0).index, 2, 'the store keeps working');
});

t.test('a failed txn reports the index it left, not the one its failing op saw', async (t) => {
  const store = new Store();
  store.set('/file', { value: 'f' }, 0);
  const err = t.throws(() => store.txn({ compare: [], success: [{ set: { key: '/a', value: '1' } }, { set: { key: '/a/b', value: '2' } }] }, 0)) as StoreError;
  t.equal(err.code, 104);
  t.equal(err.data.index, 1, 'the rolled-back set to /a does not count');
  t.equal(store.index, 1);
});
