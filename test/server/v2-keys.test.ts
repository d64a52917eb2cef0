// /v2/keys over real sockets with an in-process member: etcd 3.4's parameters, statuses,
// headers, bodies and errors (notes/etcd-v2.md), watches (long poll, stream, history, a client
// going away), redirects of unclean paths. The same API is compared with a real etcd in
// test/integration/v2-differential.test.ts.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import t from 'tap';
import type { Test } from 'tap';
import { startClientServer } from '../../server/client-server.js';
import { FakeMember } from './fake-member.js';

const LIMITS = { maxRequestBytes: 4096, maxInflight: 8, maxSubscriptions: 10, maxStreamBufferBytes: 1 << 20, maxConnections: 8 };

interface Reply { status: number; headers: IncomingHttpHeaders; text: string; json: Record<string, unknown> | undefined }

interface Server { member: FakeMember; send: (method: string, path: string, form?: string) => Promise<Reply>; port: number }

async function serve(t: Test, member = new FakeMember()): Promise<Server> {
  const server = await startClientServer(member, { host: '127.0.0.1', port: 0, ...LIMITS });
  t.teardown(() => server.close());
  const send = (method: string, path: string, form?: string): Promise<Reply> => new Promise((resolve, reject) => {
    const headers = form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) };
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try { json = JSON.parse(text) as Record<string, unknown>; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(form);
  });
  return { member, send, port: server.port };
}

t.test('set, create, update, compareAndSwap: actions, 201 vs 200, createdIndex, headers', async (t) => {
  const { send, member } = await serve(t);
  const first = await send('PUT', '/v2/keys/p1/a', 'value=hello');
  t.equal(first.status, 201, 'a set with no previous node is 201');
  t.equal(first.text, '{"action":"set","node":{"key":"/p1/a","value":"hello","modifiedIndex":1,"createdIndex":1}}\n', "etcd's bytes: field order and a newline");
  t.same([first.headers['x-etcd-index'], first.headers['x-raft-term'], first.headers['x-etcd-cluster-id'], first.headers['access-control-allow-origin']],
    ['1', '2', member.status().clusterId, '*'], 'X-Etcd-Index, X-Raft-Term, X-Etcd-Cluster-Id and CORS headers');
  t.ok(Number(first.headers['x-raft-index']) > 0, 'X-Raft-Index');

  const second = await send('PUT', '/v2/keys/p1/a', 'value=world');
  t.same([second.status, second.json?.node, (second.json?.prevNode as { value: string }).value],
    [200, { key: '/p1/a', value: 'world', modifiedIndex: 2, createdIndex: 2 }, 'hello'], 'a set over a key is 200, re-creates it, and carries prevNode');
  const update = await send('PUT', '/v2/keys/p1/a?prevExist=true', 'value=w3');
  t.same([update.status, update.json?.action, update.json?.node], [200, 'update', { key: '/p1/a', value: 'w3', modifiedIndex: 3, createdIndex: 2 }], 'update keeps createdIndex');
  const cas = await send('PUT', '/v2/keys/p1/a?prevValue=w3&prevIndex=3', 'value=w4');
  t.same([cas.status, cas.json?.action], [200, 'compareAndSwap'], 'compareAndSwap on value and index');
  const casExist = await send('PUT', '/v2/keys/p1/a?prevExist=true&prevIndex=4', 'value=w5');
  t.equal(casExist.json?.action, 'compareAndSwap', 'prevExist=true with prevIndex is a compareAndSwap');
  const create = await send('PUT', '/v2/keys/p1/b?prevExist=false&prevValue=ignored', 'value=new');
  t.same([create.status, create.json?.action], [201, 'create'], 'prevExist=false creates (prevValue ignored), 201');
  const body = await send('PUT', '/v2/keys/p1/c?value=query', 'value=body');
  t.equal((body.json?.node as { value: string }).value, 'body', 'the form body wins over the query');
  const quiet = await send('PUT', '/v2/keys/p1/c?noValueOnSuccess=true', 'value=v');
  t.equal(quiet.text, '{"action":"set"}\n', 'noValueOnSuccess leaves out node and prevNode');
  const dir = await send('PUT', '/v2/keys/d1?dir=true', 'value=ignored');
  t.same([dir.status, dir.json?.node], [201, { key: '/d1', dir: true, modifiedIndex: 9, createdIndex: 9 }], 'dir=true makes a directory, value ignored');
});

t.test('POST in-order keys, GET listings, HEAD, trailing slash, %2F, the root', async (t) => {
  const { send } = await serve(t);
  const job = await send('POST', '/v2/keys/q', 'value=job1');
  t.same([job.status, job.json?.action, (job.json?.node as { key: string }).key], [201, 'create', '/q/00000000000000000001'], 'POST: dir + 20-digit index');
  await send('PUT', '/v2/keys/q/_hidden', 'value=h');
  await send('PUT', '/v2/keys/q/sub/x', 'value=x');
  const list = await send('GET', '/v2/keys/q?sorted=true');
  t.same((list.json?.node as { nodes: unknown[] }).nodes, [
    { key: '/q/00000000000000000001', value: 'job1', modifiedIndex: 1, createdIndex: 1 },
    { key: '/q/sub', dir: true, modifiedIndex: 3, createdIndex: 3 },
  ], 'a sorted listing: hidden keys left out, sub-directories not expanded');
  const deep = await send('GET', '/v2/keys/q/?recursive=true&sorted=true');
  t.same(((deep.json?.node as { nodes: { nodes?: unknown[] }[] }).nodes[1]!.nodes), [{ key: '/q/sub/x', value: 'x', modifiedIndex: 3, createdIndex: 3 }], 'recursive expands, a trailing slash is stripped');
  const root = await send('GET', '/v2/keys/');
  t.same(Object.keys(root.json?.node as object), ['dir', 'nodes'], 'the root node has no key and no indexes');
  const head = await send('HEAD', '/v2/keys/q/sub/x');
  t.same([head.status, head.text, Number(head.headers['content-length']) > 0, head.headers['x-etcd-index']], [200, '', true, '3'], 'HEAD: headers only, with the would-be length');
  const slash = await send('PUT', '/v2/keys/a%2Fb', 'value=v');
  t.equal((slash.json?.node as { key: string }).key, '/a/b', '%2F is a slash');
  const space = await send('PUT', '/v2/keys/with%20space', 'value=v');
  t.equal((space.json?.node as { key: string }).key, '/with space', 'segments are URL-decoded');
});

t.test('unclean paths are redirected as Go\'s ServeMux does', async (t) => {
  const { send } = await serve(t);
  const dots = await send('GET', '/v2/keys/ts/c/../a?x=1');
  t.same([dots.status, dots.headers.location], [301, '/v2/keys/ts/a?x=1'], '.. → 301 to the clean path, query kept');
  const doubled = await send('PUT', '/v2/keys/ts//b', 'value=v');
  t.same([doubled.status, doubled.headers.location], [301, '/v2/keys/ts/b'], '// → 301');
});

t.test('request validation errors: etcd codes and causes, index 0, no X-Raft headers', async (t) => {
  const { send } = await serve(t);
  const cases: [string, string, string | undefined, number, string][] = [
    ['PUT', '/v2/keys/k?ttl=abc', 'value=v', 202, 'invalid value for "ttl"'],
    ['PUT', '/v2/keys/k?ttl=-1', 'value=v', 202, 'invalid value for "ttl"'],
    ['PUT', '/v2/keys/k?prevIndex=1.5', 'value=v', 203, 'invalid value for "prevIndex"'],
    ['GET', '/v2/keys/k?wait=true&waitIndex=abc', undefined, 203, 'invalid value for "waitIndex"'],
    ['GET', '/v2/keys/k?recursive=yes', undefined, 209, 'invalid value for "recursive"'],
    ['PUT', '/v2/keys/k?prevExist=maybe', 'value=v', 209, 'invalid value for prevExist'],
    ['PUT', '/v2/keys/k?refresh=2', 'value=v', 209, 'invalid value for refresh'],
    ['PUT', '/v2/keys/k?wait=true', 'value=v', 209, '"wait" can only be used with GET requests'],
    ['PUT', '/v2/keys/k?prevValue=', 'value=v', 201, '"prevValue" cannot be empty'],
    ['PUT', '/v2/keys/k?value=%zz', undefined, 210, 'invalid URL escape "%zz"'],
    ['PUT', '/v2/keys/k?refresh=true&ttl=5', 'value=v', 211, 'A value was provided on a refresh'],
    ['PUT', '/v2/keys/k?refresh=true', undefined, 212, 'No TTL value set'],
  ];
  for (const [method, path, form, code, cause] of cases) {
    const reply = await send(method, path, form);
    t.same([reply.status, reply.json?.errorCode, reply.json?.cause, reply.json?.index, reply.headers['x-etcd-index'], reply.headers['x-raft-index']],
      [400, code, cause, 0, '0', undefined], `${method} ${path}: ${code}`);
  }
  const emptyTtl = await send('PUT', '/v2/keys/k?ttl=', 'value=v');
  t.equal(emptyTtl.status, 201, 'an empty ttl means no TTL, not an error');
  const patch = await send('PATCH', '/v2/keys/k');
  t.same([patch.status, patch.headers.allow, patch.text], [405, 'HEAD,GET,PUT,POST,DELETE', 'Method Not Allowed\n'], '405 with Allow');
  const unknown = await send('GET', '/v2/foo');
  t.same([unknown.status, unknown.text], [404, '404 page not found\n'], 'unknown /v2 path');
  const auth = await send('GET', '/v2/auth/enable');
  t.same([auth.status, auth.json], [200, { enabled: false }], 'v2 auth is off');
  const options = await send('OPTIONS', '/v2/keys/k');
  t.same([options.status, options.text, options.headers['access-control-allow-methods']], [200, '', 'POST, GET, OPTIONS, PUT, DELETE'], 'OPTIONS (CORS preflight)');
});

t.test('store errors: HTTP status per code, cause and the current index', async (t) => {
  const { send } = await serve(t);
  await send('PUT', '/v2/keys/f', 'value=file');
  await send('PUT', '/v2/keys/d/x', 'value=x');
  const cases: [string, string, string | undefined, number, number, string | undefined][] = [
    ['GET', '/v2/keys/nope1/deeper/x', undefined, 404, 100, '/nope1'],
    ['PUT', '/v2/keys/f?prevValue=nope', 'value=v', 412, 101, '[nope != file]'],
    ['PUT', '/v2/keys/d', 'value=v', 403, 102, '/d'],
    ['DELETE', '/v2/keys/d', undefined, 403, 102, '/d'],
    ['PUT', '/v2/keys/f/under', 'value=v', 400, 104, '/f'],
    ['PUT', '/v2/keys/f?prevExist=false', 'value=v', 412, 105, '/f'],
    ['PUT', '/v2/keys/', 'value=v', 400, 107, '/'],
    ['DELETE', '/v2/keys/d?dir=true', undefined, 403, 108, '/d'],
    ['DELETE', '/v2/keys/?prevValue=x', undefined, 403, 102, undefined],
  ];
  for (const [method, path, form, status, code, cause] of cases) {
    const reply = await send(method, path, form);
    t.same([reply.status, reply.json?.errorCode, reply.json?.cause, reply.json?.index, reply.headers['x-etcd-index']], [status, code, cause, 2, '2'], `${method} ${path}: ${status} ${code}`);
  }
});

t.test('deletes: conditions from the query only, the body is ignored as etcd ignores it', async (t) => {
  const { send } = await serve(t);
  await send('PUT', '/v2/keys/k', 'value=v');
  const bodyIgnored = await send('DELETE', '/v2/keys/k', 'prevValue=WRONG');
  t.same([bodyIgnored.status, bodyIgnored.json?.action, bodyIgnored.json?.node], [200, 'delete', { key: '/k', modifiedIndex: 2, createdIndex: 1 }], 'DELETE body ignored: an unconditional delete, no value in node');
  await send('PUT', '/v2/keys/k', 'value=v');
  const cad = await send('DELETE', '/v2/keys/k?prevValue=v');
  t.same([cad.status, cad.json?.action], [200, 'compareAndDelete'], 'compareAndDelete from the query');
  await send('PUT', '/v2/keys/tree/a/b', 'value=v');
  const recursive = await send('DELETE', '/v2/keys/tree?recursive=true');
  t.same([recursive.status, (recursive.json?.node as { dir: boolean }).dir], [200, true], 'recursive delete of a tree');
});

t.test('TTL and refresh: expiration in Go\'s format, ttl rounded up, refresh unwatched', async (t) => {
  const { send, member } = await serve(t);
  member.nowMs = Date.UTC(2026, 10, 21, 19, 21, 15, 60);
  const set = await send('PUT', '/v2/keys/t', 'value=v&ttl=40');
  const node = set.json?.node as { expiration: string; ttl: number };
  t.equal(node.expiration, '2026-11-21T19:21:55.06Z', 'RFC 3339, trailing zeros dropped as Go does');
  t.ok(node.ttl >= 1 && node.ttl <= 40, `ttl in seconds (${node.ttl})`);
  const watch = send('GET', '/v2/keys/t?wait=true');
  await waitFor(() => member.watchHub.size === 1);
  const refresh = await send('PUT', '/v2/keys/t?refresh=true&prevExist=true', 'ttl=60');
  t.same([refresh.json?.action, refresh.json?.refresh, (refresh.json?.node as { value: string }).value], ['update', undefined, 'v'], 'refresh keeps the value (and, as etcd 3.4, says nothing of refresh)');
  member.tickClock(member.nowMs + 120_000);
  const expired = await watch;
  t.same([expired.json?.action, (expired.json?.node as { key: string }).key], ['expire', '/t'], 'the watcher saw the expiry, not the refresh');
});

t.test('watches: history, long poll, stream, a client going away, history cleared', async (t) => {
  const { send, member, port } = await serve(t, new FakeMember(5));
  await send('PUT', '/v2/keys/w/a', 'value=1');
  await send('PUT', '/v2/keys/w/a', 'value=2');
  const past = await send('GET', '/v2/keys/w?wait=true&recursive=true&waitIndex=1');
  t.same([(past.json?.node as { value: string }).value, past.headers['x-etcd-index']], ['1', '2'], 'a past waitIndex answers at once with the first event at or after it');

  const poll = send('GET', '/v2/keys/w/a?wait=true');
  await waitFor(() => member.watchHub.size === 1);
  await send('PUT', '/v2/keys/w/a', 'value=3');
  const live = await poll;
  t.same([(live.json?.node as { value: string }).value, live.headers['x-etcd-index']], ['3', '2'], 'a long poll: the next event; X-Etcd-Index is the index at registration');

  const lines: string[] = [];
  const streaming = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/keys/w?wait=true&recursive=true&stream=true&waitIndex=3' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        lines.push(...chunk.split('\n').filter((l) => l !== ''));
        if (lines.length >= 3) { req.destroy(); resolve(); }
      });
    });
    req.on('error', (e) => (lines.length >= 3 ? resolve() : reject(e)));
    req.end();
  });
  await waitFor(() => member.watchHub.size === 1);
  await send('PUT', '/v2/keys/w/b', 'value=4');
  await send('PUT', '/v2/keys/w/a', 'value=5');
  await streaming;
  t.same(lines.map((l) => (JSON.parse(l) as { node: { value: string } }).node.value), ['3', '4', '5'], 'a stream: the history from waitIndex, then live, one line each');
  await waitFor(() => member.watchHub.size === 0);
  t.equal(member.watchHub.size, 0, 'the client going away removed its watcher');

  for (let i = 0; i < 5; i++) await send('PUT', '/v2/keys/other', `value=${i}`);
  const cleared = await send('GET', '/v2/keys/w?wait=true&waitIndex=1');
  t.same([cleared.status, cleared.json?.errorCode, cleared.json?.cause, cleared.json?.index], [400, 401, 'the requested history has been cleared [6/1]', 10], '401 as HTTP 400, with the oldest retained index');
});

t.test('no leader: writes and quorum reads are 500/300; a plain GET is still served locally', async (t) => {
  const { send, member } = await serve(t);
  await send('PUT', '/v2/keys/k', 'value=v');
  member.leaderId = '';
  const write = await send('PUT', '/v2/keys/k', 'value=w');
  t.same([write.status, write.json?.errorCode, write.json?.message, write.json?.index], [500, 300, 'Raft Internal Error', 0], 'a write: 500, errorCode 300');
  const quorum = await send('GET', '/v2/keys/k?quorum=true');
  t.same([quorum.status, quorum.json?.errorCode], [500, 300], 'a quorum read: 500, errorCode 300');
  const local = await send('GET', '/v2/keys/k');
  t.same([local.status, (local.json?.node as { value: string }).value], [200, 'v'], 'a plain GET: local');
  const waitQuorum = await send('GET', '/v2/keys/k?wait=true&quorum=true');
  t.equal(waitQuorum.json?.errorCode, 300, 'wait=true&quorum=true is a quorum GET, not a watch');
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
