// Black-box tests of cairnctl (dist/clients/cairnctl/main.js, run as a process) against a
// real 3-member cluster: what each kv command prints and its exit code, etcdctl's flags
// (--sort, --recursive, -p, --swap-with-*, --with-*, --in-order, --ttl), -o json and
// extended, watch and exec-watch, member list, endpoint health and status, CAIRN_ENDPOINTS,
// usage errors (exit 2) and an unreachable endpoint (exit 1). Every process it starts is
// killed at teardown; every wait is bounded.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { connect } from '../../clients/index.js';
import type { KvResult } from '../../clients/index.js';
import { freePort } from './processes.js';
import { startCluster, waitFor } from './kv-helpers.js';

const CTL = fileURLToPath(new URL('../../clients/cairnctl/main.js', import.meta.url));
const kv = await startCluster(t);
const urls = kv.members.map((m) => m.clientUrl);
const ENDPOINTS = urls.join(',');
const client = await connect({ endpoints: urls });
const children = new Set<ChildProcess>();
t.teardown(() => {
  client.close();
  for (const child of children) child.kill('SIGKILL');
});

/**
 * The environment of a run: this process's, without CAIRN_ENDPOINTS, plus `extra`; without
 * NODE_OPTIONS too, so the test runner's loaders do not slow every cairnctl start.
 */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env['NODE_OPTIONS'];
  if (extra['CAIRN_ENDPOINTS'] === undefined) delete env['CAIRN_ENDPOINTS'];
  return env;
}

interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
interface Running { child: ChildProcess; stdout(): string; stderr(): string; exited: Promise<Finished> }

/** Starts cairnctl with `args` (after --endpoints for the cluster unless `endpoints` is false). */
function start(args: readonly string[], options: { endpoints?: boolean; env?: Record<string, string> } = {}): Running {
  const argv = options.endpoints === false ? args : ['--endpoints', ENDPOINTS, ...args];
  const child = spawn(process.execPath, [CTL, ...argv], { env: envWith(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for a started cairnctl to exit, killing it after `timeoutMs`. */
async function finish(run: Running, timeoutMs = 15_000): Promise<Finished> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`cairnctl ${run.child.spawnargs.slice(2).join(' ')} still running after ${timeoutMs} ms; stdout ${JSON.stringify(run.stdout())}, stderr ${JSON.stringify(run.stderr())}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs cairnctl to its end: exit code, stdout, stderr. */
async function ctl(args: readonly string[], options: { endpoints?: boolean; env?: Record<string, string> } = {}, timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await finish(start(args, options), timeoutMs);
  return { code, stdout, stderr };
}

/**
 * [exit code, stdout, the error code of a one-line `Error: <code>: <message>` on stderr (or
 * stderr itself when it is not that)], for one exact comparison.
 */
async function outcome(args: readonly string[]): Promise<[number | null, string, string]> {
  const r = await ctl(args);
  return [r.code, r.stdout, /^Error: (-?\d+): [^\n]+\n$/.exec(r.stderr)?.[1] ?? r.stderr];
}

const ok = (stdout: string): [number, string, string] => [0, stdout, ''];
const failed = (code: number): [number, string, string] => [1, '', String(code)];
const json = async (args: readonly string[]): Promise<KvResult> => JSON.parse((await ctl(['-o', 'json', ...args])).stdout) as KvResult;

t.test('set, get, update, mk and mkdir: output and exit codes', async (t) => {
  t.same(await outcome(['set', '/ctl/a', '1']), ok('1\n'), 'set prints the value');
  t.same(await outcome(['get', '/ctl/a']), ok('1\n'), 'get prints the value');
  t.same(await outcome(['update', '/ctl/a', '2']), ok('2\n'), 'update of an existing key');
  t.same(await outcome(['update', '/ctl/nope', 'x']), failed(100), 'update of a missing key: 100');
  t.same(await outcome(['mk', '/ctl/b', 'x']), ok('x\n'), 'mk of a new key');
  t.same(await outcome(['mk', '/ctl/b', 'y']), failed(105), 'mk of an existing key: 105');
  t.same(await outcome(['mkdir', '/ctl/d']), ok(''), 'mkdir prints nothing');
  t.same(await outcome(['mkdir', '/ctl/d']), failed(105), 'mkdir of an existing directory: 105');
  t.same(await outcome(['get', '/ctl/d']), [1, '', 'Error: /ctl/d: is a directory\n'], 'get of a directory');
  const missing = await ctl(['get', '/ctl/missing']);
  t.same([missing.code, missing.stdout], [1, ''], 'get of a missing key: exit 1');
  t.match(missing.stderr, /^Error: 100: [^\n]*\/ctl\/missing[^\n]*\n$/, 'one line "Error: 100: …" naming the key');
  t.same([(await client.get('/ctl/a')).node.value, (await client.get('/ctl/b')).node.value], ['2', 'x'], 'what cairnctl wrote is what the client reads');
});

t.test('set --swap-with-value and --swap-with-index: compareAndSwap, or exit 1 with Error: 101', async (t) => {
  await client.set('/ctl/s', '1');
  t.same(await outcome(['set', '--swap-with-value', '1', '/ctl/s', '2']), ok('2\n'), 'the value matches: swapped');
  const failure = await ctl(['set', '--swap-with-value', '1', '/ctl/s', '3']);
  t.same([failure.code, failure.stdout], [1, ''], 'the value does not match: exit 1, nothing on stdout');
  t.match(failure.stderr, /^Error: 101: [^\n]+\n$/, `one line "Error: 101: …" on stderr (${failure.stderr.trim()})`);
  const now = await client.get('/ctl/s');
  t.same([now.node.value, now.action], ['2', 'get'], 'the failed swap changed nothing');
  t.same(await outcome(['set', '--swap-with-index', String(now.node.modifiedIndex + 1), '/ctl/s', '4']), failed(101), 'a stale index: 101');
  t.same(await outcome(['set', '--swap-with-index', String(now.node.modifiedIndex), '/ctl/s', '4']), ok('4\n'), 'the current index: swapped');
  t.equal((await client.get('/ctl/s')).node.value, '4');
});

t.test('ls: --sort, -p, --recursive; hidden keys are not listed', async (t) => {
  for (const [key, value] of [['/ls/b', '1'], ['/ls/a', '2'], ['/ls/dir/c', '3'], ['/ls/_hidden', '4']] as const) await client.set(key, value);
  t.same(await outcome(['ls', '--sort', '/ls']), ok('/ls/a\n/ls/b\n/ls/dir\n'), 'sorted, one level');
  t.same(await outcome(['ls', '--sort', '-p', '/ls']), ok('/ls/a\n/ls/b\n/ls/dir/\n'), '-p: a slash after directories');
  t.same(await outcome(['ls', '--recursive', '--sort', '-p', '/ls']), ok('/ls/a\n/ls/b\n/ls/dir/\n/ls/dir/c\n'), '--recursive: depth first');
  const unsorted = await ctl(['ls', '/ls']);
  t.same([unsorted.code, unsorted.stdout.split('\n').sort()], [0, ['', '/ls/a', '/ls/b', '/ls/dir']], 'without --sort: the same entries');
  t.same(await outcome(['ls', '/ls/a']), ok('/ls/a\n'), 'a key lists itself');
  const root = await ctl(['ls', '--sort']);
  t.same([root.code, ['/ctl', '/ls'].every((k) => root.stdout.split('\n').includes(k))], [0, true], 'no key: the root');
  t.same(await outcome(['ls', '/ls/none']), failed(100), 'a missing directory: 100');
});

t.test('rm: a key, --dir, --recursive, --with-value, --with-index; rmdir', async (t) => {
  t.same(await outcome(['rm', '/ls/a']), ok('PrevNode.Value: 2\n'), 'rm of a key prints its old value');
  t.same(await outcome(['rm', '/ls/dir']), failed(102), 'rm of a directory without --dir: 102');
  t.same(await outcome(['rm', '--dir', '/ls/dir']), failed(108), 'rm --dir of a non-empty directory: 108');
  t.same(await outcome(['rm', '--recursive', '/ls/dir']), ok(''), 'rm --recursive removes it');
  t.equal(await client.get('/ls/dir/c').then(() => 0, (e: { code?: number }) => e.code), 100, 'and what was below it');
  t.same(await outcome(['rm', '--with-value', 'wrong', '/ls/b']), failed(101), '--with-value that does not match: 101');
  t.same(await outcome(['rm', '--with-value', '1', '/ls/b']), ok('PrevNode.Value: 1\n'), '--with-value that matches: compareAndDelete');
  const c = await client.set('/ls/c', '5');
  t.same(await outcome(['rm', '--with-index', String(c.index + 1), '/ls/c']), failed(101), '--with-index that does not match: 101');
  t.same(await outcome(['rm', '--with-index', String(c.index), '/ls/c']), ok('PrevNode.Value: 5\n'), '--with-index that matches');
  await client.set('/ls/e', undefined, { dir: true });
  t.same(await outcome(['rm', '--dir', '/ls/e']), ok(''), 'rm --dir of an empty directory');
  await client.set('/ls/e', undefined, { dir: true });
  t.same(await outcome(['rmdir', '/ls/e']), ok(''), 'rmdir of an empty directory');
  t.equal(await client.get('/ls/e').then(() => 0, (e: { code?: number }) => e.code), 100, 'it is gone');
  t.same(await outcome(['rmdir', '/ls']), failed(108), 'rmdir of a non-empty directory (a hidden key counts): 108');
});

t.test('-o json prints the KvResult; -o extended the etcdctl block', async (t) => {
  const result = await json(['get', '/ctl/a']);
  const direct = await client.get('/ctl/a');
  t.same([result.action, result.node, result.index], [direct.action, direct.node, direct.index], 'the same result as the client library reads');
  t.ok(Number.isSafeInteger(result.raftIndex) && Number.isSafeInteger(result.raftTerm) && result.raftTerm > 0, 'with raftIndex and raftTerm');
  const written = await json(['set', '/ctl/j', 'jv']);
  t.same([written.action, written.node.key, written.node.value, written.node.modifiedIndex], ['set', '/ctl/j', 'jv', written.index], 'set: action set, node at its index');
  const extended = await ctl(['-o', 'extended', 'get', '/ctl/j']);
  t.same(extended, {
    code: 0, stderr: '',
    stdout: `Key: /ctl/j\nCreated-Index: ${written.index}\nModified-Index: ${written.index}\nTTL: 0\nIndex: ${written.index}\n\njv\n`,
  }, 'extended: key, indexes, TTL, index, then the value');
});

t.test('mk --in-order creates in-order keys', async (t) => {
  t.same(await outcome(['mk', '--in-order', '/queue', 'job1']), ok('job1\n'), 'prints the value');
  const second = await json(['mk', '--in-order', '/queue', 'job2']);
  t.same([second.action, second.node.key, second.node.value], ['create', `/queue/${String(second.index).padStart(20, '0')}`, 'job2'],
    'the key is the directory plus its index in 20 digits');
  const listed = await ctl(['ls', '--sort', '/queue']);
  const keys = listed.stdout.split('\n').filter((l) => l !== '');
  t.same([keys.length, keys[1], keys[0]! < keys[1]!], [2, second.node.key, true], 'ls --sort lists them in creation order');
});

t.test('set --ttl 1: the key expires (watch --after-index prints the expiry)', async (t) => {
  const set = await json(['set', '--ttl', '1', '/ctl/ttl', 'short-lived']);
  t.same([set.node.ttl, typeof set.node.expiration], [1, 'string'], 'ttl 1 and an expiration');
  const watched = await ctl(['-o', 'json', 'watch', '--after-index', String(set.index), '/ctl/ttl'], {}, 10_000);
  const event = JSON.parse(watched.stdout) as KvResult;
  t.same([watched.code, event.action, event.node.key, event.prevNode?.value, event.index > set.index], [0, 'expire', '/ctl/ttl', 'short-lived', true],
    'the next change is its expiry; watch prints it and exits 0');
  t.same(await outcome(['get', '/ctl/ttl']), failed(100), 'the key is gone');
});

t.test('watch --after-index N prints the change at N + 1 and exits; --forever prints every change', async (t) => {
  const first = await client.set('/ctl/w', 'v1');
  const second = await client.set('/ctl/w', 'v2');
  t.equal(second.index, first.index + 1, 'two changes in a row');
  t.same(await outcome(['watch', '--after-index', String(first.index), '/ctl/w']), ok('v2\n'), 'the value of the change at N + 1');
  t.same(await outcome(['watch', '--after-index', String(first.index - 1), '/ctl/w']), ok('v1\n'), 'after-index is exclusive');

  const from = (await client.status()).index;
  const forever = start(['watch', '--forever', '--recursive', '--after-index', String(from), '/ctl/fw']);
  for (const [key, value] of [['/ctl/fw/a', 'A'], ['/ctl/fw/b', 'B'], ['/ctl/fw/a', 'A2']]) await client.set(key!, value);
  await waitFor(`three lines from watch --forever (have ${JSON.stringify(forever.stdout())})`, 10_000,
    async () => (forever.stdout().split('\n').length > 3 ? true : undefined), 20);
  forever.child.kill('SIGTERM');
  const done = await finish(forever, 5_000);
  // SIGTERM stops cairnctl cleanly (its stream is unsubscribed): exit code 0, not death by signal.
  t.same([done.stdout, done.stderr, done.code, done.signal], ['A\nB\nA2\n', '', 0, null], 'each change in order until stopped');
});

t.test('exec-watch runs the command once per change with the ETCD_WATCH_* environment', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cairnctl-exec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'events.jsonl');
  const script = "require('node:fs').appendFileSync(process.argv[1], JSON.stringify(['ACTION', 'KEY', 'VALUE', 'MODIFIED_INDEX']" +
    ".map((n) => process.env['ETCD_WATCH_' + n])) + '\\n')";
  const from = (await client.status()).index;
  const watcher = start(['exec-watch', '--recursive', '--after-index', String(from), '/ctl/ew', '--', process.execPath, '-e', script, file]);
  const a = await client.set('/ctl/ew/a', '1');
  const b = await client.set('/ctl/ew/b', '2');
  const gone = await client.delete('/ctl/ew/a');
  await client.set('/ctl/other', 'not watched');
  const lines = async (): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  await waitFor('three runs of the command', 15_000, async () => ((await lines()).length >= 3 ? true : undefined), 50);
  watcher.child.kill('SIGTERM');
  const done = await finish(watcher, 5_000);
  t.same((await lines()).map((l) => JSON.parse(l) as string[]), [
    ['set', '/ctl/ew/a', '1', String(a.index)],
    ['set', '/ctl/ew/b', '2', String(b.index)],
    ['delete', '/ctl/ew/a', '', String(gone.index)],
  ], 'one run per change, in order, with action, key, value and modified index');
  t.same([done.code, done.signal, done.stderr], [0, null, ''], 'it ran until stopped by SIGTERM, then exited cleanly');
});

t.test('member list: the three members, exactly one leader', async (t) => {
  await kv.electLeader();
  const listed = await ctl(['member', 'list']);
  const rows = listed.stdout.split('\n').filter((l) => l !== '').map((line) =>
    /^([0-9a-f]+): name=(m\d) peerURLs=(\S+) clientURLs=(\S+) isLeader=(true|false)$/.exec(line)?.slice(1) ?? [line]);
  const expected = (await client.members()).members.map((m) => [m.id, m.name, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLeader)]);
  t.same([listed.code, listed.stderr, rows], [0, '', expected], 'one line per member, as cluster.members says');
  t.same(rows.map((r) => r[1]).sort(), ['m1', 'm2', 'm3'], 'm1, m2 and m3');
  t.same(rows.filter((r) => r[4] === 'true').map((r) => r[1]), [kv.leader.name], 'isLeader=true for the leader only');
  for (const m of kv.members) {
    const row = rows.find((r) => r[1] === m.name);
    t.same([row?.[2], row?.[3]].map((u) => (u === undefined ? u : new URL(u).href)), [new URL(m.peerUrl).href, new URL(m.clientUrl).href], `${m.name}'s URLs`);
  }
  const asJson = JSON.parse((await ctl(['-o', 'json', 'member', 'list'])).stdout) as { members: unknown[] };
  t.equal(asJson.members.length, 3, '-o json: the members result');
});

t.test('endpoint health and endpoint status, for every endpoint', async (t) => {
  await kv.electLeader();
  const health = await ctl(['endpoint', 'health']);
  t.same([health.code, health.stderr], [0, ''], 'all healthy: exit 0');
  t.same(health.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/took = \d+ ms$/, 'took = N ms')),
    urls.map((u) => `${u} is healthy: took = N ms`), 'one line per endpoint, in order');

  const status = await ctl(['endpoint', 'status']);
  t.same([status.code, status.stderr], [0, ''], 'exit 0');
  const rows = status.stdout.split('\n').filter((l) => l !== '').map((line) =>
    /^(\S+): memberId=(\w+) name=(m\d) leaderId=(\w+) isLeader=(true|false) term=\d+ index=\d+ commitIndex=\d+ appliedIndex=\d+ version=\S+$/.exec(line)?.slice(1) ?? [line]);
  t.same(rows.map((r) => [r[0], r[2]]), kv.members.map((m) => [m.clientUrl, m.name]), 'each endpoint answered for its own member');
  t.same([...new Set(rows.map((r) => r[3]))].length, 1, 'all report the same leader');
  t.same(rows.filter((r) => r[4] === 'true').map((r) => r[2]), [kv.leader.name], 'isLeader=true on the leader only');

  const dead = `http://127.0.0.1:${await freePort()}`;
  const partial = await ctl(['--endpoints', `${ENDPOINTS},${dead}`, 'endpoint', 'health'], { endpoints: false });
  t.same([partial.code, partial.stdout.split('\n').filter((l) => l.includes('is healthy')).length], [1, 3], 'one endpoint down: exit 1, the others healthy');
  t.match(partial.stderr, new RegExp(`^${dead} is unhealthy: .+\\n$`), 'the dead one named on stderr');
});

t.test('CAIRN_ENDPOINTS stands in for --endpoints; --endpoints wins', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const viaEnv = await ctl(['get', '/ctl/a'], { endpoints: false, env: { CAIRN_ENDPOINTS: ENDPOINTS } });
  t.same(viaEnv, { code: 0, stdout: '2\n', stderr: '' }, 'the cluster from CAIRN_ENDPOINTS');
  const deadEnv = await ctl(['get', '/ctl/a'], { endpoints: false, env: { CAIRN_ENDPOINTS: dead } });
  t.same([deadEnv.code, deadEnv.stderr.includes(dead)], [1, true], 'a dead endpoint in CAIRN_ENDPOINTS is the one tried');
  const flagWins = await ctl(['--endpoints', urls[1]!, 'get', '/ctl/a'], { endpoints: false, env: { CAIRN_ENDPOINTS: dead } });
  t.same(flagWins, { code: 0, stdout: '2\n', stderr: '' }, '--endpoints over CAIRN_ENDPOINTS');
});

t.test('a usage error exits 2; an unreachable endpoint exits 1 naming it', async (t) => {
  const usage = async (args: string[]): Promise<[number | null, string, string]> => {
    const r = await ctl(args);
    return [r.code, r.stdout, r.stderr.split('\n')[0]!];
  };
  t.same(await usage(['frobnicate']), [2, '', 'Error: unknown command "frobnicate"'], 'an unknown command');
  t.same(await usage(['set', '/only-a-key']), [2, '', 'Error: missing <value>'], 'a missing argument');
  t.same(await usage(['-o', 'yaml', 'get', '/ctl/a']), [2, '', 'Error: --output: "yaml" is not simple, extended or json'], 'a bad output format');
  t.same(await usage(['set', '--ttl', 'soon', '/k', 'v']), [2, '', 'Error: --ttl: "soon" is not a whole number'], 'a bad ttl');
  t.same((await ctl(['get', '--bogus', '/ctl/a'])).code, 2, 'an unknown option');
  t.equal(await client.get('/only-a-key').then(() => 0, (e: { code?: number }) => e.code), 100, 'nothing was written by a usage error');

  const port = await freePort();
  const dead = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const unreachable = await ctl(['--endpoints', dead, 'get', '/ctl/a'], { endpoints: false });
  t.same([unreachable.code, unreachable.stdout], [1, ''], 'exit 1, nothing on stdout');
  t.match(unreachable.stderr, new RegExp(`^Error: 301: no endpoint reachable \\(tried ${dead}\\): ${dead}: .*ECONNREFUSED.*\\n$`),
    `one line naming the endpoint (${unreachable.stderr.trim()})`);
  t.ok(Date.now() - started < 8_000, 'within the default 5 s timeout and a process start');
});
