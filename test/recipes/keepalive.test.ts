// The waiter keep-alive shared by recipes: refreshes without events, withdraws on close,
// never deletes a newer key of the same name, and reports a lost key.
import t from 'tap';
import { keepAlive } from '../../recipes/keepalive.js';
import { kvSet } from '../../server/kv-service.js';
import { FakeMember } from '../server/fake-member.js';

const aborted = (signal: AbortSignal, ms: number): Promise<boolean> => new Promise((resolve) => {
  if (signal.aborted) return resolve(true);
  const timer = setTimeout(() => resolve(false), ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(true); }, { once: true });
});

t.test('a closed connection withdraws the key', async (t) => {
  const m = new FakeMember();
  const created = await kvSet(m, { key: '/w/1', value: 'x', ttl: 10 });
  const closed = new AbortController();
  const kept = keepAlive(m, '/w/1', 10, created.node.createdIndex, closed.signal);
  t.teardown(() => kept.release());
  closed.abort();
  for (let i = 0; i < 50 && m.store.index < 2; i++) await new Promise((r) => setImmediate(r));
  t.throws(() => m.store.get('/w/1', {}, 0), { code: 100 }, 'deleted');
});

t.test('withdraw leaves a newer key of the same name alone', async (t) => {
  const m = new FakeMember();
  const first = await kvSet(m, { key: '/w/1', value: 'old', ttl: 10 });
  const kept = keepAlive(m, '/w/1', 10, first.node.createdIndex, new AbortController().signal);
  await kvSet(m, { key: '/w/1', value: 'new' }); // a set replaces the node: a new createdIndex
  await kept.withdraw();
  t.equal(m.store.get('/w/1', {}, 0).node.value, 'new');
});

t.test('a refresh that finds the key gone aborts `lost`', async (t) => {
  const m = new FakeMember();
  const created = await kvSet(m, { key: '/w/1', value: 'x', ttl: 1 });
  const kept = keepAlive(m, '/w/1', 0.3, created.node.createdIndex, new AbortController().signal);
  t.teardown(() => kept.release());
  m.apply({ requestId: 'd', op: 'kv', at: 0, write: { method: 'delete', params: { key: '/w/1' } } });
  t.equal(await aborted(kept.lost, 5000), true, 'lost fires at the next refresh');
});

t.test('refreshes renew the TTL without a watch event', async (t) => {
  const m = new FakeMember();
  const created = await kvSet(m, { key: '/w/1', value: 'x', ttl: 1 });
  const events: unknown[] = [];
  const remove = m.watchHub.add({ key: '/w/1', recursive: false, deliver: (e) => events.push(e), reset: () => {} });
  t.teardown(remove);
  const kept = keepAlive(m, '/w/1', 0.3, created.node.createdIndex, new AbortController().signal);
  t.teardown(() => kept.release());
  for (let i = 0; i < 100 && m.store.index < 3; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(m.store.index >= 3, 'two refreshes took indexes');
  t.same(events, [], 'no watcher heard of them');
});
