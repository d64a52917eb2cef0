// The client joins the requests of one event-loop turn into one JSON-RPC batch frame:
// against a mock member that records each batch, with replies still matched by id.
import t from 'tap';
import type { Test } from 'tap';
import { connect } from '../../clients/index.js';
import type { CairnClient } from '../../clients/index.js';
import { MAX_BATCH_CHARS, MAX_BATCH_REQUESTS } from '../../clients/request-batch.js';
import { MockServer, kvEvent } from './mock-server.js';

async function setup(t: Test): Promise<{ server: MockServer; c: CairnClient }> {
  const server = await MockServer.start();
  t.teardown(() => server.close());
  // Each reply names the key it was for, so a mixed-up match would show.
  const answer = (action: string) => (r: { params: Record<string, unknown> }) =>
    ({ result: { ...kvEvent(1, String(r.params['key']), action), raftIndex: 1, raftTerm: 1 } });
  server.on('kv.get', answer('get')).on('kv.set', answer('set'));
  server.on('cluster.status', () => ({ result: { clusterId: 'c1', memberId: 'm1', name: 'm1', leaderId: 'm1', term: 1, commitIndex: 1, appliedIndex: 1, index: 1, version: 'test' } }));
  const c = await connect({ endpoints: [server.url] });
  t.teardown(() => c.close());
  // Whatever the client sent to connect is not part of the tests' counts.
  server.requests.length = 0;
  server.batches.length = 0;
  return { server, c };
}

t.test('the writes of one turn leave in one batch frame, and each gets its own reply', async (t) => {
  const { server, c } = await setup(t);
  const keys = Array.from({ length: 10 }, (_, i) => `/batch/${i}`);
  const results = await Promise.all(keys.map((key) => c.set(key, 'v')));
  t.same(results.map((r) => r.node.key), keys, 'every caller got the reply to its own request');
  t.same(server.batches, [10], 'one frame held all ten');
});

t.test('a request alone in its turn is sent as itself, not as a batch of one', async (t) => {
  const { server, c } = await setup(t);
  t.equal((await c.get('/alone')).node.key, '/alone');
  t.same(server.batches, []);
  t.equal(server.requests.length, 1);
});

t.test('a method that is not a key read or write goes in its own frame, first', async (t) => {
  const { server, c } = await setup(t);
  const [status, ...gets] = await Promise.all([c.status(), c.get('/a'), c.get('/b'), c.get('/c')]);
  t.equal(status.memberId, 'm1');
  t.same(gets.map((g) => g.node.key), ['/a', '/b', '/c']);
  t.same(server.batches, [3], 'the three gets were joined, the status was not');
  t.same(server.requests.map((r) => r.method), ['cluster.status', 'kv.get', 'kv.get', 'kv.get'], 'frames left in the order sent');
});

t.test(`a batch holds at most ${MAX_BATCH_REQUESTS} requests`, async (t) => {
  const { server, c } = await setup(t);
  const count = MAX_BATCH_REQUESTS + 72;
  const results = await Promise.all(Array.from({ length: count }, (_, i) => c.get(`/many/${i}`)));
  t.equal(results.length, count);
  t.same(server.batches, [MAX_BATCH_REQUESTS, 72]);
});

t.test(`a batch stays under ${MAX_BATCH_CHARS} characters: large requests go alone`, async (t) => {
  const { server, c } = await setup(t);
  const value = 'x'.repeat(Math.ceil(MAX_BATCH_CHARS * 0.6));
  const results = await Promise.all([c.set('/big/1', value), c.set('/big/2', value), c.set('/big/3', value)]);
  t.same(results.map((r) => r.node.key), ['/big/1', '/big/2', '/big/3']);
  t.same(server.batches, [], 'no two of them fit in one frame');
  t.equal(server.requests.length, 3);
});
