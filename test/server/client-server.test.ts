// The client port over real sockets, with an in-process member: the HTTP endpoints, the
// connection and in-flight limits, binary frames, and a stream's reply before its events.
import t from 'tap';
import type { Test } from 'tap';
import WebSocket from 'ws';
import { startClientServer } from '../../server/client-server.js';
import type { ClientServer } from '../../server/client-server.js';
import { MemberMetrics } from '../../server/metrics.js';
import { FakeMember } from './fake-member.js';

const LIMITS = { maxRequestBytes: 4096, maxInflight: 2, maxSubscriptions: 10, maxStreamBufferBytes: 1 << 20, maxConnections: 2 };

async function serve(t: Test, member: FakeMember, limits = LIMITS): Promise<ClientServer> {
  const server = await startClientServer(member, { host: '127.0.0.1', port: 0, ...limits });
  t.teardown(() => server.close());
  return server;
}

/** A socket that records every frame it receives. */
async function open(t: Test, port: number, query = ''): Promise<{ ws: WebSocket; frames: unknown[]; next: (n: number) => Promise<unknown[]> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc${query}`);
  t.teardown(() => ws.terminate());
  const frames: unknown[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => { frames.push(JSON.parse(data.toString())); for (const w of waiters.splice(0)) w(); });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const next = async (n: number): Promise<unknown[]> => {
    for (let i = 0; i < 100 && frames.length < n; i++) {
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 50); waiters.push(() => { clearTimeout(timer); resolve(); }); });
    }
    return frames.slice(0, n);
  };
  return { ws, frames, next };
}

t.test('GET /health, /version and /metrics', async (t) => {
  const member = new FakeMember();
  const withMetrics = Object.assign(member, {
    metrics: new MemberMetrics({ term: () => 7, commitIndex: () => 1, appliedIndex: () => 1, storeIndex: () => 0, isLeader: () => true, hasLeader: () => true, connections: () => 0, watchers: () => 0 }),
  });
  const server = await serve(t, withMetrics);
  const base = `http://127.0.0.1:${server.port}`;
  const health = await fetch(`${base}/health`);
  t.equal(health.status, 200);
  t.same(await health.json(), { health: 'true' });
  member.leaderId = '';
  const sick = await fetch(`${base}/health`);
  t.equal(sick.status, 503);
  t.same(await sick.json(), { health: 'false', reason: 'no leader' });
  t.match(await (await fetch(`${base}/version`)).json(), { etcdserver: '3.4.23', etcdcluster: '3.4.0', cairn: /^\d+\.\d+\.\d+$/ });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^cairn_raft_term 7$/m);
  t.match(metrics, /# TYPE cairn_disk_wal_fsync_duration_seconds histogram/);
  t.equal((await fetch(`${base}/nope`)).status, 404);
  t.equal((await fetch(`${base}/health`, { method: 'POST' })).status, 405);
});

t.test('connections beyond --max-connections are refused at the upgrade', async (t) => {
  const server = await serve(t, new FakeMember());
  await open(t, server.port);
  await open(t, server.port);
  const third = new WebSocket(`ws://127.0.0.1:${server.port}/rpc`);
  t.teardown(() => third.terminate());
  const status = await new Promise<number>((resolve) => {
    third.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    third.once('error', () => resolve(-1));
  });
  t.equal(status, 503);
});

t.test('requests beyond --max-inflight-per-connection are refused at once with -32000', async (t) => {
  const server = await serve(t, new FakeMember());
  const c = await open(t, server.port);
  for (const id of [1, 2]) c.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'kv.wait', params: { key: '/never' } }));
  c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'cluster.status' }));
  const [refusal] = await c.next(1) as { id: number; error: { code: number; data: { retryable: boolean } } }[];
  t.equal(refusal?.id, 3);
  t.equal(refusal?.error.code, -32000);
  t.equal(refusal?.error.data.retryable, true);
});

t.test('a batch over --max-inflight-per-connection is refused request by request, in one array', async (t) => {
  const server = await serve(t, new FakeMember());
  const c = await open(t, server.port);
  c.ws.send(JSON.stringify([
    { jsonrpc: '2.0', id: 1, method: 'cluster.status' },
    { jsonrpc: '2.0', method: 'cluster.status' },
    { jsonrpc: '2.0', id: 'b', method: 'cluster.status' },
  ]));
  const [refusal] = await c.next(1) as { id: number | string; error: { code: number; data: { retryable: boolean } } }[][];
  t.same(refusal?.map((r) => r.id), [1, 'b'], 'each request with an id is answered under it; the notification is not');
  t.same(refusal?.map((r) => r.error.code), [-32000, -32000]);
  t.equal(refusal?.[0]?.error.data.retryable, true);
  c.ws.send(JSON.stringify([{ jsonrpc: '2.0', id: 3, method: 'cluster.status' }, { jsonrpc: '2.0', id: 4, method: 'cluster.status' }]));
  const [, answered] = await c.next(2) as { id: number; result?: unknown }[][];
  t.same(answered?.map((r) => [r.id, r.result !== undefined]), [[3, true], [4, true]], 'a batch within the limit runs');
});

t.test('binary frames and oversized frames are refused and the connection stays usable', async (t) => {
  const server = await serve(t, new FakeMember());
  const c = await open(t, server.port);
  // One at a time: the in-flight limit of this server is 2.
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await c.next(1);
  c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/k', value: 'x'.repeat(5000) } }));
  await c.next(2);
  c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'cluster.status' }));
  const frames = await c.next(3) as { id: number | null; error?: { code: number } }[];
  t.same(frames.map((f) => f.error?.code ?? 'ok'), [-32600, -32600, 'ok']);
});

t.test('a watch reply reaches the client before the stream first notification', async (t) => {
  const member = new FakeMember();
  const server = await serve(t, member);
  await member.proposeKv({ method: 'set', params: { key: '/w', value: '1' } });
  const c = await open(t, server.port);
  c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.watch', params: { key: '/w', waitIndex: 1 } }));
  const frames = await c.next(2) as { id?: number; method?: string; result?: { subscription: string }; params?: { subscription: string } }[];
  t.equal(frames[0]?.id, 1, 'the reply first');
  t.equal(frames[1]?.method, 'subscription');
  t.equal(frames[1]?.params?.subscription, frames[0]?.result?.subscription);
});

/** Opens `count` watches of /w from index 2 and returns their subscription ids. */
async function watchMany(c: Awaited<ReturnType<typeof open>>, count: number): Promise<string[]> {
  for (let id = 1; id <= count; id++) c.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'kv.watch', params: { key: '/w', waitIndex: 2 } }));
  const replies = await c.next(count) as { result?: { subscription: string } }[];
  return replies.map((r) => r.result?.subscription ?? 'missing');
}

/** Three watches of /w on a connection opened with `query`, then a set of /w: its ids and the first `frames` frames. */
async function threeWatchesThenSet(t: Test, query: string, frames: number): Promise<{ ids: string[]; frames: unknown[] }> {
  const member = new FakeMember();
  const server = await serve(t, member, { ...LIMITS, maxInflight: 10 });
  await member.proposeKv({ method: 'set', params: { key: '/w', value: '1' } });
  const c = await open(t, server.port, query);
  const ids = await watchMany(c, 3);
  await member.proposeKv({ method: 'set', params: { key: '/w', value: '2' } });
  return { ids, frames: await c.next(frames) };
}

t.test('with ?notifications=batch, the notifications of one apply share one frame', async (t) => {
  const { ids, frames } = await threeWatchesThenSet(t, '?notifications=batch', 4);
  t.ok(Array.isArray(frames[3]), 'the fourth frame is an array');
  const batch = frames[3] as { method: string; params: { subscription: string; result: { node: { value: string } } } }[];
  t.same(batch.map((n) => n.method), ['subscription', 'subscription', 'subscription']);
  t.same(batch.map((n) => n.params.subscription).sort(), [...ids].sort(), 'one notification per stream');
  t.same(batch.map((n) => n.params.result.node.value), ['2', '2', '2']);
});

t.test('with ?notifications=grouped, one event for several streams is one notification naming them all', async (t) => {
  const { ids, frames } = await threeWatchesThenSet(t, '?notifications=grouped', 4);
  const grouped = frames[3] as { method: string; params: { subscriptions: string[]; result: { node: { value: string } } } };
  t.equal(grouped.method, 'subscription');
  t.same([...grouped.params.subscriptions].sort(), [...ids].sort(), 'every stream is named');
  t.equal(grouped.params.result.node.value, '2');
  t.equal(frames.length, 4, 'one frame for the three streams');
});

t.test('without the opt-in every notification is a frame of its own', async (t) => {
  const { frames } = await threeWatchesThenSet(t, '', 6);
  t.same((frames as { method?: string }[]).slice(3).map((f) => f.method), ['subscription', 'subscription', 'subscription']);
});

t.test('an unknown notifications= value is refused at the upgrade with 400', async (t) => {
  const server = await serve(t, new FakeMember());
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/rpc?notifications=gzip`);
  t.teardown(() => ws.terminate());
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  t.equal(status, 400);
});
