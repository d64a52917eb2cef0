// The client's leader routing against scripted mock members: which calls go to the leader's
// member, finding it among the endpoints, falling back to the ordinary connection, and
// looking again after the leader's socket is lost (with a fake clock for LeaderRoute).
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { connect } from '../../clients/index.js';
import type { CairnClient, ConnectOptions } from '../../clients/index.js';
import { Connection } from '../../clients/connection.js';
import {
  LEADER_REFRESH_MS, LEADER_RETRY_MS, LeaderRoute, leaderEndpoint, wantsLeader,
} from '../../clients/leader-route.js';
import { MockServer, kvEvent, waitUntil } from './mock-server.js';

const connectionOptions = { connectTimeoutMs: 2_000, maxPayloadBytes: 1024 * 1024, keepaliveMs: 0 };

const member = (url: string, isLeader: boolean): Record<string, unknown> =>
  ({ id: url, name: url, peerUrls: [], clientUrls: [url], isLeader });

/** Mock members answering kv calls, with `leader` (an index, or none) as the Raft leader. */
async function cluster(t: Test, count: number, leader: number | undefined): Promise<MockServer[]> {
  const list: MockServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await MockServer.start();
    t.teardown(() => server.close());
    list.push(server);
  }
  for (const server of list) {
    server.on('cluster.members', () => ({ result: { members: list.map((s, i) => member(s.url, i === leader)) } }));
    server.on('kv.set', () => ({ result: kvEvent(9) }));
    server.on('kv.get', () => ({ result: { ...kvEvent(7), action: 'get', raftIndex: 1, raftTerm: 1 } }));
  }
  return list;
}

/**
 * Waits until the client itself routes to the leader: the member sees the socket open
 * before the client has read the upgrade's answer, so the member's side alone is too early.
 */
async function leaderRouted(c: CairnClient, leader: MockServer): Promise<void> {
  const route = (c as unknown as { route: LeaderRoute }).route;
  await waitUntil(() => leader.openSockets === 1 && route.connection() !== undefined, 'a socket to the leader');
}

async function client(t: Test, options: ConnectOptions): Promise<CairnClient> {
  const c = await connect({ shuffleEndpoints: false, retryBaseMs: 5, ...options });
  t.teardown(() => c.close());
  return c;
}

t.test('wantsLeader: writes and linearizable reads yes; serializable reads, waits and cluster calls no', async (t) => {
  t.ok(wantsLeader('kv.set', { key: '/k' }));
  t.ok(wantsLeader('kv.txn', {}));
  t.ok(wantsLeader('semaphore.acquire', {}));
  t.ok(wantsLeader('kv.get', { key: '/k' }), 'linearizable is the default');
  t.ok(wantsLeader('kv.get', { key: '/k', consistency: 'linearizable' }));
  t.notOk(wantsLeader('kv.get', { key: '/k', consistency: 'serializable' }));
  t.notOk(wantsLeader('kv.wait', { key: '/k' }));
  t.notOk(wantsLeader('cluster.status', {}));
  t.notOk(wantsLeader('cluster.transferLeader', { id: 'x' }));
});

t.test('leaderEndpoint: the endpoint that opens the leader member\'s socket, whatever the scheme', async (t) => {
  const members = { members: [member('http://127.0.0.1:1/', false), member('http://127.0.0.1:2', true)] };
  t.equal(leaderEndpoint(members, ['http://127.0.0.1:1', 'ws://127.0.0.1:2/']), 'ws://127.0.0.1:2/');
  t.equal(leaderEndpoint(members, ['http://127.0.0.1:1']), undefined, 'the leader is not an endpoint');
  t.equal(leaderEndpoint({ members: [member('http://127.0.0.1:2', false)] }, ['http://127.0.0.1:2']), undefined, 'no leader');
  t.equal(leaderEndpoint({ members: 'nonsense' }, ['http://127.0.0.1:2']), undefined);
  t.equal(leaderEndpoint(null, ['http://127.0.0.1:2']), undefined);
  t.equal(leaderEndpoint({ members: [{ isLeader: true, clientUrls: ['not a url', 7] }] }, ['http://127.0.0.1:2']), undefined);
});

t.test('writes and linearizable reads move to the leader; serializable reads and watches stay', async (t) => {
  const [a, b] = await cluster(t, 2, 1);
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  await c.set('/k', 'x');
  t.equal(a!.calls('cluster.members').length, 1, 'the first routed call asked who leads');
  await leaderRouted(c, b!);
  await c.set('/k', 'y');
  await c.get('/k');
  await c.get('/k', { consistency: 'serializable' });
  t.equal(b!.calls('kv.set').length, 1, 'the write after the look went to the leader');
  t.equal(b!.calls('kv.get').length, 1, 'so did the linearizable read');
  t.equal(a!.calls('kv.get').length, 1, 'the serializable read stayed on the first connection');
  t.equal(b!.calls('cluster.members').length, 0);
});

t.test('a lost leader socket sends calls back to the ordinary connection', async (t) => {
  const [a, b] = await cluster(t, 2, 1);
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  await c.get('/k');
  await leaderRouted(c, b!);
  b!.on('kv.set', () => 'drop');
  const lost = await c.set('/k', 'x').then(() => undefined, (e: unknown) => e);
  t.match(lost, { code: 302 }, 'the write\'s outcome is unknown, and it is not sent again');
  await waitUntil(() => b!.openSockets === 0, 'the socket closed');
  b!.on('kv.set', () => ({ result: kvEvent(9) }));
  await c.set('/k', 'z');
  t.equal(a!.calls('kv.set').length, 1, 'the next write went to the ordinary connection');
});

t.test('no second socket when the first connection already reaches the leader', async (t) => {
  const [a, b] = await cluster(t, 2, 0);
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  await c.set('/k', 'x');
  await waitUntil(() => a!.calls('cluster.members').length === 1, 'the look');
  await c.set('/k', 'y');
  t.equal(b!.openSockets, 0);
  t.equal(a!.calls('kv.set').length, 2);
});

t.test('leaderRouting: false, or one endpoint: nobody is asked who leads', async (t) => {
  const [a, b] = await cluster(t, 2, 1);
  const off = await client(t, { endpoints: [a!.url, b!.url], leaderRouting: false });
  const single = await client(t, { endpoints: [a!.url] });
  await off.set('/k', 'x');
  await single.set('/k', 'y');
  t.equal(a!.calls('cluster.members').length, 0);
  t.equal(a!.calls('kv.set').length, 2);
  t.equal(b!.openSockets, 0);
});

t.test('shuffleEndpoints: false keeps the order given; the default shuffles with `random`', async (t) => {
  const [a, b, c] = await cluster(t, 3, undefined);
  const urls = [a!.url, b!.url, c!.url];
  const given = await client(t, { endpoints: urls });
  t.same(given.endpoints, urls);
  const shuffled = await connect({ endpoints: urls, random: () => 0 });
  t.teardown(() => shuffled.close());
  t.same(shuffled.endpoints, [b!.url, c!.url, a!.url], 'Fisher-Yates with random() = 0');
});

t.test('LeaderRoute looks again after LEADER_REFRESH_MS, and after a lost socket within LEADER_RETRY_MS', async (t) => {
  const [a, b, c] = await cluster(t, 3, 1);
  let leader = 1;
  for (const server of [a!, b!, c!]) {
    server.on('cluster.members', () => ({ result: { members: [a!, b!, c!].map((s, i) => member(s.url, i === leader)) } }));
  }
  const ordinary = await Connection.open(a!.url, connectionOptions);
  t.teardown(() => ordinary.close());
  const closing = new AbortController();
  let now = 1_000_000;
  const route = new LeaderRoute([a!.url, b!.url, c!.url], connectionOptions, () => ordinary, closing.signal, () => now);
  t.teardown(() => route.close());

  t.equal(route.connection(), undefined, 'unknown at first: the ordinary connection is used');
  await waitUntil(() => route.connection()?.endpoint === b!.url, 'the route to b');
  t.equal(a!.calls('cluster.members').length, 1);

  leader = 2;
  now += LEADER_REFRESH_MS - 1;
  route.connection();
  t.equal(a!.calls('cluster.members').length, 1, 'not stale yet: no look');
  now += 1;
  await waitUntil(() => route.connection()?.endpoint === c!.url, 'the route to c after a refresh');
  await waitUntil(() => b!.openSockets === 0, 'the socket to the old leader closed');

  const looks = a!.calls('cluster.members').length;
  c!.dropAll();
  await waitUntil(() => c!.openSockets === 0, 'c dropped');
  t.equal(route.connection(), undefined, 'the lost socket is not used');
  now += LEADER_RETRY_MS;
  await waitUntil(() => route.connection()?.endpoint === c!.url, 'the route to c again');
  t.equal(a!.calls('cluster.members').length, looks + 1, 'one more look, soon after the loss');
  route.close();
  await waitUntil(() => c!.openSockets === 0, 'close() closed the leader socket');
});

t.test('closing the client while the leader socket is still connecting is quiet', async (t) => {
  // A member that takes the TCP connection and never answers the WebSocket handshake.
  const accepted: Socket[] = [];
  let closed = 0;
  const silent = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined).on('close', () => closed++).resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => silent.close());
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const [a] = await cluster(t, 1, undefined);
  a!.on('cluster.members', () => ({ result: { members: [member(a!.url, false), member(silentUrl, true)] } }));
  const c = await connect({ endpoints: [a!.url, silentUrl], shuffleEndpoints: false });
  await c.set('/k', 'x');
  await waitUntil(() => accepted.length === 1, 'the leader socket connecting');
  c.close();
  await waitUntil(() => closed === 1, 'the connecting socket closed');
  t.pass('no unhandled error event');
});
