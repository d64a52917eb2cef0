// cairnctl's runner in-process against mock members: what each command prints, the exit
// codes of failures, exec-watch's environment, and endpoint health/status per endpoint.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { runCli } from '../../clients/cairnctl/run.js';
import type { CliIo } from '../../clients/cairnctl/run.js';
import { MockServer, deadEndpoint, kvEvent, waitUntil } from './mock-server.js';

interface Run { code: number; out: string[]; err: string[] }

/** Starts one cairnctl run; `out` and `err` fill as it prints. */
function start(argv: string[], server: MockServer | string, extra: Partial<CliIo> = {}): { done: Promise<Run>; out: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const url = typeof server === 'string' ? server : server.url;
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { CAIRN_ENDPOINTS: url }, ...extra };
  return { done: runCli(argv, io).then((code) => ({ code, out, err })), out };
}

const cli = (argv: string[], server: MockServer | string, extra: Partial<CliIo> = {}): Promise<Run> =>
  start(argv, server, extra).done;

async function member(t: Test): Promise<MockServer> {
  const server = await MockServer.start();
  t.teardown(() => server.close());
  return server;
}

const kvResult = (extra: Record<string, unknown>): { result: unknown } =>
  ({ result: { action: 'set', node: { key: '/a', value: 'v1', createdIndex: 3, modifiedIndex: 3 }, index: 3, raftIndex: 9, raftTerm: 2, ...extra } });

t.test('set prints the value; -o json the result; -o extended a block', async (t) => {
  const m = await member(t);
  m.on('kv.set', () => kvResult({}));
  t.same(await cli(['set', '/a', 'v1'], m), { code: 0, out: ['v1'], err: [] });
  t.match(m.calls('kv.set')[0]!.params, { key: '/a', value: 'v1' });
  const json = await cli(['-o', 'json', 'set', '/a', 'v1'], m);
  t.match(JSON.parse(json.out[0]!), { action: 'set', node: { key: '/a' }, index: 3 });
  const extended = await cli(['set', '/a', 'v1', '--output', 'extended'], m);
  t.same(extended.out, ['Key: /a', 'Created-Index: 3', 'Modified-Index: 3', 'TTL: 0', 'Index: 3', '', 'v1']);
});

t.test('a server error exits 1 with "Error: <code>: <message>"', async (t) => {
  const m = await member(t);
  m.on('kv.get', () => ({ error: { code: 100, message: 'Key not found: /nope', data: { index: 4 } } }));
  t.same(await cli(['get', '/nope'], m), { code: 1, out: [], err: ['Error: 100: Key not found: /nope'] });
});

t.test('an unreachable cluster exits 1 naming the endpoint', async (t) => {
  const dead = await deadEndpoint();
  const run = await cli(['get', '/a', '--timeout', '2s'], dead);
  t.equal(run.code, 1);
  t.match(run.err[0], new RegExp(`^Error: 301: no endpoint reachable \\(tried ${dead}\\)`));
});

t.test('get on a directory, ls listings and rm', async (t) => {
  const m = await member(t);
  const tree = { key: '/d', dir: true, createdIndex: 2, modifiedIndex: 2, nodes: [
    { key: '/d/a', value: '1', createdIndex: 3, modifiedIndex: 3 },
    { key: '/d/e', dir: true, createdIndex: 4, modifiedIndex: 4, nodes: [{ key: '/d/e/f', value: '2', createdIndex: 5, modifiedIndex: 5 }] },
  ] };
  m.on('kv.get', () => kvResult({ action: 'get', node: tree }));
  t.same(await cli(['get', '/d'], m), { code: 1, out: [], err: ['Error: /d: is a directory'] });
  t.same((await cli(['ls', '/d', '--recursive'], m)).out, ['/d/a', '/d/e', '/d/e/f']);
  t.same((await cli(['ls', '-p', '/d', '--recursive'], m)).out, ['/d/a', '/d/e/', '/d/e/f']);
  m.on('kv.delete', () => kvResult({ action: 'delete', node: { key: '/a', createdIndex: 3, modifiedIndex: 6 }, prevNode: { key: '/a', value: 'old', createdIndex: 3, modifiedIndex: 3 } }));
  t.same((await cli(['rm', '/a'], m)).out, ['PrevNode.Value: old']);
  t.same((await cli(['rmdir', '/d'], m)).out, []);
});

t.test('member list, add and remove', async (t) => {
  const m = await member(t);
  const one = { id: 'aa', name: 'one', peerUrls: ['http://127.0.0.1:7001/'], clientUrls: ['http://127.0.0.1:4001/'], isLeader: true };
  const two = { id: 'bb', name: '', peerUrls: ['http://127.0.0.1:7002/'], clientUrls: [], isLeader: false };
  m.on('cluster.members', () => ({ result: { members: [one] } }));
  m.on('cluster.addMember', () => ({ result: { member: two, members: [one, two] } }));
  m.on('cluster.removeMember', () => ({ result: { members: [one] } }));
  t.same((await cli(['member', 'list'], m)).out,
    ['aa: name=one peerURLs=http://127.0.0.1:7001/ clientURLs=http://127.0.0.1:4001/ isLeader=true']);
  const added = await cli(['member', 'add', 'two', 'http://127.0.0.1:7002'], m);
  t.same(m.calls('cluster.addMember')[0]!.params, { peerUrls: ['http://127.0.0.1:7002'], name: 'two' });
  t.same(added.out, ['Added member named two with ID bb to cluster', '', 'CAIRN_NAME="two"',
    'CAIRN_INITIAL_CLUSTER="one=http://127.0.0.1:7001/,two=http://127.0.0.1:7002/"', 'CAIRN_INITIAL_CLUSTER_STATE="existing"']);
  t.same((await cli(['member', 'remove', 'bb'], m)).out, ['Removed member bb from cluster']);
});

t.test('watch prints the next change; --forever every change until stopped', async (t) => {
  const m = await member(t);
  m.on('kv.watch', () => ({ result: { subscription: 's', index: 10 } }));
  m.on('unsubscribe', () => ({ result: { unsubscribed: true } }));
  const once = cli(['watch', '/k', '--after-index', '4'], m);
  await waitUntil(() => m.calls('kv.watch').length === 1, 'the watch');
  t.equal(m.calls('kv.watch')[0]!.params['waitIndex'], 5);
  m.notify(m.calls('kv.watch')[0]!.socket, 's', kvEvent(11));
  m.notify(m.calls('kv.watch')[0]!.socket, 's', kvEvent(12));
  t.same(await once, { code: 0, out: ['v11'], err: [] });
  const stop = new AbortController();
  const forever = start(['watch', '--forever', '/k'], m, { signal: stop.signal });
  await waitUntil(() => m.calls('kv.watch').length === 2, 'the second watch');
  const socket = m.calls('kv.watch')[1]!.socket;
  m.notify(socket, 's', kvEvent(11));
  m.notify(socket, 's', { ...kvEvent(12, '/k', 'delete'), prevNode: { key: '/k', value: 'v11', createdIndex: 11, modifiedIndex: 11 } });
  await waitUntil(() => forever.out.length === 2, 'both events printed');
  stop.abort();
  t.same(await forever.done, { code: 0, out: ['v11', 'PrevNode.Value: v11'], err: [] });
});

t.test('exec-watch runs the command once per change with the etcdctl environment', async (t) => {
  const m = await member(t);
  m.on('kv.watch', () => ({ result: { subscription: 's', index: 10 } }));
  m.on('unsubscribe', () => ({ result: { unsubscribed: true } }));
  const file = join(tmpdir(), `cairnctl-exec-watch-${process.pid}.txt`);
  rmSync(file, { force: true });
  t.teardown(() => rmSync(file, { force: true }));
  const stop = new AbortController();
  const script = "require('fs').appendFileSync(process.argv[1], [process.env.ETCD_WATCH_ACTION, process.env.ETCD_WATCH_KEY, " +
    "process.env.ETCD_WATCH_VALUE, process.env.ETCD_WATCH_MODIFIED_INDEX].join(' ') + '\\n')";
  const run = cli(['exec-watch', '--recursive', '/k', '--', process.execPath, '-e', script, file], m, { signal: stop.signal });
  await waitUntil(() => m.calls('kv.watch').length === 1, 'the watch');
  t.match(m.calls('kv.watch')[0]!.params, { key: '/k', recursive: true });
  m.notify(m.calls('kv.watch')[0]!.socket, 's', kvEvent(11, '/k/a'));
  m.notify(m.calls('kv.watch')[0]!.socket, 's', kvEvent(12, '/k/b', 'update'));
  const lines = (): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);
  await waitUntil(() => lines().length === 2, 'two runs of the command', 10_000);
  stop.abort();
  t.same(await run, { code: 0, out: [], err: [] });
  t.same(lines(), ['set /k/a v11 11', 'update /k/b v12 12']);
});

t.test('endpoint health and status ask every endpoint; one down makes it exit 1', async (t) => {
  const m = await member(t);
  const dead = await deadEndpoint();
  m.on('cluster.status', () => ({ result: { clusterId: 'c', memberId: 'aa', name: 'one', leaderId: 'aa', term: 2, commitIndex: 9, appliedIndex: 9, index: 4, version: '0.1.0' } }));
  const health = await cli(['endpoint', 'health', '--endpoints', `${m.url},${dead}`], m);
  t.equal(health.code, 1);
  t.match(health.out, [new RegExp(`^${m.url} is healthy: took = \\d+ ms$`)]);
  t.match(health.err, [new RegExp(`^${dead} is unhealthy: `)]);
  const status = await cli(['endpoint', 'status', '--endpoints', `${m.url},${dead}`], m);
  t.equal(status.code, 1);
  t.same(status.out, [`${m.url}: memberId=aa name=one leaderId=aa isLeader=true term=2 index=4 commitIndex=9 appliedIndex=9 version=0.1.0`]);
  t.match(status.err, [new RegExp(`^Error: 301: .*${dead}`)]);
  t.same(await cli(['endpoint', 'status'], m), { code: 0, out: status.out, err: [] });
});
