// semaphore.* on an in-process member: first use creates max 1, idempotent acquire, fencing
// tokens, FIFO waiters woken one at a time, timeouts and closed connections withdrawing their
// place, operator release, setMax and the params schemas.
import t from 'tap';
import type { Test } from 'tap';
import { FakeConnection, FakeMember } from '../server/fake-member.js';

type Reply = Awaited<ReturnType<FakeConnection['rpc']>>;
interface Acquired { acquired: boolean; token?: number; state: { semaphore: number; max: number; holders: string[]; tokens: Record<string, number>; token: number | null } }

const STATE = '/cairn/semaphore/reboot/state';
const WAITERS = '/cairn/semaphore/reboot/waiters';

function setup(t: Test): { m: FakeMember; conn: () => FakeConnection } {
  const m = new FakeMember();
  const opened: FakeConnection[] = [];
  t.teardown(() => { for (const c of opened) c.close(); });
  return { m, conn: () => { const c = new FakeConnection(m); opened.push(c); return c; } };
}

async function ok<T = Acquired>(reply: Promise<Reply> | Reply): Promise<T> {
  const r = await reply;
  if (r.error !== undefined) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r.result as T;
}

/** Lets pending work run until `probe` holds (bounded: count and time). */
async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const waiterCount = (m: FakeMember): number => {
  try {
    return (m.store.get(WAITERS, {}, 0).node.nodes ?? []).length;
  } catch {
    return 0;
  }
};

/** Tracks whether a pending request has answered yet. */
function pending<T>(p: Promise<T>): { done: () => boolean; value: Promise<T> } {
  let settled = false;
  void p.then(() => { settled = true; }, () => { settled = true; });
  return { done: () => settled, value: p };
}

t.test('first use creates max 1; the grant\'s token is the index of its write', async (t) => {
  const { m, conn } = setup(t);
  const c = conn();
  const a = await ok(c.rpc('semaphore.acquire', { holder: 'a' }));
  const node = m.store.get(STATE, {}, 0).node;
  t.equal(a.acquired, true);
  t.equal(a.token, node.modifiedIndex, 'token = modifiedIndex of the state write that granted');
  t.same(a.state, { semaphore: 0, max: 1, holders: ['a'], tokens: { a: a.token }, token: a.token });
  t.match(JSON.parse(node.value ?? ''), { semaphore: 0, max: 1, holders: ['a'] }, 'locksmith\'s fields are in the stored value');
  t.same(await ok(c.rpc('semaphore.acquire', { holder: 'a' })), a, 'acquire again: same token (idempotent)');
  t.same(await ok(c.rpc('semaphore.status', {})), { state: a.state, token: a.token });
  t.equal(waiterCount(m), 0, 'no waiter key left behind');
});

t.test('wait:false answers at once and queues nothing', async (t) => {
  const { m, conn } = setup(t);
  const c = conn();
  await ok(c.rpc('semaphore.acquire', { holder: 'a', wait: false }));
  const b = await ok(c.rpc('semaphore.acquire', { holder: 'b', wait: false }));
  t.same({ acquired: b.acquired, holders: b.state.holders, token: b.token }, { acquired: false, holders: ['a'], token: undefined });
  t.equal(waiterCount(m), 0);
});

t.test('waiters are served in arrival order, each woken alone, tokens increasing', async (t) => {
  const { m, conn } = setup(t);
  const first = await ok(conn().rpc('semaphore.acquire', { holder: 'h0' }));
  const waits = ['h1', 'h2', 'h3'].map((holder) => pending(ok(conn().rpc('semaphore.acquire', { holder }))));
  await until('three waiter keys', () => waiterCount(m) === 3);
  t.equal(m.watchHub.size, 3, 'one watcher per waiter: the head on the state, the others on their predecessor');
  const tokens = [first.token as number];
  let holder = 'h0';
  for (const [i, w] of waits.entries()) {
    await ok(conn().rpc('semaphore.release', { holder }));
    const got = await w.value;
    t.equal(got.state.holders[0], `h${i + 1}`, `h${i + 1} served in turn`);
    t.notOk(waits.slice(i + 1).some((x) => x.done()), 'nobody behind it answered');
    tokens.push(got.token as number);
    holder = `h${i + 1}`;
  }
  t.ok(tokens.every((tok, i) => i === 0 || tok > (tokens[i - 1] as number)), `tokens strictly increase: ${tokens.join(' < ')}`);
  t.equal(waiterCount(m), 0);
  await until('no watcher left', () => m.watchHub.size === 0);
});

t.test('a waiter whose time runs out withdraws its key and reports the state', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn().rpc('semaphore.acquire', { holder: 'a' }));
  const b = await ok(conn().rpc('semaphore.acquire', { holder: 'b', timeoutMs: 50 }));
  t.same({ acquired: b.acquired, holders: b.state.holders }, { acquired: false, holders: ['a'] });
  t.equal(waiterCount(m), 0, 'key withdrawn');
  t.equal(m.watchHub.size, 0, 'watcher removed');
});

t.test('a closed connection gives its place up; the next waiter is served', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn().rpc('semaphore.acquire', { holder: 'a' }));
  const gone = conn();
  void gone.rpc('semaphore.acquire', { holder: 'b' });
  await until('b queued', () => waiterCount(m) === 1);
  const c = pending(ok(conn().rpc('semaphore.acquire', { holder: 'c' })));
  await until('c queued', () => waiterCount(m) === 2);
  gone.close();
  await until('b withdrawn', () => waiterCount(m) === 1);
  await ok(conn().rpc('semaphore.release', { holder: 'a' }));
  const got = await c.value;
  t.same(got.state.holders, ['c'], 'c, not the departed b');
});

t.test('a waiter whose key lapsed fails retryably and lets the next one through', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn().rpc('semaphore.acquire', { holder: 'a' }));
  const b = pending(conn().rpc('semaphore.acquire', { holder: 'b' }));
  await until('b queued', () => waiterCount(m) === 1);
  const c = pending(ok(conn().rpc('semaphore.acquire', { holder: 'c' })));
  await until('c queued', () => waiterCount(m) === 2);
  const bKey = (m.store.get(WAITERS, { sorted: true }, 0).node.nodes ?? [])[0]?.key as string;
  m.apply({ requestId: 'x', op: 'kv', at: m.nowMs, write: { method: 'delete', params: { key: bKey } } });
  const bReply = await b.value;
  t.match(bReply.error, { code: 301, message: /lost its place/, data: { retryable: true } });
  await ok(conn().rpc('semaphore.release', { holder: 'a' }));
  t.same((await c.value).state.holders, ['c']);
});

t.test('a non-waiting acquire does not jump the queue', async (t) => {
  const { m, conn } = setup(t);
  await ok(conn().rpc('semaphore.setMax', { max: 2 }));
  await ok(conn().rpc('semaphore.acquire', { holder: 'a' }));
  await ok(conn().rpc('semaphore.acquire', { holder: 'b' }));
  const c = pending(ok(conn().rpc('semaphore.acquire', { holder: 'c' })));
  await until('c queued', () => waiterCount(m) === 1);
  await ok(conn().rpc('semaphore.setMax', { max: 3 }));
  const got = await c.value;
  t.same(got.state.holders, ['a', 'b', 'c'], 'raising max serves the waiter');
  const lowered = await ok<{ state: Acquired['state'] }>(conn().rpc('semaphore.setMax', { max: 1 }));
  t.same({ semaphore: lowered.state.semaphore, holders: lowered.state.holders }, { semaphore: -2, holders: ['a', 'b', 'c'] },
    'lowering never evicts: semaphore goes negative');
  await ok(conn().rpc('semaphore.release', { holder: 'a' }));
  await ok(conn().rpc('semaphore.release', { holder: 'b' }));
  const d = pending(ok(conn().rpc('semaphore.acquire', { holder: 'd' })));
  await until('d queued', () => waiterCount(m) === 1);
  const e = await ok(conn().rpc('semaphore.acquire', { holder: 'e', wait: false }));
  t.equal(e.acquired, false, 'no free slot for e (c still holds with max 1)');
  await ok(conn().rpc('semaphore.release', { holder: 'c' }));
  t.same((await d.value).state.holders, ['d']);
  const f = await ok(conn().rpc('semaphore.acquire', { holder: 'f', wait: false }));
  t.equal(f.acquired, false);
});

t.test('an operator releases any holder; releasing a non-holder is 501', async (t) => {
  const { conn } = setup(t);
  const c = conn();
  const none = await c.rpc('semaphore.release', { holder: 'a' });
  t.match(none.error, { code: 501, message: /a holds nothing of semaphore reboot/ }, 'a semaphore never used');
  await ok(c.rpc('semaphore.acquire', { holder: 'a', name: 'db' }));
  const wrong = await c.rpc('semaphore.release', { holder: 'b', name: 'db' });
  t.match(wrong.error, { code: 501, message: /holders: a/, data: { cause: 'b is not a holder', retryable: false } });
  const released = await ok<{ released: boolean; state: Acquired['state'] }>(c.rpc('semaphore.release', { holder: 'a', name: 'db' }));
  t.same({ released: released.released, semaphore: released.state.semaphore, holders: released.state.holders }, { released: true, semaphore: 1, holders: [] });
  t.match((await c.rpc('semaphore.release', { holder: 'a', name: 'db' })).error, { code: 501 }, 'twice: 501');
});

t.test('status of an unused semaphore creates nothing', async (t) => {
  const { m, conn } = setup(t);
  t.same(await ok(conn().rpc('semaphore.status', { name: 'never' })),
    { state: { semaphore: 1, max: 1, holders: [], tokens: {}, token: null }, token: null });
  t.equal(m.store.index, 0, 'no write');
});

t.test('bad params are refused with -32602 naming each field', async (t) => {
  const { conn } = setup(t);
  const c = conn();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['semaphore.acquire', {}, /holder/],
    ['semaphore.acquire', { holder: '' }, /holder/],
    ['semaphore.acquire', { holder: 'a', name: 'a/b' }, /name/],
    ['semaphore.acquire', { holder: 'a', timeoutMs: 0 }, /timeoutMs/],
    ['semaphore.acquire', { holder: 'a', ttl: 3 }, /ttl/],
    ['semaphore.setMax', { max: -1 }, /max/],
    ['semaphore.setMax', {}, /max/],
    ['semaphore.release', { name: 'x' }, /holder/],
  ];
  for (const [method, params, field] of cases) {
    const r = await c.rpc(method, params);
    t.equal(r.error?.code, -32602, `${method} ${JSON.stringify(params)}`);
    t.match(JSON.stringify(r.error?.data), field);
  }
});
