// The JSON-RPC layer against a fake member: framing, validation and error shapes follow the
// JSON-RPC 2.0 spec and ../shared/API.md.
import t from 'tap';
import { MemberError } from '../../server/errors.js';
import { memberIdFor } from '../../server/identity.js';
import { VERSION } from '../../server/member-status.js';
import { handleRpcText } from '../../server/rpc.js';
import type { MemberApi } from '../../server/rpc.js';

function fakeMember(): MemberApi & { kv: Map<string, string>; index: number } {
  const kv = new Map<string, string>();
  const fake = {
    kv, index: 10, memberId: 'm1', clusterToken: 'tok',
    status: () => ({ clusterId: 'c', memberId: 'm1', name: 'one', leaderId: 'm1', term: 2, commitIndex: fake.index, appliedIndex: fake.index, index: fake.index, version: VERSION }),
    members: () => [{ id: memberIdFor(['http://127.0.0.1:7001'], 'tok'), name: 'one', peerUrls: ['http://127.0.0.1:7001/'], clientUrls: [] }],
    voters: () => ['m1'],
    propose: async (c: { key: string; value: string }) => {
      const prev = kv.get(c.key);
      kv.set(c.key, c.value);
      fake.index++;
      return prev === undefined ? { index: fake.index } : { index: fake.index, prevValue: prev };
    },
    proposeConfChange: async () => ({ index: ++fake.index }),
    readBarrier: async () => fake.index,
    get: (key: string) => (kv.has(key) ? { value: kv.get(key)!, modifiedIndex: 11 } : undefined),
    transferLeader: () => { throw new MemberError(301, 'no leader', true); },
  };
  return fake;
}

const call = async (member: MemberApi, body: unknown, max = 1024 * 1024): Promise<unknown> => {
  const reply = await handleRpcText(member, typeof body === 'string' ? body : JSON.stringify(body), max);
  return reply === undefined ? undefined : JSON.parse(reply);
};

t.test('a set then a linearizable get return KvResult shapes', async (t) => {
  const m = fakeMember();
  const set = await call(m, { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/a', value: 'x' } }) as { result: { action: string; node: { value: string }; index: number } };
  t.equal(set.result.action, 'set');
  t.equal(set.result.node.value, 'x');
  t.equal(set.result.index, 11);
  const get = await call(m, { jsonrpc: '2.0', id: 'g', method: 'kv.get', params: { key: '/a' } }) as { id: string; result: { node: { value: string } } };
  t.equal(get.id, 'g');
  t.equal(get.result.node.value, 'x');
});

t.test('errors follow JSON-RPC 2.0', async (t) => {
  const m = fakeMember();
  t.match(await call(m, '{nope'), { id: null, error: { code: -32700 } }, 'parse error');
  t.match(await call(m, { id: 1, method: 'kv.get' }), { error: { code: -32600 } }, 'missing jsonrpc');
  t.match(await call(m, { jsonrpc: '2.0', id: 1, method: 'kv.nope' }), { error: { code: -32601 } }, 'unknown method');
  t.match(await call(m, []), { error: { code: -32600 } }, 'empty batch');
  t.match(await call(m, { jsonrpc: '2.0', id: 1, method: 'kv.get', params: [1] }), { error: { code: -32602 } }, 'positional params');
  const bad = await call(m, { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { value: 1, extra: true } }) as { error: { code: number; data: { errors: { field: string }[] } } };
  t.equal(bad.error.code, -32602);
  const fields = bad.error.data.errors.map((e) => e.field).sort();
  t.same(fields, ['extra', 'key', 'value'], 'each bad field is named');
  t.match(await call(m, { jsonrpc: '2.0', id: 1, method: 'kv.get', params: { key: '/missing' } }), { error: { code: 100, data: { retryable: false } } });
  t.match(await call(m, { jsonrpc: '2.0', id: 1, method: 'cluster.transferLeader', params: { id: 'x' } }), { error: { code: 301, data: { retryable: true } } });
});

t.test('batches answer each request in one array; notifications get no reply', async (t) => {
  const m = fakeMember();
  const replies = await call(m, [
    { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/b', value: 'y' } },
    { jsonrpc: '2.0', method: 'kv.set', params: { key: '/c', value: 'z' } },
    { jsonrpc: '2.0', id: 2, method: 'cluster.status' },
  ]) as { id: number }[];
  t.equal(replies.length, 2);
  t.same(replies.map((r) => r.id).sort(), [1, 2]);
  t.equal(m.kv.get('/c'), 'z', 'the notification still ran');
  t.equal(await call(m, { jsonrpc: '2.0', method: 'kv.set', params: { key: '/d', value: 'w' } }), undefined);
});

t.test('requests over --max-request-bytes are refused with -32600', async (t) => {
  const m = fakeMember();
  const big = { jsonrpc: '2.0', id: 1, method: 'kv.set', params: { key: '/big', value: 'v'.repeat(2000) } };
  t.match(await call(m, big, 1000), { error: { code: -32600 } });
  t.equal(m.kv.has('/big'), false, 'nothing was written');
});

t.test('cluster.addMember refuses a member that already exists', async (t) => {
  const m = fakeMember();
  const dup = await call(m, { jsonrpc: '2.0', id: 1, method: 'cluster.addMember', params: { peerUrls: ['http://127.0.0.1:7001'] } });
  t.match(dup, { error: { code: 105 } });
  t.match(await call(m, { jsonrpc: '2.0', id: 2, method: 'cluster.addMember', params: { peerUrls: ['ftp://x'] } }), { error: { code: -32602 } });
});
