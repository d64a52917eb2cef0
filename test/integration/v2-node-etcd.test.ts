// The npm client node-etcd 7 (its callback API only) against a 3-member cairn through the etcd
// v2 HTTP API, talking to one follower-or-leader member: set/get/del, mkdir/rmdir,
// compareAndSwap, create (in-order POST), TTL and expiry, a watcher emitting `change`, and
// etcd errors as node-etcd surfaces them (errorCode, cause, index). V2_TARGET=etcd runs the
// same assertions against etcd 3.4. Every wait is bounded; the watcher is stopped at teardown.
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import t from 'tap';
import { waitFor } from './processes.js';
import { startV2Target } from './v2-targets.js';

interface V2Node {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  ttl?: number;
  expiration?: string;
  createdIndex: number;
  modifiedIndex: number;
}
interface V2Body { action: string; node: V2Node; prevNode?: V2Node }
interface EtcdErrorBody { errorCode: number; message: string; cause?: string; index: number }
type EtcdError = Error & { errorCode?: number; error?: EtcdErrorBody };
type Headers = Record<string, string | undefined>;
type Callback = (err: EtcdError | null, body: V2Body, headers: Headers) => void;
type Options = Record<string, string | number | boolean>;
interface Watcher extends EventEmitter { stop(): void }
/** The part of node-etcd's (untyped) API these tests use. */
interface NodeEtcd {
  set(key: string, value: string, options: Options, cb: Callback): void;
  get(key: string, options: Options, cb: Callback): void;
  del(key: string, options: Options, cb: Callback): void;
  mkdir(dir: string, options: Options, cb: Callback): void;
  rmdir(dir: string, options: Options, cb: Callback): void;
  compareAndSwap(key: string, value: string, oldValue: string, options: Options, cb: Callback): void;
  create(dir: string, value: string, options: Options, cb: Callback): void;
  raw(method: string, path: string, value: string | null, options: Options, cb: Callback): void;
  watcher(key: string, index?: number | null, options?: Options): Watcher;
}
const Etcd = createRequire(import.meta.url)('node-etcd') as new (hosts: string[], options?: object) => NodeEtcd;

const target = await startV2Target(t, 3);
const etcd = new Etcd([target.clientUrls[1]!]);
const watchers = new Set<Watcher>();
t.teardown(() => {
  for (const w of watchers) w.stop();
});

interface Answer { err: EtcdError | null; body: V2Body; headers: Headers }

/** Calls one node-etcd method, resolving with what its callback got (bounded: 10 s). */
function call(what: string, invoke: (cb: Callback) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node-etcd ${what}: no callback within 10 s`)), 10_000);
    invoke((err, body, headers) => {
      clearTimeout(timer);
      resolve({ err, body, headers });
    });
  });
}

/** The body of a call that must succeed. */
async function body(what: string, invoke: (cb: Callback) => void): Promise<V2Body> {
  const a = await call(what, invoke);
  if (a.err !== null) throw new Error(`node-etcd ${what} failed: ${a.err.message} ${JSON.stringify(a.err.error)}`);
  return a.body;
}

/** The etcd error body of a call that must fail with one. */
async function etcdError(what: string, invoke: (cb: Callback) => void): Promise<EtcdErrorBody & { errorCodeProp: number | undefined }> {
  const a = await call(what, invoke);
  if (a.err?.error === undefined) throw new Error(`node-etcd ${what}: expected an etcd error, got ${a.err?.message ?? JSON.stringify(a.body)}`);
  return { ...a.err.error, errorCodeProp: a.err.errorCode };
}

t.test('set, get, del: actions, values, indexes', async (t) => {
  const created = await body('set', (cb) => etcd.set('/ne/a', '1', {}, cb));
  t.same([created.action, created.node.key, created.node.value, created.prevNode], ['set', '/ne/a', '1', undefined], 'set of a new key');
  t.equal(created.node.createdIndex, created.node.modifiedIndex);
  const replaced = await body('set', (cb) => etcd.set('/ne/a', '2', {}, cb));
  t.same([replaced.node.value, replaced.prevNode?.value], ['2', '1'], 'set over a key: prevNode is the old one');
  t.ok(replaced.node.createdIndex > created.node.createdIndex, 'a plain set re-creates the key (new createdIndex)');
  const got = await call('get', (cb) => etcd.get('/ne/a', {}, cb));
  t.same([got.err, got.body.action, got.body.node.value, got.body.node.modifiedIndex], [null, 'get', '2', replaced.node.modifiedIndex]);
  t.ok(Number(got.headers['x-etcd-index']) >= replaced.node.modifiedIndex, 'X-Etcd-Index is the store index');
  const deleted = await body('del', (cb) => etcd.del('/ne/a', {}, cb));
  t.same([deleted.action, deleted.node.key, deleted.node.value, deleted.prevNode?.value], ['delete', '/ne/a', undefined, '2'], 'del: no value on the node');
  const missing = await etcdError('get', (cb) => etcd.get('/ne/a', {}, cb));
  t.same([missing.errorCodeProp, missing.errorCode, missing.message, missing.cause], [100, 100, 'Key not found', '/ne/a'], 'gone');
  t.equal(missing.index, deleted.node.modifiedIndex, 'the error index is the current index');
});

t.test('mkdir, rmdir, recursive sorted get', async (t) => {
  const dir = await body('mkdir', (cb) => etcd.mkdir('/ne/d', {}, cb));
  t.same([dir.action, dir.node.key, dir.node.dir], ['set', '/ne/d', true], 'mkdir');
  await body('set', (cb) => etcd.set('/ne/d/b', 'B', {}, cb));
  await body('set', (cb) => etcd.set('/ne/d/a/x', 'X', {}, cb));
  const listing = await body('get', (cb) => etcd.get('/ne/d', { recursive: true, sorted: true }, cb));
  const shape = (n: V2Node): unknown => ({ key: n.key, value: n.value, dir: n.dir, nodes: n.nodes?.map(shape) });
  t.same(shape(listing.node), {
    key: '/ne/d', value: undefined, dir: true, nodes: [
      { key: '/ne/d/a', value: undefined, dir: true, nodes: [{ key: '/ne/d/a/x', value: 'X', dir: undefined, nodes: undefined }] },
      { key: '/ne/d/b', value: 'B', dir: undefined, nodes: undefined },
    ],
  }, 'sorted recursive listing');
  const notEmpty = await etcdError('rmdir', (cb) => etcd.rmdir('/ne/d', {}, cb));
  t.same([notEmpty.errorCode, notEmpty.cause], [108, '/ne/d'], 'rmdir of a non-empty dir: 108');
  const gone = await body('rmdir recursive', (cb) => etcd.rmdir('/ne/d', { recursive: true }, cb));
  t.same([gone.action, gone.node.key, gone.node.dir], ['delete', '/ne/d', true], 'rmdir recursive');
  await body('mkdir', (cb) => etcd.mkdir('/ne/e', {}, cb));
  t.same((await body('rmdir', (cb) => etcd.rmdir('/ne/e', {}, cb))).action, 'delete', 'rmdir of an empty dir');
});

t.test('compareAndSwap and create (in-order POST)', async (t) => {
  await body('set', (cb) => etcd.set('/ne/cas', 'old', {}, cb));
  const swapped = await body('compareAndSwap', (cb) => etcd.compareAndSwap('/ne/cas', 'new', 'old', {}, cb));
  t.same([swapped.action, swapped.node.value, swapped.prevNode?.value], ['compareAndSwap', 'new', 'old']);
  const failed = await etcdError('compareAndSwap', (cb) => etcd.compareAndSwap('/ne/cas', 'x', 'old', {}, cb));
  t.same([failed.errorCode, failed.message, failed.cause], [101, 'Compare failed', '[old != new]'], 'a stale value: 101');
  const exists = await etcdError('set prevExist=false', (cb) => etcd.set('/ne/cas', 'x', { prevExist: false }, cb));
  t.same([exists.errorCode, exists.cause], [105, '/ne/cas'], 'create of an existing key: 105');
  const first = await body('create', (cb) => etcd.create('/ne/q', 'job1', {}, cb));
  const second = await body('create', (cb) => etcd.create('/ne/q', 'job2', {}, cb));
  t.same([first.action, first.node.value, second.node.value], ['create', 'job1', 'job2']);
  t.equal(first.node.key, `/ne/q/${String(first.node.createdIndex).padStart(20, '0')}`, 'the key is the 20-digit index');
  t.ok(second.node.key > first.node.key, 'in-order keys increase');
  const list = await body('get sorted', (cb) => etcd.get('/ne/q', { sorted: true }, cb));
  t.same(list.node.nodes?.map((n) => n.value), ['job1', 'job2'], 'a sorted listing is the queue order');
});

t.test('ttl: shown while it lasts, then the key expires', async (t) => {
  const long = await body('set ttl', (cb) => etcd.set('/ne/ttl', 'v', { ttl: 100 }, cb));
  t.ok(long.node.ttl !== undefined && long.node.ttl > 95 && long.node.ttl <= 100, `ttl ${long.node.ttl} is about 100`);
  t.match(long.node.expiration ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'expiration: RFC3339 in UTC');
  const permanent = await body('set', (cb) => etcd.set('/ne/ttl', 'w', {}, cb));
  t.same([permanent.node.ttl, permanent.node.expiration], [undefined, undefined], 'a set without ttl makes it permanent');
  await body('set ttl=1', (cb) => etcd.set('/ne/short', 'v', { ttl: 1 }, cb));
  const expired = await waitFor('/ne/short to expire', 10_000, async () => {
    const a = await call('get', (cb) => etcd.get('/ne/short', {}, cb));
    return a.err?.errorCode === 100 ? a.err : undefined;
  }, 200);
  t.equal(expired.error?.cause, '/ne/short', 'a ttl=1 key is gone within 10 s: 100');
});

t.test('a watcher emits change for a set and for a delete', async (t) => {
  const start = await call('get', (cb) => etcd.get('/ne/', {}, cb));
  // From the index after the current one: the writes below are seen however late the watch registers.
  const watcher = etcd.watcher('/ne/w', Number(start.headers['x-etcd-index']) + 1);
  watchers.add(watcher);
  const seen: V2Body[] = [];
  watcher.on('change', (event: V2Body) => seen.push(event));
  const set = await body('set', (cb) => etcd.set('/ne/w', 'hello', {}, cb));
  await waitFor('the watcher to emit the set', 10_000, async () => (seen.length >= 1 ? true : undefined), 20);
  t.same([seen[0]?.action, seen[0]?.node.value, seen[0]?.node.modifiedIndex], ['set', 'hello', set.node.modifiedIndex], 'change: the set');
  const del = await body('del', (cb) => etcd.del('/ne/w', {}, cb));
  await waitFor('the watcher to emit the delete', 10_000, async () => (seen.length >= 2 ? true : undefined), 20);
  t.same([seen[1]?.action, seen[1]?.node.modifiedIndex], ['delete', del.node.modifiedIndex], 'change: the delete, watching on from the last index');
  watcher.stop();
  watchers.delete(watcher);
});

t.test('raw requests and errors', async (t) => {
  await body('set', (cb) => etcd.set('/ne/file', 'f', {}, cb));
  const raw = await body('raw GET', (cb) => etcd.raw('GET', 'v2/keys/ne/file', null, {}, cb));
  t.same([raw.action, raw.node.value], ['get', 'f'], 'raw GET of a key');
  const deep = await etcdError('get', (cb) => etcd.get('/ne/nope1/deeper/x', {}, cb));
  t.same([deep.errorCode, deep.message, deep.cause], [100, 'Key not found', '/ne/nope1'], '100: the cause is the first missing component');
  const notDir = await etcdError('set under a file', (cb) => etcd.set('/ne/file/sub', 'x', {}, cb));
  t.same([notDir.errorCode, notDir.message, notDir.cause], [104, 'Not a directory', '/ne/file'], '104 under a file');
  const notFile = await etcdError('set on a dir', (cb) => etcd.set('/ne', 'x', {}, cb));
  t.same([notFile.errorCode, notFile.message, notFile.cause], [102, 'Not a file', '/ne'], '102 on a dir');
  const badTtl = await etcdError('raw PUT ttl=abc', (cb) => etcd.raw('PUT', 'v2/keys/ne/file', 'x', { ttl: 'abc' }, cb));
  t.same([badTtl.errorCode, badTtl.cause, badTtl.index], [202, 'invalid value for "ttl"', 0], '202, index 0');
  const root = await etcdError('raw PUT root', (cb) => etcd.raw('PUT', 'v2/keys/', 'x', {}, cb));
  t.same([root.errorCode, root.message, root.cause], [107, 'Root is read only', '/'], '107 on the root');
});
