// The election methods on an in-process member: queueing in arrival order, tokens that
// increase, wait:false and timeouts leaving no candidacy behind, heartbeat/proclaim/resign
// guarded by the token, expiry handing over to the next candidate, and observe reporting every
// change of leader or value (and null) but not queue changes that leave the leader alone.
import t from 'tap';
import type { Test } from 'tap';
import { FakeConnection, FakeMember } from '../server/fake-member.js';

type Reply = Awaited<ReturnType<FakeConnection['rpc']>>;
const DIR = '/cairn/election/e';

function setup(t: Test): { m: FakeMember; conn: () => FakeConnection } {
  const m = new FakeMember();
  const conns: FakeConnection[] = [];
  t.teardown(() => { for (const c of conns) c.close(); });
  return { m, conn: () => { const c = new FakeConnection(m); conns.push(c); return c; } };
}

/** Lets pending promise chains (proposals, watchers) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function keysIn(m: FakeMember): string[] {
  try {
    return (m.store.get(DIR, {}, 0).node.nodes ?? []).map((n) => n.key);
  } catch {
    return [];
  }
}

/** A promise's state without waiting for it. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, settle().then(() => marker)])) === marker;
}

function notifications(c: FakeConnection): unknown[] {
  return c.sent.map((f) => (f as { params?: { result?: unknown } }).params?.result).filter((r) => r !== undefined);
}

t.test('candidates are elected in arrival order with increasing tokens', async (t) => {
  const { m, conn } = setup(t);
  const a = await conn().rpc('election.campaign', { name: 'e', candidate: 'a', value: 'va' });
  const aResult = a.result as { leader: boolean; token: number; ttl: number };
  t.same(aResult, { leader: true, token: aResult.token, ttl: 10 });
  t.equal(keysIn(m)[0], `${DIR}/${String(aResult.token).padStart(20, '0')}`, 'the token names the key');
  const b = conn().rpc('election.campaign', { name: 'e', candidate: 'b' });
  const c = conn().rpc('election.campaign', { name: 'e', candidate: 'c' });
  t.equal(await pending(b), true, 'b waits');
  t.equal(await pending(c), true, 'c waits');
  const leader = await conn().rpc('election.leader', { name: 'e' });
  t.match(leader.result, { leader: { candidate: 'a', value: 'va', token: aResult.token } });
  t.same((await conn().rpc('election.resign', { name: 'e', token: aResult.token })).result, { resigned: true });
  const bResult = (await b).result as { leader: boolean; token: number };
  t.equal(bResult.leader, true, 'b is next');
  t.ok(bResult.token > aResult.token, 'tokens increase');
  t.equal(await pending(c), true, 'c still waits behind b');
  await conn().rpc('election.resign', { name: 'e', token: bResult.token });
  const cResult = (await c).result as { token: number };
  t.ok(cResult.token > bResult.token);
});

t.test('a waiter in the middle leaving does not elect the one behind it', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a' })).result as { token: number };
  const bConn = conn();
  const b = bConn.rpc('election.campaign', { name: 'e', candidate: 'b' });
  const c = conn().rpc('election.campaign', { name: 'e', candidate: 'c' });
  await settle();
  bConn.close();
  await settle();
  t.match((await b).error, { code: -32000 }, 'b is told its connection went');
  t.equal(keysIn(m).length, 2, "b's candidacy was withdrawn");
  t.equal(await pending(c), true, 'c now waits on a');
  await conn().rpc('election.resign', { name: 'e', token: a.token });
  t.match((await c).result, { leader: true });
});

t.test('wait:false with another leader answers the leader and leaves no candidacy', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a', value: 'x' })).result as { token: number };
  const r = await conn().rpc('election.campaign', { name: 'e', candidate: 'b', wait: false });
  t.same(r.result, { leader: false, current: { candidate: 'a', value: 'x', token: a.token, expiration: (r.result as { current: { expiration: string } }).current.expiration } });
  t.equal(keysIn(m).length, 1);
});

t.test('timeoutMs ends a wait with leader:false and withdraws the candidacy', async (t) => {
  const { m, conn } = setup(t);
  await conn().rpc('election.campaign', { name: 'e', candidate: 'a' });
  const r = await conn().rpc('election.campaign', { name: 'e', candidate: 'b', timeoutMs: 50 });
  t.match(r.result, { leader: false, current: { candidate: 'a' } });
  t.equal(keysIn(m).length, 1);
});

t.test('a leader whose key expires is replaced by the next candidate', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a', ttl: 5 })).result as { token: number };
  m.nowMs += 1000;
  const b = conn().rpc('election.campaign', { name: 'e', candidate: 'b', ttl: 5 });
  t.equal(await pending(b), true);
  m.tickClock(m.nowMs + 4500); // a's deadline (created 1 s earlier) has passed, b's has not
  const bResult = (await b).result as { leader: boolean; token: number };
  t.equal(bResult.leader, true);
  const hb = await conn().rpc('election.heartbeat', { name: 'e', token: a.token });
  t.match(hb.error, { code: 510, message: /token \d+ is not the leader \(b leads now/ });
  t.same((await conn().rpc('election.heartbeat', { name: 'e', token: bResult.token })).result, { ttl: 5 });
});

t.test('heartbeat renews the TTL; a queued token cannot heartbeat', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a', ttl: 3 })).result as { token: number };
  m.nowMs += 2000;
  t.same((await conn().rpc('election.heartbeat', { name: 'e', token: a.token })).result, { ttl: 3 });
  m.tickClock(m.nowMs + 2000); // 4 s after creation, 2 s after the heartbeat
  t.match((await conn().rpc('election.leader', { name: 'e' })).result, { leader: { candidate: 'a' } }, 'still leads');
  const b = conn().rpc('election.campaign', { name: 'e', candidate: 'b' });
  await settle();
  const bToken = Number(keysIn(m)[1]?.split('/').pop());
  t.match((await conn().rpc('election.heartbeat', { name: 'e', token: bToken })).error, { code: 510 });
  t.match((await conn().rpc('election.heartbeat', { name: 'e', token: 999_999 })).error, { code: 510 });
  t.equal(await pending(b), true);
});

t.test('proclaim changes the value with the full TTL; only the leader may', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a', value: 'v1', ttl: 4 })).result as { token: number };
  m.nowMs += 3000;
  const r = await conn().rpc('election.proclaim', { name: 'e', token: a.token, value: 'v2' });
  t.match(r.result, { leader: { candidate: 'a', value: 'v2', token: a.token } });
  m.tickClock(m.nowMs + 3000); // 6 s after creation: alive only because proclaim renewed it
  t.match((await conn().rpc('election.leader', { name: 'e' })).result, { leader: { value: 'v2' } });
  t.match((await conn().rpc('election.proclaim', { name: 'e', token: a.token + 1, value: 'x' })).error, { code: 510 });
});

t.test('resign is idempotent', async (t) => {
  const { conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a' })).result as { token: number };
  t.same((await conn().rpc('election.resign', { name: 'e', token: a.token })).result, { resigned: true });
  t.same((await conn().rpc('election.resign', { name: 'e', token: a.token })).result, { resigned: true });
  t.same((await conn().rpc('election.leader', { name: 'e' })).result, { leader: null });
});

t.test('a queued candidacy whose key is deleted fails its campaign with 510', async (t) => {
  const { m, conn } = setup(t);
  await conn().rpc('election.campaign', { name: 'e', candidate: 'a' });
  const b = conn().rpc('election.campaign', { name: 'e', candidate: 'b' });
  await settle();
  const bKey = keysIn(m)[1] as string;
  m.apply({ requestId: 'x', op: 'kv', at: m.nowMs, write: { method: 'delete', params: { key: bKey } } });
  const reply: Reply = await b;
  t.match(reply.error, { code: 510, message: /lapsed before it was elected/ });
});

t.test('observe reports the leader now, every change of leader or value, and null', async (t) => {
  const { conn } = setup(t);
  const watcher = conn();
  const started = await watcher.rpc('election.observe', { name: 'e' });
  t.match(started.result, { subscription: String });
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a', value: '1' })).result as { token: number };
  const b = conn().rpc('election.campaign', { name: 'e', candidate: 'b', value: '2' });
  await settle(); // b joining the queue changes no leader
  await conn().rpc('election.heartbeat', { name: 'e', token: a.token }); // nor does a heartbeat
  await conn().rpc('election.proclaim', { name: 'e', token: a.token, value: '1b' });
  await conn().rpc('election.resign', { name: 'e', token: a.token });
  const bToken = ((await b).result as { token: number }).token;
  await conn().rpc('election.resign', { name: 'e', token: bToken });
  t.same(notifications(watcher), [
    { leader: null },
    { leader: { candidate: 'a', value: '1', token: a.token } },
    { leader: { candidate: 'a', value: '1b', token: a.token } },
    { leader: { candidate: 'b', value: '2', token: bToken } },
    { leader: null },
  ]);
});

t.test('observe starts with the current leader; unsubscribing removes its watcher', async (t) => {
  const { m, conn } = setup(t);
  const a = (await conn().rpc('election.campaign', { name: 'e', candidate: 'a' })).result as { token: number };
  const watcher = conn();
  const before = m.watchHub.size;
  const { subscription } = (await watcher.rpc('election.observe', { name: 'e' })).result as { subscription: string };
  t.equal(m.watchHub.size, before + 1);
  t.same(notifications(watcher), [{ leader: { candidate: 'a', value: '', token: a.token } }]);
  await watcher.rpc('unsubscribe', { subscription });
  t.equal(m.watchHub.size, before);
});

t.test('params are checked: names are one key segment, tokens positive integers', async (t) => {
  const { conn } = setup(t);
  const bad = await conn().rpc('election.campaign', { name: 'a/b', candidate: '' });
  t.equal(bad.error?.code, -32602);
  t.match(JSON.stringify(bad.error?.data), /name.*must be 1 to 128 letters/);
  t.match(JSON.stringify(bad.error?.data), /candidate.*must be a non-empty id/);
  t.equal((await conn().rpc('election.heartbeat', { name: 'e', token: 0 })).error?.code, -32602);
  t.equal((await conn().rpc('election.campaign', { name: 'e', candidate: 'a', ttl: 0 })).error?.code, -32602);
});
