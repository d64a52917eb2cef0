// watch() and subscribe() against scripted mock members: resume after a dropped connection
// with no gap and no repeat, 401 handling (resume, then re-read as action `get`), progress
// marks, buffer overflow, abort and break.
import t from 'tap';
import type { Test } from 'tap';
import { connect } from '../../clients/index.js';
import type { CairnClient, KvEvent } from '../../clients/index.js';
import { MockServer, kvEvent, waitUntil } from './mock-server.js';

const inOrder = (): number => 0.999;
const cleared = { error: { code: 401, message: 'event index cleared', data: { index: 50 } } };

/** A member whose kv.watch starts stream `w<n>` at store index `startIndex`. */
async function watchServer(t: Test, startIndex = 10, options: { refuseGrouped?: boolean } = {}): Promise<MockServer> {
  const server = await MockServer.start(options);
  t.teardown(() => server.close());
  server.on('kv.watch', (r) => ({ result: { subscription: `w${server.calls('kv.watch').indexOf(r)}`, index: startIndex } }));
  server.on('unsubscribe', () => ({ result: { unsubscribed: true } }));
  return server;
}

async function client(t: Test, ...members: MockServer[]): Promise<CairnClient> {
  const c = await connect({ endpoints: members.map((m) => m.url), random: inOrder, retryBaseMs: 5 });
  t.teardown(() => c.close());
  return c;
}

/** Pulls events from `iterator` into `into` until told to stop (by a break or an end). */
function collect(iterator: AsyncIterator<KvEvent>, into: KvEvent[]): Promise<unknown> {
  return (async () => {
    for (;;) {
      const item = await iterator.next();
      if (item.done === true) return undefined;
      into.push(item.value);
    }
  })().catch((error: unknown) => error);
}

t.test('events arrive in order; progress advances the resume point without yielding', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const watch = c.watch('/k', { recursive: true, progressMs: 100 });
  const seen: KvEvent[] = [];
  const done = collect(watch[Symbol.asyncIterator](), seen);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the watch');
  const request = a.calls('kv.watch')[0]!;
  t.same(request.params, { key: '/k', recursive: true, progressMs: 100 }, 'no waitIndex: from now');
  a.notify(request.socket, 'w0', kvEvent(11));
  a.notify(request.socket, 'w0', { progress: 20 });
  await waitUntil(() => seen.length === 1 && watch.nextIndex === 21, 'the event and the progress mark');
  t.same(seen.map((e) => e.index), [11]);
  watch.close();
  t.equal(await done, undefined, 'close() ends the iteration without error');
  await waitUntil(() => a.calls('unsubscribe').length === 1, 'the unsubscribe');
});

t.test('after a dropped connection it resumes at lastIndex + 1: no gap, no repeat', async (t) => {
  const a = await watchServer(t);
  const b = await watchServer(t);
  const c = await client(t, a, b);
  const watch = c.watch('/k', { waitIndex: 5 });
  const seen: KvEvent[] = [];
  const done = collect(watch[Symbol.asyncIterator](), seen);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the first stream');
  const first = a.calls('kv.watch')[0]!;
  t.equal(first.params['waitIndex'], 5);
  a.notify(first.socket, 'w0', kvEvent(5));
  a.notify(first.socket, 'w0', kvEvent(6));
  await waitUntil(() => seen.length === 2, 'two events');
  a.dropAll();
  await waitUntil(() => b.calls('kv.watch').length === 1, 'the stream on the other member');
  const second = b.calls('kv.watch')[0]!;
  t.equal(second.params['waitIndex'], 7, 'resumed at the last index + 1');
  // A member that sends an already delivered event again is not followed into a repeat.
  for (const index of [6, 7, 8]) b.notify(second.socket, 'w0', kvEvent(index));
  await waitUntil(() => seen.length === 4, 'the resumed events');
  t.same(seen.map((e) => e.index), [5, 6, 7, 8]);
  watch.close();
  await done;
});

t.test('without a waitIndex, a resume before any event starts after the first stream\'s index', async (t) => {
  const a = await watchServer(t, 30);
  const c = await client(t, a);
  const watch = c.watch('/k');
  const done = collect(watch[Symbol.asyncIterator](), []);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the first stream');
  a.dropAll();
  await waitUntil(() => a.calls('kv.watch').length === 2, 'the second stream');
  t.equal(a.calls('kv.watch')[1]!.params['waitIndex'], 31);
  watch.close();
  await done;
});

t.test('401: resume at lastIndex + 1 first; if that is refused, re-read as action get', async (t) => {
  const a = await watchServer(t);
  a.on('kv.get', () => ({ result: { action: 'get', node: { key: '/k', dir: true, nodes: [], createdIndex: 1, modifiedIndex: 1 }, index: 60, raftIndex: 70, raftTerm: 2 } }));
  const c = await client(t, a);
  const watch = c.watch('/k', { waitIndex: 8, recursive: true });
  const seen: KvEvent[] = [];
  const done = collect(watch[Symbol.asyncIterator](), seen);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the first stream');
  const first = a.calls('kv.watch')[0]!;
  a.notify(first.socket, 'w0', kvEvent(8));
  a.endStream(first.socket, 'w0', cleared.error);
  await waitUntil(() => a.calls('kv.watch').length === 2, 'the resume');
  t.equal(a.calls('kv.watch')[1]!.params['waitIndex'], 9, 'first a plain resume');
  a.on('kv.watch', (r) => (r.params['waitIndex'] === 61
    ? { result: { subscription: 'w-after', index: 60 } }
    : cleared));
  a.endStream(a.calls('kv.watch')[1]!.socket, 'w1', cleared.error);
  await waitUntil(() => a.calls('kv.get').length === 1, 'the re-read');
  t.same(a.calls('kv.get')[0]!.params, { key: '/k', recursive: true }, 're-read as recursive as the watch');
  await waitUntil(() => a.calls('kv.watch').some((r) => r.params['waitIndex'] === 61), 'the watch after the re-read');
  t.same(seen.map((e) => [e.action, e.index]), [['set', 8], ['get', 60]]);
  t.equal(seen[1]!.node.dir, true, 'the re-read carries the current state');
  watch.close();
  await done;
});

t.test('a waitIndex older than the history is refused at once: re-read', async (t) => {
  const a = await watchServer(t);
  a.on('kv.watch', (r) => (r.params['waitIndex'] === 2 ? cleared : { result: { subscription: 'w', index: 40 } }));
  a.on('kv.get', () => ({ error: { code: 100, message: 'Key not found', data: { index: 40 } } }));
  const c = await client(t, a);
  const watch = c.watch('/gone', { waitIndex: 2 });
  const iterator = watch[Symbol.asyncIterator]();
  const first = await iterator.next();
  t.match(first.value, { action: 'get', index: 40, node: { key: '/gone', createdIndex: 0 } }, 'a missing key re-reads as a node without value');
  t.notOk('value' in (first.value as KvEvent).node);
  const second = iterator.next(); // The watch is pulled by its consumer: it goes on now.
  await waitUntil(() => a.calls('kv.watch').length === 2, 'the watch after the re-read');
  t.equal(a.calls('kv.watch')[1]!.params['waitIndex'], 41);
  watch.close();
  t.same(await second, { done: true, value: undefined });
});

t.test('overflow: beyond maxBuffered it unsubscribes, then resumes after the last yielded event', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const watch = c.watch('/k', { waitIndex: 1, maxBuffered: 3 });
  const iterator = watch[Symbol.asyncIterator]();
  const firstItem = iterator.next();
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the stream');
  const first = a.calls('kv.watch')[0]!;
  // The first event is handed over before the rest are sent. Sent together, they could
  // reach the client with the reply that starts the stream, before the watch waits on it,
  // and then the fourth, not the fifth, would overflow (a CI run hung on that once).
  a.notify(first.socket, 'w0', kvEvent(1));
  const indexes = [(await firstItem).value as KvEvent];
  for (let index = 2; index <= 6; index++) a.notify(first.socket, 'w0', kvEvent(index));
  await waitUntil(() => a.calls('unsubscribe').length === 1, 'the overflow unsubscribe');
  t.same(a.calls('unsubscribe')[0]!.params, { subscription: 'w0' });
  for (let i = 0; i < 3; i++) indexes.push((await iterator.next()).value as KvEvent);
  t.same(indexes.map((e) => e.index), [1, 2, 3, 4], 'one handed over at once, three buffered');
  const next = iterator.next();
  await waitUntil(() => a.calls('kv.watch').length === 2, 'the resume');
  t.equal(a.calls('kv.watch')[1]!.params['waitIndex'], 5);
  a.notify(a.calls('kv.watch')[1]!.socket, 'w1', kvEvent(5));
  t.equal(((await next).value as KvEvent).index, 5);
  watch.close();
});

t.test('aborting the signal ends the watch with an AbortError and unsubscribes', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const controller = new AbortController();
  const watch = c.watch('/k', { signal: controller.signal });
  const done = collect(watch[Symbol.asyncIterator](), []);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the stream');
  controller.abort();
  t.match(await done, { name: 'AbortError', code: 600 });
  await waitUntil(() => a.calls('unsubscribe').length === 1, 'the unsubscribe');
});

t.test('breaking out of for await unsubscribes', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const feeder = waitUntil(() => a.calls('kv.watch').length === 1, 'the stream')
    .then(() => a.notify(a.calls('kv.watch')[0]!.socket, 'w0', kvEvent(11)));
  for await (const event of c.watch('/k')) {
    t.equal(event.index, 11);
    break;
  }
  await feeder;
  await waitUntil(() => a.calls('unsubscribe').length === 1, 'the unsubscribe');
  t.same(a.calls('unsubscribe')[0]!.params, { subscription: 'w0' });
});

t.test('closing the client ends a watch quietly, also while it backs off', async (t) => {
  const a = await watchServer(t);
  a.on('kv.watch', () => ({ error: { code: 301, message: 'no leader', data: { retryable: true } } }));
  const c = await client(t, a);
  const done = collect(c.watch('/k')[Symbol.asyncIterator](), []);
  await waitUntil(() => a.calls('kv.watch').length >= 2, 'a retry');
  c.close();
  t.equal(await done, undefined);
});

t.test('a non-retryable refusal ends the watch with that error', async (t) => {
  const a = await watchServer(t);
  a.on('kv.watch', () => ({ error: { code: -32602, message: 'invalid params' } }));
  const c = await client(t, a);
  t.match(await collect(c.watch('')[Symbol.asyncIterator](), []), { code: -32602 });
});

t.test('subscribe(): raw results in order, notifications sent before the reply included, final error thrown', async (t) => {
  const a = await watchServer(t);
  a.on('election.observe', (r) => {
    a.notify(r.socket, 's1', { leader: 'early' }); // Pushed before the reply is sent.
    return { result: { subscription: 's1' } };
  });
  const c = await client(t, a);
  const sub = await c.subscribe<{ leader: string }>('election.observe', { name: 'e' });
  t.same(sub.started, { subscription: 's1' });
  a.notify(a.calls('election.observe')[0]!.socket, 's1', { leader: 'x' });
  a.endStream(a.calls('election.observe')[0]!.socket, 's1', { code: 300, message: 'stopping', data: { retryable: true } });
  const got: string[] = [];
  const error = await (async () => {
    for await (const item of sub) got.push(item.leader);
  })().catch((e: unknown) => e);
  t.same(got, ['early', 'x']);
  t.match(error, { code: 300, retryable: true });
});

t.test('notifications batched in one frame (a JSON-RPC array) reach each stream in order', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const first = c.watch('/k');
  const second = c.watch('/k');
  const seenFirst: KvEvent[] = [];
  const seenSecond: KvEvent[] = [];
  const doneFirst = collect(first[Symbol.asyncIterator](), seenFirst);
  const doneSecond = collect(second[Symbol.asyncIterator](), seenSecond);
  await waitUntil(() => a.calls('kv.watch').length === 2, 'both watches');
  const socket = a.calls('kv.watch')[0]!.socket;
  t.match(a.calls('kv.watch')[0]!.url, /[?&]notifications=grouped(&|$)/, 'the client asks for batches, grouped');
  const note = (subscription: string, index: number): unknown => ({ jsonrpc: '2.0', method: 'subscription', params: { subscription, result: kvEvent(index) } });
  socket.send(JSON.stringify([note('w0', 11), note('w1', 11), note('w0', 12), note('w1', 12)]));
  await waitUntil(() => seenFirst.length === 2 && seenSecond.length === 2, 'two events on each stream');
  t.same(seenFirst.map((e) => e.index), [11, 12]);
  t.same(seenSecond.map((e) => e.index), [11, 12]);
  first.close();
  second.close();
  t.equal(await doneFirst, undefined);
  t.equal(await doneSecond, undefined);
});

t.test('one grouped notification for several streams reaches each, and each gets its own copy', async (t) => {
  const a = await watchServer(t);
  const c = await client(t, a);
  const watches = [c.watch('/k'), c.watch('/k'), c.watch('/k')];
  const seen: KvEvent[][] = [[], [], []];
  const done = watches.map((w, i) => collect(w[Symbol.asyncIterator](), seen[i]!));
  await waitUntil(() => a.calls('kv.watch').length === 3, 'three watches');
  const socket = a.calls('kv.watch')[0]!.socket;
  const grouped = (ids: string[], index: number): unknown => ({ jsonrpc: '2.0', method: 'subscription', params: { subscriptions: ids, result: kvEvent(index) } });
  const single = (id: string, index: number): unknown => ({ jsonrpc: '2.0', method: 'subscription', params: { subscription: id, result: kvEvent(index) } });
  socket.send(JSON.stringify([grouped(['w0', 'w1', 'w2'], 11), single('w1', 12), grouped(['w0', 'w2'], 12)]));
  await waitUntil(() => seen.every((s) => s.length === 2), 'two events on each stream');
  t.same(seen.map((s) => s.map((e) => e.index)), [[11, 12], [11, 12], [11, 12]], 'each stream, in order');
  t.same(seen[1]![0], kvEvent(11), 'the event as sent');
  seen[0]![0]!.node.value = 'changed by one consumer';
  t.equal(seen[1]![0]!.node.value, 'v11', 'another stream\'s event is not the same object');
  t.equal(seen[2]![0]!.node.value, 'v11');
  for (const w of watches) w.close();
  t.same(await Promise.all(done), [undefined, undefined, undefined]);
});

t.test('a member that does not know notifications=grouped is connected to with notifications=batch', async (t) => {
  const a = await watchServer(t, 10, { refuseGrouped: true });
  const c = await client(t, a);
  const w = c.watch('/k');
  const seen: KvEvent[] = [];
  const done = collect(w[Symbol.asyncIterator](), seen);
  await waitUntil(() => a.calls('kv.watch').length === 1, 'the watch');
  t.match(a.calls('kv.watch')[0]!.url, /[?&]notifications=batch(&|$)/);
  a.notify(a.calls('kv.watch')[0]!.socket, 'w0', kvEvent(11));
  await waitUntil(() => seen.length === 1, 'the event');
  t.equal(seen[0]!.index, 11);
  w.close();
  t.equal(await done, undefined);
});

t.test('a grouped result with a "__proto__" key reaches every stream as an own property', async (t) => {
  const a = await watchServer(t);
  let n = 0;
  a.on('election.observe', () => ({ result: { subscription: `s${++n}` } }));
  const c = await client(t, a);
  const subs = [await c.subscribe<Record<string, unknown>>('election.observe', { name: 'e' }), await c.subscribe<Record<string, unknown>>('election.observe', { name: 'e' })];
  const socket = a.calls('election.observe')[0]!.socket;
  socket.send('{"jsonrpc":"2.0","method":"subscription","params":{"subscriptions":["s1","s2"],"result":{"__proto__":{"polluted":true},"list":[{"a":1}]}}}');
  const got = await Promise.all(subs.map(async (s) => (await s.next()).value as Record<string, unknown>));
  for (const [i, item] of got.entries()) {
    t.ok(Object.prototype.hasOwnProperty.call(item, '__proto__'), `stream ${i + 1}: an own property`);
    t.equal(Object.getPrototypeOf(item), Object.prototype, `stream ${i + 1}: the prototype is untouched`);
    t.equal((item as { polluted?: unknown }).polluted, undefined);
  }
  t.same(got[1]!['list'], [{ a: 1 }]);
  t.not(got[1]!['list'], got[0]!['list'], 'arrays are copied too');
  for (const s of subs) s.close();
});
