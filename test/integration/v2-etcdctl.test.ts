// Debian's etcdctl 3.4 (ETCDCTL_API=2, /usr/bin/etcdctl) against a 3-member cairn through the
// etcd v2 HTTP API: what set/get/mk/mkdir/update/rm/rmdir/ls/watch/member list/
// cluster-health print and their exit codes (etcdctl exits 4 on an etcd error). With
// V2_TARGET=etcd the same assertions run against a 3-member etcd 3.4, to check the test.
// Every etcdctl run is bounded in time and killed at teardown.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import t from 'tap';
import type { Test } from 'tap';
import { ETCDCTL_BIN, cleanEnv, killChild, requireBinary } from './etcd-reference.js';
import { rawRequest } from './v2-compare.js';
import { startV2Target } from './v2-targets.js';

requireBinary(ETCDCTL_BIN);
const target = await startV2Target(t, 3);
// A member that need not be the leader: etcdctl syncs the member list through it first.
const ENDPOINT = target.clientUrls[1]!;
const children = new Set<ChildProcess>();
t.teardown(async () => {
  await Promise.all([...children].map((c) => killChild(c)));
});

interface Run { code: number | null; stdout: string; stderr: string }

/** Starts etcdctl (v2 API) on ENDPOINT; `done` resolves when it exits, or rejects after `timeoutMs`. */
function start(args: readonly string[], timeoutMs = 15_000): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(ETCDCTL_BIN, ['--endpoints', ENDPOINT, ...args], { env: cleanEnv({ ETCDCTL_API: '2' }), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let [stdout, stderr] = ['', ''];
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      void killChild(child);
      reject(new Error(`etcdctl ${args.join(' ')}: still running after ${timeoutMs} ms (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

const etcdctl = (...args: string[]): Promise<Run> => start(args).done;

/** [exit code, stdout] of a run that should succeed, with stderr appended when it is not empty. */
async function ok(...args: string[]): Promise<[number | null, string]> {
  const r = await etcdctl(...args);
  return [r.code, r.stdout + r.stderr];
}

/** An etcd error as etcdctl prints it: `Error:  <code>: <message> (<cause>) [<index>]`, exit 4. */
async function etcdError(t: Test, args: string[], code: number, message: string, cause: string): Promise<void> {
  const r = await etcdctl(...args);
  const expected = new RegExp(`^Error:\\s+${code}: ${message} \\(${cause.replace(/[()[\]/.]/g, '\\$&')}\\) \\[\\d+\\]\\n$`);
  t.same([r.code, r.stdout], [4, ''], `${args.join(' ')}: exit 4, nothing on stdout`);
  t.match(r.stderr, expected, `${args.join(' ')}: "Error: ${code}: ${message} (${cause}) [index]"`);
}

/** The current store index, from X-Etcd-Index. */
async function storeIndex(): Promise<number> {
  return Number((await rawRequest(ENDPOINT, 'GET', '/v2/keys/')).headers['x-etcd-index']);
}

t.test('set, get, mk, mkdir, update: output and exit codes', async (t) => {
  t.same(await ok('set', '/ctl/a', '1'), [0, '1\n'], 'set prints the value');
  t.same(await ok('get', '/ctl/a'), [0, '1\n'], 'get prints the value');
  await etcdError(t, ['mk', '/ctl/a', '2'], 105, 'Key already exists', '/ctl/a');
  t.same(await ok('mk', '/ctl/b', '2'), [0, '2\n'], 'mk of a new key');
  t.same(await ok('mkdir', '/ctl/d'), [0, ''], 'mkdir prints nothing');
  await etcdError(t, ['mkdir', '/ctl/d'], 105, 'Key already exists', '/ctl/d');
  t.same(await ok('update', '/ctl/a', '3'), [0, '3\n'], 'update of an existing key');
  await etcdError(t, ['update', '/ctl/nope', '3'], 100, 'Key not found', '/ctl/nope');
  await etcdError(t, ['get', '/ctl/nope'], 100, 'Key not found', '/ctl/nope');
  await etcdError(t, ['get', '/ctl/nope/deeper'], 100, 'Key not found', '/ctl/nope');
  const dir = await etcdctl('get', '/ctl/d');
  t.same([dir.code, dir.stdout, dir.stderr], [1, '', '/ctl/d: is a directory\n'], 'get of a directory: exit 1');
  const json = await etcdctl('-o', 'json', 'get', '/ctl/a');
  const parsed = JSON.parse(json.stdout) as { action: string; node: { key: string; value: string; createdIndex: number; modifiedIndex: number } };
  t.same([json.code, parsed.action, parsed.node.key, parsed.node.value], [0, 'get', '/ctl/a', '3'], '-o json get');
  t.ok(parsed.node.modifiedIndex > parsed.node.createdIndex, 'update kept createdIndex and moved modifiedIndex');
  const extended = await etcdctl('-o', 'extended', 'get', '/ctl/a');
  t.match(extended.stdout, new RegExp(`^Key: /ctl/a\\nCreated-Index: ${parsed.node.createdIndex}\\nModified-Index: ${parsed.node.modifiedIndex}\\nTTL: 0\\nIndex: \\d+\\n\\n3\\n$`), '-o extended get');
});

t.test('set --swap-with-value / --swap-with-index: compareAndSwap, or 101', async (t) => {
  t.same(await ok('set', '/ctl/s', 'v1'), [0, 'v1\n']);
  t.same(await ok('set', '--swap-with-value', 'v1', '/ctl/s', 'v2'), [0, 'v2\n'], 'the value matches: swapped');
  await etcdError(t, ['set', '--swap-with-value', 'v1', '/ctl/s', 'v3'], 101, 'Compare failed', '[v1 != v2]');
  const index = (JSON.parse((await etcdctl('-o', 'json', 'get', '/ctl/s')).stdout) as { node: { modifiedIndex: number } }).node.modifiedIndex;
  await etcdError(t, ['set', '--swap-with-index', String(index + 1), '/ctl/s', 'v3'], 101, 'Compare failed', `[${index + 1} != ${index}]`);
  t.same(await ok('set', '--swap-with-index', String(index), '/ctl/s', 'v3'), [0, 'v3\n'], 'the current index: swapped');
  t.same(await ok('get', '/ctl/s'), [0, 'v3\n']);
});

t.test('mk --in-order, ls --recursive --sort (-p), hidden keys not listed', async (t) => {
  t.same(await ok('mk', '--in-order', '/ctl/q', 'job1'), [0, 'job1\n'], 'mk --in-order prints the value');
  t.same(await ok('mk', '--in-order', '/ctl/q', 'job2'), [0, 'job2\n']);
  t.same(await ok('set', '/ctl/q/_hidden', 'h'), [0, 'h\n']);
  const listed = await etcdctl('ls', '--sort', '/ctl/q');
  const keys = listed.stdout.split('\n').filter((l) => l !== '');
  t.equal(listed.code, 0);
  t.equal(keys.length, 2, `two in-order keys, no _hidden (${listed.stdout.trim()})`);
  t.ok(keys.every((k) => /^\/ctl\/q\/\d{20}$/.test(k)) && keys[0]! < keys[1]!, 'zero-padded 20-digit names, in creation order');
  t.same(await ok('get', keys[0]!), [0, 'job1\n'], 'the first in-order key holds the first job');
  t.same(await ok('set', '/ctl/l/b', '1'), [0, '1\n']);
  t.same(await ok('set', '/ctl/l/a/x', '2'), [0, '2\n']);
  t.same(await ok('ls', '--recursive', '--sort', '/ctl/l'), [0, '/ctl/l/a\n/ctl/l/a/x\n/ctl/l/b\n'], 'ls --recursive --sort: depth first');
  t.same(await ok('ls', '--sort', '-p', '/ctl/l'), [0, '/ctl/l/a/\n/ctl/l/b\n'], 'ls -p: a slash after directories');
  await etcdError(t, ['ls', '/ctl/none'], 100, 'Key not found', '/ctl/none');
});

t.test('rm, rm --recursive, rmdir, rm --with-value', async (t) => {
  t.same(await ok('set', '/ctl/r/k', 'v'), [0, 'v\n']);
  t.same(await ok('set', '/ctl/r/k2', 'v2'), [0, 'v2\n']);
  t.same(await ok('mkdir', '/ctl/r/empty'), [0, '']);
  t.same(await ok('rm', '/ctl/r/k'), [0, 'PrevNode.Value: v\n'], 'rm prints the old value');
  await etcdError(t, ['rm', '/ctl/r/k'], 100, 'Key not found', '/ctl/r/k');
  await etcdError(t, ['rm', '--with-value', 'nope', '/ctl/r/k2'], 101, 'Compare failed', '[nope != v2]');
  // etcdctl prints PrevNode.Value only for the action "delete"; compareAndDelete gets an empty line.
  t.same(await ok('rm', '--with-value', 'v2', '/ctl/r/k2'), [0, '\n'], 'compareAndDelete');
  t.same(await ok('rmdir', '/ctl/r/empty'), [0, ''], 'rmdir of an empty dir');
  t.same(await ok('set', '/ctl/r/sub/k', 'v'), [0, 'v\n']);
  await etcdError(t, ['rmdir', '/ctl/r'], 108, 'Directory not empty', '/ctl/r');
  t.same(await ok('rm', '--recursive', '/ctl/r'), [0, ''], 'rm --recursive');
  await etcdError(t, ['get', '/ctl/r/sub/k'], 100, 'Key not found', '/ctl/r');
});

t.test('watch: a past --after-index returns at once; a live watch sees the next set', async (t) => {
  t.same(await ok('set', '/ctl/w', 'first'), [0, 'first\n']);
  const first = (JSON.parse((await etcdctl('-o', 'json', 'get', '/ctl/w')).stdout) as { node: { modifiedIndex: number } }).node.modifiedIndex;
  t.same(await ok('set', '/ctl/w', 'second'), [0, 'second\n']);
  t.same(await ok('watch', '--after-index', String(first - 1), '/ctl/w'), [0, 'first\n'], 'the event at after-index + 1, from history');
  // After the current index: the set below is caught however late the watch registers.
  const watch = start(['watch', '--after-index', String(await storeIndex()), '/ctl/w']);
  t.same(await ok('set', '/ctl/w', 'third'), [0, 'third\n']);
  const r = await watch.done;
  t.same([r.code, r.stdout], [0, 'third\n'], 'the live watch printed the new value and exited');
  const recursive = start(['watch', '--recursive', '--after-index', String(await storeIndex()), '/ctl/wr']);
  t.same(await ok('set', '/ctl/wr/child', 'c'), [0, 'c\n']);
  const rr = await recursive.done;
  t.same([rr.code, rr.stdout], [0, '[set] /ctl/wr/child\nc\n'], 'a recursive watch prints [action] key, then the value');
});

t.test('member list and cluster-health', async (t) => {
  const list = await etcdctl('member', 'list');
  const lines = list.stdout.split('\n').filter((l) => l !== '');
  const shape = /^[0-9a-f]+: name=\S+ peerURLs=http:\/\/127\.0\.0\.1:\d+ clientURLs=(\S+) isLeader=(true|false)$/;
  t.same([list.code, lines.length], [0, 3], `three members (${list.stdout.trim()} ${list.stderr.trim()})`);
  t.ok(lines.every((l) => shape.test(l)), 'each line: id: name= peerURLs= clientURLs= isLeader=');
  t.same(lines.map((l) => shape.exec(l)?.[1]).sort(), [...target.clientUrls].sort(), 'the client URLs are the members\'');
  t.equal(lines.filter((l) => l.endsWith('isLeader=true')).length, 1, 'exactly one leader');
  const health = await etcdctl('cluster-health');
  const healthLines = health.stdout.split('\n').filter((l) => l !== '');
  t.equal(health.code, 0, `cluster-health exits 0 (${health.stderr.trim()})`);
  t.same(healthLines.slice(-1), ['cluster is healthy']);
  t.equal(healthLines.filter((l) => /^member [0-9a-f]+ is healthy: got healthy result from http:\/\/127\.0\.0\.1:\d+$/.test(l)).length, 3, 'every member healthy');
});
