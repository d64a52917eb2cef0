// Black-box robustness tests over a real 3-member cluster started with a small
// --max-request-bytes: malformed and oversized frames each get their JSON-RPC error on a raw
// WebSocket and leave the member serving; /health, /version and /metrics; a client whose
// member is killed with SIGKILL reconnects elsewhere and loses no acknowledged write; and
// /health turns 503 on the last member standing.
import t from 'tap';
import WebSocket from 'ws';
import { RpcClient, RpcError, failure, httpGet, metricSample, startCluster, waitFor } from './kv-helpers.js';
import type { ClusterStatus, KvResult, MemberProcess } from './kv-helpers.js';

const MAX_REQUEST_BYTES = 65_536;
const kv = await startCluster(t, ['--max-request-bytes', String(MAX_REQUEST_BYTES)]);

interface Reply { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string; data?: { errors?: { field: string }[] } } }

/** A bare WebSocket on /rpc that can send anything and reads replies one at a time. */
class RawSocket {
  readonly replies: string[] = [];
  closedWith: number | undefined;
  private read = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.replies.push(data.toString()));
    ws.on('close', (code) => { this.closedWith = code; });
    ws.on('error', () => {});
  }

  static async open(member: MemberProcess): Promise<RawSocket> {
    const ws = new WebSocket(new URL('/rpc', member.clientUrl.replace(/^http/, 'ws')), { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    return new RawSocket(ws);
  }

  /** Sends a frame that expects no reply. */
  push(frame: string): void {
    this.ws.send(frame);
  }

  /** Sends one frame and returns the next reply (parsed), or undefined if the socket closed first. */
  async send(frame: string | Buffer, binary = false): Promise<Reply | Reply[] | undefined> {
    this.ws.send(frame, { binary });
    await waitFor('a reply or the socket to close', 5000, async () => (this.replies.length > this.read || this.closedWith !== undefined ? true : undefined), 5);
    return this.replies.length > this.read ? JSON.parse(this.replies[this.read++]!) as Reply : undefined;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The member serves: a kv.get through a new connection works and /health says 200. */
async function serving(member: MemberProcess): Promise<boolean> {
  const c = await RpcClient.connect(member.clientUrl);
  try {
    await c.call('kv.get', { key: '/', consistency: 'serializable' });
  } finally {
    c.close();
  }
  return (await httpGet(member, '/health')).status === 200;
}

const code = (r: Reply | Reply[] | undefined): [unknown, unknown] => (Array.isArray(r) || r === undefined ? [r, undefined] : [r.error?.code, r.id]);

t.test('malformed requests each get their JSON-RPC error, and the member keeps serving', async (t) => {
  for (const member of [kv.leader, kv.followers()[0]!]) {
    const raw = await RawSocket.open(member);
    t.teardown(() => raw.close());
    const cases: [string, string, [number, unknown]][] = [
      ['malformed JSON', '{"jsonrpc": "2.0", "id": 1, "method": ', [-32700, null]],
      ['a number, not a request', '42', [-32600, null]],
      ['a string, not a request', '"kv.get"', [-32600, null]],
      ['an empty batch', '[]', [-32600, null]],
      ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":3,"method":"cluster.status"}', [-32600, 3]],
      ['no method', '{"jsonrpc":"2.0","id":4}', [-32600, 4]],
      ['an unknown method', '{"jsonrpc":"2.0","id":"five","method":"kv.frobnicate","params":{}}', [-32601, 'five']],
      ['params not an object', '{"jsonrpc":"2.0","id":6,"method":"kv.get","params":["/a"]}', [-32602, 6]],
    ];
    for (const [what, frame, expected] of cases) t.same(code(await raw.send(frame)), expected, `${member.name}: ${what}`);

    const bad = await raw.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'kv.set', params: { key: 1, value: 2, ttl: 'x', prevExist: 'yes', bogus: true } })) as Reply;
    t.same([bad.error?.code, bad.id], [-32602, 7], `${member.name}: wrong param types and an unknown param`);
    t.same(bad.error?.data?.errors?.map((e) => e.field).sort(), ['bogus', 'key', 'prevExist', 'ttl', 'value'], 'data.errors names each bad field');

    t.same(code(await raw.send(Buffer.from('{"jsonrpc":"2.0","id":8,"method":"cluster.status"}'), true)), [-32600, null], `${member.name}: a binary frame`);
    const big = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'kv.set', params: { key: '/big', value: 'x'.repeat(MAX_REQUEST_BYTES) } });
    t.same(code(await raw.send(big)), [-32600, null], `${member.name}: a request over --max-request-bytes`);
    const batch = await raw.send('[1, {"jsonrpc":"2.0","id":10,"method":"cluster.status"}]') as Reply[];
    t.same(batch.map((r) => [r.error?.code ?? 'ok', r.id]), [[-32600, null], ['ok', 10]], `${member.name}: a batch answers each request in one array`);
    // Notifications (no id) get no reply, not even an error: the next reply is the request's.
    raw.push('{"jsonrpc":"2.0","method":"kv.frobnicate"}');
    raw.push('{"jsonrpc":"2.0","method":"kv.get","params":{"key":5}}');
    const after = await raw.send('{"jsonrpc":"2.0","id":11,"method":"kv.get","params":{"key":"/","consistency":"serializable"}}') as Reply;
    t.same([after.id, after.error, (after.result as KvResult | undefined)?.node.key], [11, undefined, '/'], `${member.name}: no reply to notifications; the same socket still works`);
    t.equal(await serving(member), true, `${member.name} keeps serving`);
  }
});

t.test('params that are not an object: -32602 lists the bad field', async (t) => {
  const raw = await RawSocket.open(kv.leader);
  t.teardown(() => raw.close());
  const reply = await raw.send('{"jsonrpc":"2.0","id":1,"method":"kv.get","params":["/a"]}') as Reply;
  t.same(reply.error?.data?.errors?.map((e) => e.field), ['(params)'], 'data.errors names the params');
});

t.test('a frame over twice --max-request-bytes: the connection closes with 1009 and the member stays up', async (t) => {
  // README: frames up to twice the limit are read and refused with -32600; bigger ones are
  // not buffered at all — ws closes the connection with 1009 (message too big).
  const polite = await RawSocket.open(kv.followers()[1]!);
  t.teardown(() => polite.close());
  const twice = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/big', value: 'x'.repeat(Math.floor(1.5 * MAX_REQUEST_BYTES)) } });
  t.same(code(await polite.send(twice)), [-32600, null], 'up to twice the limit: refused with -32600');
  const raw = await RawSocket.open(kv.followers()[1]!);
  t.teardown(() => raw.close());
  const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/huge', value: 'x'.repeat(4 * MAX_REQUEST_BYTES) } });
  await raw.send(huge);
  t.equal(raw.closedWith, 1009, 'beyond: closed with 1009');
  t.equal(await serving(kv.followers()[1]!), true, 'the member keeps serving');
});

t.test('GET /health, /version and /metrics', async (t) => {
  for (const member of kv.members) {
    const health = await httpGet(member, '/health');
    t.same([health.status, health.type, JSON.parse(health.body)], [200, 'text/plain', { health: 'true' }], `${member.name}: healthy with a leader (JSON labelled text/plain, as etcd does)`);
  }
  const c = await kv.connect(kv.leader);
  const status = await c.call<ClusterStatus>('cluster.status');
  const version = await httpGet(kv.leader, '/version');
  t.same([version.status, JSON.parse(version.body)], [200, { etcdserver: '3.4.23', etcdcluster: '3.4.0', cairn: status.version }], '/version: the etcd version whose v2 API it serves, and the version cluster.status reports');

  const before = await httpGet(kv.leader, '/metrics');
  for (let i = 0; i < 3; i++) await c.call('kv.get', { key: '/', consistency: 'serializable' });
  const metrics = await httpGet(kv.leader, '/metrics');
  t.same([metrics.status, metrics.type.startsWith('text/plain')], [200, true], 'Prometheus text');
  t.equal(metricSample(metrics.body, 'cairn_raft_term'), status.term, 'cairn_raft_term is the term');
  const gets = (text: string): number => metricSample(text, 'cairn_rpc_requests_total', { method: 'kv.get', code: '0' }) ?? 0;
  t.equal(gets(metrics.body) - gets(before.body), 3, 'cairn_rpc_requests_total counts the three kv.get');
  const buckets = ['0.001', '0.01', '0.1', '1', '+Inf'].map((le) => metricSample(metrics.body, 'cairn_disk_wal_fsync_duration_seconds_bucket', { le }));
  t.ok(buckets.every((b, i) => b !== undefined && (i === 0 || b >= buckets[i - 1]!)), `fsync buckets, cumulative: ${buckets.join(' ')}`);
  t.ok(buckets[4]! > 0, 'fsyncs were observed');
  t.equal((await httpGet(kv.leader, '/nope')).status, 404, 'an unknown path is 404');
});

t.test('a client whose member is killed reconnects to another and loses no acknowledged write', async (t) => {
  const victim = kv.leader;
  const others = kv.followers();
  const acked = new Map<string, string>();
  let client = await RpcClient.connect(victim.clientUrl);
  t.teardown(() => client.close());
  let reconnects = 0;
  const failures: string[] = [];
  const writer = (async (): Promise<void> => {
    for (let i = 0; acked.size < 150 && i < 2000; i++) {
      const key = `/robust/w${acked.size}`;
      try {
        await client.call('kv.set', { key, value: `v${acked.size}` }, 3000);
        acked.set(key, `v${acked.size}`);
      } catch (error) {
        failures.push(error instanceof RpcError ? `${error.code} ${error.message}` : (error as Error).message);
        // A retryable refusal (no leader yet) is retried on the same member; anything else
        // (the socket died, a timeout) moves on to the next member. Either way the same key
        // and value are written again: an unknown outcome is settled by the retry.
        if (!(error instanceof RpcError && error.data?.['retryable'] === true)) {
          client.close();
          client = await RpcClient.connect(others[reconnects++ % others.length]!.clientUrl).catch(() => client);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  await waitFor('50 writes acknowledged through the victim', 15_000, async () => (acked.size >= 50 ? true : undefined), 5);
  await kv.cluster.kill(victim);
  await writer;
  t.comment(`${acked.size} writes acknowledged, ${reconnects} reconnects, ${failures.length} failed attempts: ${failures.join('; ')}`);
  t.equal(acked.size, 150, 'the client went on writing');
  t.ok(reconnects >= 1, 'it had to reconnect to another member');

  await kv.electLeader();
  const reader = await kv.connect(others[1]!);
  const lost: string[] = [];
  for (const [key, value] of acked) {
    const got = await reader.call<KvResult>('kv.get', { key }).catch(() => undefined);
    if (got?.node.value !== value) lost.push(key);
  }
  t.same(lost, [], 'every acknowledged write reads back linearizably');
  const listing = await reader.call<KvResult>('kv.get', { key: '/robust' });
  t.equal(listing.node.nodes?.length, 150, 'no write appears twice, none extra');
});

t.test('/health turns 503 on the last member standing', async (t) => {
  const [survivor, second] = [kv.leader, kv.followers().find((m) => m !== kv.leader)!];
  await kv.cluster.kill(second);
  const health = await waitFor('the survivor to report no leader', 15_000, async () => {
    const h = await httpGet(survivor, '/health');
    return h.status === 503 ? h : undefined;
  }, 100);
  t.same(JSON.parse(health.body), { health: 'false', reason: 'no leader' });
  const c = await kv.connect(survivor);
  t.equal((await c.call<KvResult>('kv.get', { key: '/robust/w0', consistency: 'serializable' })).node.value, 'v0', 'it still serves serializable reads');
  t.same(await failure(c.call('kv.set', { key: '/robust/late', value: 'x' }, 15_000)), { code: 301 }, 'a write without a quorum: 301');
});
