// The JSON-RPC layer against an in-process member: framing, validation and error shapes
// follow the JSON-RPC 2.0 spec and ../shared/API.md.
import t from 'tap';
import { FakeConnection, FakeMember } from './fake-member.js';

const connect = (max?: number): FakeConnection => new FakeConnection(new FakeMember(), max);

t.test('a set then a linearizable get return KvResult shapes', async (t) => {
  const c = connect();
  const set = await c.call({ jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/a', value: 'x' } }) as { result: Record<string, unknown> };
  t.match(set.result, { action: 'set', node: { key: '/a', value: 'x', createdIndex: 1, modifiedIndex: 1 }, index: 1, raftIndex: 11, raftTerm: 2 });
  const get = await c.call({ jsonrpc: '2.0', id: 'g', method: 'kv.get', params: { key: '/a' } }) as { id: string; result: Record<string, unknown> };
  t.equal(get.id, 'g');
  t.match(get.result, { action: 'get', node: { value: 'x' }, index: 1 });
});

t.test('errors follow JSON-RPC 2.0', async (t) => {
  const c = connect();
  t.match(await c.call('{nope'), { id: null, error: { code: -32700 } }, 'parse error');
  t.match(await c.call({ id: 1, method: 'kv.get' }), { error: { code: -32600 } }, 'missing jsonrpc');
  t.match(await c.call({ jsonrpc: '2.0', id: 1, method: 'kv.nope' }), { error: { code: -32601 } }, 'unknown method');
  t.match(await c.call([]), { error: { code: -32600 } }, 'empty batch');
  t.match(await c.call({ jsonrpc: '2.0', id: 1, method: 'kv.get', params: [1] }), { error: { code: -32602 } }, 'positional params');
  const bad = await c.call({ jsonrpc: '2.0', id: 1, method: 'kv.set', params: { value: 1, extra: true } }) as { error: { code: number; data: { errors: { field: string }[] } } };
  t.equal(bad.error.code, -32602);
  const fields = bad.error.data.errors.map((e) => e.field).sort();
  t.same(fields, ['extra', 'key', 'value'], 'each bad field is named');
  t.match(await c.call({ jsonrpc: '2.0', id: 1, method: 'kv.get', params: { key: '/missing' } }), { error: { code: 100, data: { retryable: false, cause: '/missing', index: 0 } } });
  t.match(await c.call({ jsonrpc: '2.0', id: 1, method: 'cluster.transferLeader', params: { id: 'm1' } }), { error: { code: 301, data: { retryable: true } } });
});

t.test('batches answer each request in one array; notifications get no reply', async (t) => {
  const c = connect();
  const replies = await c.call([
    { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/b', value: 'y' } },
    { jsonrpc: '2.0', method: 'kv.set', params: { key: '/c', value: 'z' } },
    { jsonrpc: '2.0', id: 2, method: 'cluster.status' },
  ]) as { id: number }[];
  t.equal(replies.length, 2);
  t.same(replies.map((r) => r.id).sort(), [1, 2]);
  t.equal(c.member.store.get('/c', {}, 0).node.value, 'z', 'the notification still ran');
  t.equal(await c.call({ jsonrpc: '2.0', method: 'kv.set', params: { key: '/d', value: 'w' } }), undefined);
});

t.test('a lone surrogate escape in the request text is refused with -32602, and nothing is written', async (t) => {
  const c = connect();
  // JSON.parse turns the escape into an unpaired surrogate, which UTF-8 could not store as sent.
  const reply = await c.call('{"jsonrpc":"2.0","id":1,"method":"kv.set","params":{"key":"/s","value":"x\\ud800"}}');
  t.match(reply, { id: 1, error: { code: -32602, data: { errors: [{ field: 'value', problem: /unpaired UTF-16 surrogate/ }] } } });
  t.equal(c.member.store.index, 0, 'nothing was written');
  const paired = await c.call('{"jsonrpc":"2.0","id":2,"method":"kv.set","params":{"key":"/s","value":"x\\ud83d\\ude00"}}');
  t.match(paired, { id: 2, result: { node: { key: '/s', value: 'x\u{1F600}' } } }, 'an escaped pair is one character, and is kept');
});

t.test('requests over --max-request-bytes are refused with -32600', async (t) => {
  const c = connect(1000);
  const big = { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/big', value: 'v'.repeat(2000) } };
  t.match(await c.call(big), { error: { code: -32600 } });
  t.equal(c.member.store.index, 0, 'nothing was written');
  // Bytes, not characters: 600 two-byte characters are over 1000 bytes, 400 are not.
  const wide = (n: number): object => ({ jsonrpc: '2.0', id: 2, method: 'kv.set', params: { key: '/wide', value: 'é'.repeat(n) } });
  t.match(await c.call(wide(600)), { error: { code: -32600 } }, 'fewer characters than the limit, more bytes');
  t.equal(c.member.store.index, 0, 'nothing was written');
  t.match(await c.call(wide(400)), { result: { node: { key: '/wide' } } }, 'under the limit in bytes too');
});

t.test('in a batch over --max-request-bytes only the requests over it alone are refused', async (t) => {
  const c = connect(1000);
  const replies = await c.call([
    { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/small', value: 'x' } },
    { jsonrpc: '2.0', id: 2, method: 'kv.set', params: { key: '/big', value: 'v'.repeat(2000) } },
    { jsonrpc: '2.0', id: 3, method: 'kv.set', params: { key: '/small2', value: 'y'.repeat(500) } },
  ]) as { id: number; error?: { code: number; message: string } }[];
  t.same(replies.map((r) => [r.id, r.error?.code ?? 'ok']), [[1, 'ok'], [2, -32600], [3, 'ok']]);
  t.match(replies[1]?.error?.message, /--max-request-bytes \(1000\)/, 'the refusal names the limit');
  t.equal(c.member.store.get('/small2', {}, 0).node.value, 'y'.repeat(500), 'the others were written');
  t.throws(() => c.member.store.get('/big', {}, 0), 'the oversized one was not');
});

t.test('a request of a batch that fails unexpectedly is answered with -32603; the others are answered as usual', async (t) => {
  const member = new FakeMember();
  // A fault outside the method itself (here the metrics hook) for one request of the batch.
  Object.assign(member, { metrics: { request: (method: string) => { if (method === 'cluster.status') throw new Error('hook failed'); } } });
  const c = new FakeConnection(member);
  const replies = await c.call([
    { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/ok', value: 'x' } },
    { jsonrpc: '2.0', id: 2, method: 'cluster.status' },
  ]) as { id: number; result?: unknown; error?: { code: number; message: string } }[];
  t.same(replies.map((r) => [r.id, r.error?.code ?? 'ok']), [[1, 'ok'], [2, -32603]]);
  t.match(replies[1]?.error?.message, /hook failed/);
});

t.test('cluster.addMember refuses a member that already exists', async (t) => {
  const c = connect();
  t.match(await c.rpc('cluster.addMember', { peerUrls: ['http://127.0.0.1:7001'] }), { error: { code: 105 } });
  t.match(await c.rpc('cluster.addMember', { peerUrls: ['ftp://x'] }), { error: { code: -32602 } });
});
