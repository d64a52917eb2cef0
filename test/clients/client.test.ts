// CairnClient against scripted mock members: failover, retries with backoff, no re-sent
// writes after a lost connection, aborts, deadlines and a clean close.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { connect, isCairnError, ClientErrorCodes } from '../../clients/index.js';
import type { CairnClient, ConnectOptions } from '../../clients/index.js';
import { MockServer, deadEndpoint, kvEvent, noLeader, waitUntil } from './mock-server.js';

/** Keeps the endpoints in the order given and makes every jitter the full step. */
const inOrder = (): number => 0.999;

async function servers(t: Test, count: number): Promise<MockServer[]> {
  const list: MockServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await MockServer.start();
    t.teardown(() => server.close());
    server.on('kv.get', () => ({ result: { ...kvEvent(7), action: 'get', raftIndex: 1, raftTerm: 1 } }));
    list.push(server);
  }
  return list;
}

async function client(t: Test, options: ConnectOptions): Promise<CairnClient> {
  const c = await connect({ random: inOrder, retryBaseMs: 5, ...options });
  t.teardown(() => c.close());
  return c;
}

const codeOf = (error: unknown): number | undefined => (isCairnError(error) ? error.code : undefined);

t.test('fails over to the second endpoint when the first is down', async (t) => {
  const [live] = await servers(t, 1);
  const dead = await deadEndpoint();
  const c = await client(t, { endpoints: [dead, live!.url] });
  t.same(c.endpoints, [dead, live!.url], 'the dead endpoint was tried first');
  const got = await c.get('/k');
  t.equal(got.node.value, 'v7');
  t.equal(live!.calls('kv.get').length, 1);
});

t.test('a read is sent again to another member when its connection drops', async (t) => {
  const [a, b] = await servers(t, 2);
  a!.on('kv.get', () => 'drop');
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  const got = await c.get('/k');
  t.equal(got.node.value, 'v7', 'answered by the second member');
  t.equal(a!.calls('kv.get').length, 1);
  t.equal(b!.calls('kv.get').length, 1);
});

t.test('a write is not sent again after its connection dropped: 302, outcome unknown', async (t) => {
  const [a, b] = await servers(t, 2);
  a!.on('kv.set', () => 'drop');
  b!.on('kv.set', () => ({ result: kvEvent(9) }));
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  const error = await c.set('/k', 'x').then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), 302);
  t.ok(isCairnError(error) && error.retryable, '302 is retryable (after a read)');
  t.match((error as Error).message, /outcome is unknown/);
  t.equal(a!.calls('kv.set').length + b!.calls('kv.set').length, 1, 'sent exactly once');
  const after = await c.set('/k', 'y');
  t.equal(after.index, 9, 'the next write goes to the other member');
});

t.test('a member that stops answering pings is given up on; the read goes to another', async (t) => {
  const silent = await MockServer.start({ answerPings: false });
  t.teardown(() => silent.close());
  silent.on('kv.get', () => 'hang');
  const [b] = await servers(t, 1);
  const c = await client(t, { endpoints: [silent.url, b!.url], keepaliveMs: 30 });
  const got = await c.get('/k', { timeoutMs: 5_000 });
  t.equal(got.node.value, 'v7', 'answered by the member that is alive');
  t.equal(silent.calls('kv.get').length, 1);
  await waitUntil(() => silent.openSockets === 0, 'the silent socket to be closed');
});

t.test('301 is retried with exponential backoff, also for writes', async (t) => {
  const [a] = await servers(t, 1);
  let replies = 0;
  a!.on('kv.set', () => (++replies <= 3 ? noLeader : { result: kvEvent(3) }));
  const c = await client(t, { endpoints: [a!.url], retryBaseMs: 20, maxRetries: 5 });
  const result = await c.set('/k', 'v');
  t.equal(result.index, 3);
  const times = a!.calls('kv.set').map((r) => r.atMs);
  t.equal(times.length, 4, 'three refusals, then the answer');
  // With the jitter fixed at the full step, the waits are about 20, 40 and 80 ms.
  [20, 40, 80].forEach((stepMs, i) => {
    const gap = times[i + 1]! - times[i]!;
    t.ok(gap >= stepMs * 0.999 - 2, `wait ${i + 1} is ${gap} ms, at least ${stepMs} ms`);
  });
});

t.test('retries stop after maxRetries with the last error', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.set', () => noLeader);
  const c = await client(t, { endpoints: [a!.url], maxRetries: 2 });
  const error = await c.set('/k', 'v').then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), 301);
  t.equal(a!.calls('kv.set').length, 3, 'one attempt and two retries');
});

t.test('a non-retryable error is thrown at once with its data', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.get', () => ({ error: { code: 100, message: 'Key not found', data: { index: 12, retryable: false } } }));
  const c = await client(t, { endpoints: [a!.url] });
  const error = await c.get('/missing').then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), 100);
  t.match(error, { data: { index: 12 }, retryable: false });
  t.equal(a!.calls('kv.get').length, 1);
});

t.test('no endpoint reachable: 301 naming the endpoints, after the retries', async (t) => {
  const dead = [await deadEndpoint(), await deadEndpoint()];
  const error = await connect({ endpoints: dead, maxRetries: 1, retryBaseMs: 1, random: inOrder }).then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), 301);
  t.ok(isCairnError(error) && error.retryable);
  for (const endpoint of dead) t.match((error as Error).message, endpoint);
});

t.test('bad endpoints are refused before connecting', async (t) => {
  await t.rejects(connect({ endpoints: [] }), { code: -32602 });
  await t.rejects(connect({ endpoints: ['127.0.0.1:4001'] }), { code: -32602 });
});

t.test('an AbortSignal cancels a call; the client stays usable', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.watch', () => ({ result: { subscription: 's1', index: 3 } }));
  a!.on('unsubscribe', () => ({ result: { unsubscribed: true } }));
  const c = await client(t, { endpoints: [a!.url] });
  const controller = new AbortController();
  const pending = c.wait('/k', { signal: controller.signal });
  await waitUntil(() => a!.calls('kv.watch').length === 1, 'the wait to arrive');
  controller.abort();
  const error = await pending.then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), ClientErrorCodes.Aborted);
  t.equal((error as Error).name, 'AbortError');
  await waitUntil(() => a!.calls('unsubscribe').length === 1, 'the unsubscribe');
  t.match(a!.calls('unsubscribe')[0]!.params, { subscription: 's1' }, 'the aborted wait is withdrawn on the member');
  t.equal((await c.get('/k')).index, 7, 'the next call works');
  const early = new AbortController();
  early.abort();
  await t.rejects(c.get('/k', { signal: early.signal }), { code: 600 }, 'an aborted signal fails at once');
});

t.test('a call past its timeoutMs fails with 302', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.set', () => 'hang');
  const c = await client(t, { endpoints: [a!.url] });
  const error = await c.set('/k', 'v', { timeoutMs: 30 }).then(() => undefined, (e: unknown) => e);
  t.equal(codeOf(error), 302);
  t.match((error as Error).message, /within 30 ms/);
});

t.test('wait is a watch stream: the first event answers, progress does not, a timeout is null and unsubscribes', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.watch', (r) => ({ result: { subscription: `s${a!.calls('kv.watch').indexOf(r)}`, index: 3 } }));
  a!.on('unsubscribe', () => ({ result: { unsubscribed: true } }));
  const c = await client(t, { endpoints: [a!.url] });
  t.equal(await c.wait('/k', { waitIndex: 4, timeoutMs: 50 }), null);
  t.match(a!.calls('kv.watch')[0]!.params, { key: '/k', waitIndex: 4 });
  await waitUntil(() => a!.calls('unsubscribe').length === 1, 'the unsubscribe after the timeout');
  const pending = c.wait('/k', { recursive: true });
  await waitUntil(() => a!.calls('kv.watch').length === 2, 'the second wait');
  const socket = a!.calls('kv.watch')[1]!.socket;
  a!.notify(socket, 's1', { progress: 9 });
  a!.notify(socket, 's1', { action: 'set', node: { key: '/k/x', value: 'v', createdIndex: 10, modifiedIndex: 10 }, index: 10 });
  t.match(await pending, { action: 'set', index: 10 }, 'the first event, not the progress notice');
  t.match(a!.calls('kv.watch')[1]!.params, { key: '/k', recursive: true });
});

t.test('a malformed result is a 603 error, not a crash later', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.get', () => ({ result: { action: 'get' } }));
  const c = await client(t, { endpoints: [a!.url] });
  await t.rejects(c.get('/k'), { code: ClientErrorCodes.BadReply });
});

t.test('txn: only a read-only txn is sent again after a lost connection', async (t) => {
  const [a, b] = await servers(t, 2);
  a!.on('kv.txn', () => 'drop');
  b!.on('kv.txn', () => ({ result: { succeeded: true, results: [], index: 5 } }));
  const c = await client(t, { endpoints: [a!.url, b!.url] });
  const read = await c.txn({ compare: [], success: [{ get: { key: '/k' } }] });
  t.equal(read.index, 5);
  a!.on('kv.txn', () => 'drop');
  const c2 = await client(t, { endpoints: [a!.url, b!.url] });
  await t.rejects(c2.txn({ compare: [], success: [{ set: { key: '/k', value: 'v' } }] }), { code: 302 });
});

t.test('close() fails pending calls with 601, also one waiting to retry', async (t) => {
  const [a] = await servers(t, 1);
  a!.on('kv.get', () => 'hang');
  a!.on('kv.set', () => noLeader);
  const c = await connect({ endpoints: [a!.url], retryBaseMs: 10_000, maxRetries: 3, random: inOrder });
  const hanging = c.get('/k');
  const backingOff = c.set('/k', 'v', { timeoutMs: 60_000 });
  await waitUntil(() => a!.calls('kv.set').length === 1 && a!.calls('kv.get').length === 1, 'both calls to arrive');
  c.close();
  await t.rejects(hanging, { code: ClientErrorCodes.Closed });
  await t.rejects(backingOff, { code: ClientErrorCodes.Closed }, 'a call waiting to retry ends at once');
  await t.rejects(c.get('/k'), { code: ClientErrorCodes.Closed }, 'no call after close');
  await waitUntil(() => a!.openSockets === 0, 'the socket to close');
});

t.test('after close() nothing keeps the process alive', async (t) => {
  // The fixture leaves a call hanging, one backing off for 30 s and a watch open, then
  // closes the client: the process must exit by itself, long before that backoff ends.
  const fixture = fileURLToPath(new URL('./exit-fixture.js', import.meta.url));
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  t.teardown(() => { clearTimeout(killer); child.kill('SIGKILL'); });
  const [code, signal] = await once(child, 'exit') as [number | null, string | null];
  t.equal(signal, null, 'exited by itself, not killed after 10 s');
  t.equal(code, 0);
  t.match(output, /closed: get 601, set 601, watch ended/);
});
