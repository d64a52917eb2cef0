// TTL: ttl/expiration fields from the given time, expire() at the deadline with one event per
// key, writes without ttl clearing it, refresh keeping the value without a watch event (§6).
import t from 'tap';
import { Store } from '../../core/store/store.js';
import { storeError, T0 } from './helpers.js';

t.test('ttl and expiration fields', async (t) => {
  const s = new Store();
  const r = s.set('/k', { value: 'v', ttl: 10 }, T0);
  t.equal(r.node.ttl, 10);
  t.equal(r.node.expiration, '2026-01-01T00:00:10.000Z');
  t.equal(s.get('/k', {}, T0 + 1100).node.ttl, 9, 'ceil of the seconds left');
  t.equal(s.get('/k', {}, T0 + 1100).node.expiration, '2026-01-01T00:00:10.000Z', 'expiration is fixed');
  const z = s.set('/z', { value: 'v', ttl: 0 }, T0);
  t.notOk('ttl' in z.node, 'ttl 0 is omitted');
  t.ok(z.node.expiration);
  t.notOk('ttl' in s.set('/k', { value: 'w' }, T0).node, 'a write without ttl makes it permanent');
  t.same(s.expire(T0 + 60_000).map((e) => e.node.key), ['/z'], 'only /z still had a deadline');
});

t.test('expire removes keys at the deadline, one event each, moving the index', async (t) => {
  const s = new Store();
  s.set('/ex/k', { value: 'v', ttl: 1 }, T0);
  s.set('/ex/j', { value: 'v', ttl: 2 }, T0);
  t.same(s.expire(T0 + 999), [], 'not yet');
  t.equal(s.index, 2);
  const evs = s.expire(T0 + 1000);
  t.same(evs, [{ action: 'expire', node: { key: '/ex/k', createdIndex: 1, modifiedIndex: 3 },
    prevNode: { key: '/ex/k', value: 'v', expiration: '2026-01-01T00:00:01.000Z', createdIndex: 1, modifiedIndex: 1 },
    index: 3 }]);
  t.equal(storeError(() => s.get('/ex/k', {}, T0 + 1000)).code, 100);
  t.equal(s.expire(T0 + 5000).length, 1);
  t.equal(s.index, 4);
  t.same(s.eventsSince(3, '/ex/k', false)?.action, 'expire');
});

t.test('a dir TTL takes its subtree with it, with one event', async (t) => {
  const s = new Store();
  s.set('/d', { dir: true, ttl: 1 }, T0);
  s.set('/d/a', { value: 'x', ttl: 1 }, T0);
  const evs = s.expire(T0 + 2000);
  t.equal(evs.length, 1);
  t.same(evs[0]?.node, { key: '/d', dir: true, createdIndex: 1, modifiedIndex: 3 });
  t.equal(s.eventsSince(3, '/d/a', false)?.node.key, '/d', 'a watcher below sees the dir expire');
});

t.test('refresh keeps the value, consumes an index, emits no watch event', async (t) => {
  const s = new Store();
  s.set('/r', { value: 'keep', ttl: 5 }, T0);
  const r = s.set('/r', { refresh: true, ttl: 30, prevExist: true }, T0 + 1000);
  t.equal(r.action, 'update');
  t.equal(r.node.value, 'keep');
  t.equal(r.node.ttl, 30);
  t.equal(r.node.modifiedIndex, 2);
  t.equal(s.index, 2);
  t.equal(s.eventsSince(2, '/r', false), null, 'refresh is skipped by the history scan');
  t.equal(s.set('/r', { refresh: true, ttl: 30 }, T0).action, 'set', 'plain refresh is a set');
  t.equal(s.get('/r', {}, T0).node.createdIndex, 3, 'and re-creates the key');
  t.equal(storeError(() => s.set('/missing', { refresh: true, ttl: 1 }, T0)).code, 100);
  const c = s.set('/new', { refresh: true, ttl: 1, prevExist: false }, T0);
  t.same([c.action, c.node.value], ['create', '']);
  t.same(s.expire(T0 + 6000).map((e) => e.node.key), ['/new'], 'refreshed deadline is honoured');
});

t.test('in-order keys: 20-digit names of the new index, ascending, dir created', async (t) => {
  const s = new Store();
  s.set('/other', { value: 'x' }, T0);
  const a = s.create('/q', { value: 'job1' }, T0);
  const b = s.create('/q', { value: 'job2', ttl: 5 }, T0);
  t.same(a.node, { key: '/q/00000000000000000002', value: 'job1', createdIndex: 2, modifiedIndex: 2 });
  t.equal(a.action, 'create');
  t.equal(b.node.key, '/q/00000000000000000003');
  t.equal(b.node.ttl, 5);
  t.equal(s.get('/q', {}, T0).node.createdIndex, 2, 'the directory was created by the first POST');
  for (let i = 0; i < 10; i++) s.create('/q', { value: String(i) }, T0);
  const keys = s.get('/q', { sorted: true }, T0).node.nodes!.map((n) => n.key);
  t.same(keys, [...keys].sort(), 'names sort as the indexes do');
  t.equal(keys.length, 12);
  t.equal(s.create('/', { value: 'r' }, T0).node.key, '/00000000000000000014', 'POST on the root works');
  t.equal(storeError(() => s.create('/other', {}, T0)).code, 104);
});

t.test('extendDeadlines: a new leader pushes each deadline to at least its time plus the TTL', async (t) => {
  const s = new Store();
  s.set('/short', { value: 'v', ttl: 2 }, T0);
  s.set('/long', { value: 'v', ttl: 5 }, T0 + 50_000); // deadline 55 s, later than 10 + 5
  s.set('/perm', { value: 'v' }, T0);
  s.extendDeadlines(T0 + 10_000);
  t.equal(s.index, 3, 'no index moved');
  t.equal(s.get('/short', {}, T0 + 10_000).node.expiration, '2026-01-01T00:00:12.000Z');
  t.equal(s.get('/long', {}, T0).node.expiration, '2026-01-01T00:00:55.000Z', 'later deadlines stay');
  t.notOk('expiration' in s.get('/perm', {}, T0).node);
  t.same(s.expire(T0 + 11_000), [], 'not early');
  t.equal(s.expire(T0 + 12_000).length, 1);
  const r = Store.restore(s.snapshot());
  r.extendDeadlines(T0 + 200_000);
  t.equal(r.get('/long', {}, T0).node.expiration, '2026-01-01T00:03:25.000Z', 'the TTL survives a snapshot');
});
