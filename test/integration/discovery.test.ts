// Black-box tests of service discovery over a real 3-member cluster: a registration made
// through one member is listed the same by every member; watchService yields the whole list
// after each register, status change, deregister and expiry (and nothing for heartbeats);
// a lapsed registration answers heartbeats with 530; a client whose only member is killed
// registers again once that member is back; `cairnctl service register` keeps its instance
// alive past its TTL until it is killed, and `service list` / `service watch` print it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { runCli } from '../../clients/cairnctl/run.js';
import { connect, isCairnError, listServiceInstances, listServices, registerService, watchService } from '../../clients/index.js';
import type { CairnClient, ServiceInstance, ServiceWatchUpdate } from '../../clients/index.js';
import { CLUSTER_START_MS, httpGet, startCluster, waitFor } from './kv-helpers.js';
import type { MemberProcess } from './kv-helpers.js';

const CTL = fileURLToPath(new URL('../../clients/cairnctl/main.js', import.meta.url));
const kv = await startCluster(t);
const ENDPOINTS = kv.members.map((m) => m.clientUrl);

async function clientOf(t: Test, endpoints: readonly string[] = ENDPOINTS): Promise<CairnClient> {
  const c = await connect({ endpoints, maxRetries: 2, retryMaxMs: 200, requestTimeoutMs: 3000 });
  t.teardown(() => c.close());
  return c;
}

const codeOf = (error: unknown): number | string => (isCairnError(error) ? error.code : String(error));
const names = (instances: readonly ServiceInstance[]): string[] => instances.map((i) => `${i.instance}:${i.status}`);

t.test('an instance registered through a follower is listed the same by every member', async (t) => {
  const [follower] = kv.followers();
  const viaFollower = await clientOf(t, [follower!.clientUrl]);
  const { instance } = await viaFollower.call<{ instance: ServiceInstance }>('service.register',
    { service: 'api', instance: 'api-1', endpoint: 'http://127.0.0.1:9001', meta: { zone: 'a' }, ttl: 30 });
  for (const m of kv.members) {
    const c = await clientOf(t, [m.clientUrl]);
    t.same((await listServiceInstances(c, 'api')).instances, [instance], `${m.name} lists it (linearizable read)`);
    t.ok((await listServices(c)).includes('api'), `${m.name} lists the service`);
  }
  t.same((await viaFollower.call('service.deregister', { service: 'api', instance: 'api-1' })), {});
  t.same((await listServiceInstances(viaFollower, 'api')).instances, []);
});

t.test('watchService: each register, status change, deregister and expiry; no heartbeat; 530 after expiry', async (t) => {
  const [watcherMember] = kv.followers();
  const watcher = await clientOf(t, [watcherMember!.clientUrl]);
  const writer = await clientOf(t, [kv.leader.clientUrl]);
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const seen: ServiceWatchUpdate[] = [];
  const consuming = (async () => { for await (const u of watchService(watcher, 'db', { signal: stop.signal })) seen.push(u); })();
  const nth = (n: number): Promise<ServiceWatchUpdate> => waitFor(`update ${n} (have ${seen.length})`, 10_000, async () => seen[n - 1], 10);
  await nth(1);
  const call = (method: string, params: object): Promise<unknown> => writer.call(method, params);
  await call('service.register', { service: 'db', instance: 'short', endpoint: 'db-1:5432', ttl: 2 });
  await nth(2);
  await call('service.register', { service: 'db', instance: 'long', endpoint: 'db-2:5432', ttl: 60 });
  await nth(3);
  for (let i = 0; i < 3; i++) await call('service.heartbeat', { service: 'db', instance: 'long' });
  await call('service.heartbeat', { service: 'db', instance: 'long', status: 'critical' });
  await nth(4);
  await call('service.deregister', { service: 'db', instance: 'long' });
  await nth(5);
  const expired = await nth(6); // "short" lapses by its 2 s TTL, decided in the log
  t.same(seen.map((u) => names(u.instances)), [[], ['short:passing'], ['long:passing', 'short:passing'],
    ['long:critical', 'short:passing'], ['short:passing'], []], 'one whole list per change; the heartbeats sent none');
  const indexes = seen.map((u) => u.index);
  t.same(indexes, [...indexes].sort((a, b) => a - b), 'indexes increase');
  t.same((await listServiceInstances(writer, 'db')).instances, expired.instances, 'the list agrees after the expiry');
  const lapsed = await writer.call('service.heartbeat', { service: 'db', instance: 'short' }).then(() => 'answered', (e: unknown) => codeOf(e));
  t.equal(lapsed, 530, 'a heartbeat after the expiry is 530');
  stop.abort();
  await consuming;
});

/** Starts a killed member again and waits until it answers /health with 200. */
async function restart(member: MemberProcess): Promise<void> {
  kv.cluster.start(member);
  await waitFor(`${member.name} healthy again`, CLUSTER_START_MS, async () => ((await httpGet(member, '/health')).status === 200 ? true : undefined), 100);
}

t.test('a client whose only member was killed registers again once it is back', async (t) => {
  const victim = kv.followers()[0]!;
  t.teardown(async () => { if (victim.child === undefined) await restart(victim); });
  const lonely = await clientOf(t, [victim.clientUrl]);
  const observer = await clientOf(t, kv.members.filter((m) => m !== victim).map((m) => m.clientUrl));
  const errors: unknown[] = [];
  const reg = await registerService(lonely, { service: 'cache', instance: 'c1', endpoint: '127.0.0.1:11211', ttl: 2, onError: (e) => errors.push(e) });
  t.teardown(() => reg.close());
  const first = reg.instance.registeredIndex;
  const killedAt = Date.now();
  await kv.cluster.kill(victim);
  await waitFor('the registration to lapse', 15_000, async () => ((await listServiceInstances(observer, 'cache')).instances.length === 0 ? true : undefined), 100);
  t.comment(`lapsed ${Date.now() - killedAt} ms after the kill (ttl 2 s)`);
  t.equal(reg.registrations, 1, 'not registered again while its member is down');
  await restart(victim);
  const backAt = Date.now();
  await waitFor('a new registration', 15_000, async () => (reg.registrations === 2 ? true : undefined), 50);
  t.comment(`registered again ${Date.now() - backAt} ms after its member answered /health again`);
  const { instances } = await listServiceInstances(observer, 'cache');
  t.same(names(instances), ['c1:passing'], 'listed again');
  t.ok(instances[0]!.registeredIndex > first, `a new registration (registeredIndex ${first} → ${instances[0]!.registeredIndex})`);
  t.ok(errors.length > 0, `heartbeats failed while the member was down (${errors.length})`);
  await reg.deregister();
  t.same((await listServiceInstances(observer, 'cache')).instances, []);
});

t.test('cairnctl service register keeps the instance alive until killed; list and watch print it', async (t) => {
  const observer = await clientOf(t);
  const child: ChildProcess = spawn(process.execPath, [CTL, '--endpoints', ENDPOINTS.join(','), 'service', 'register', 'queue', 'q1', 'amqp://127.0.0.1:5672', '--ttl', '1', '--meta', 'zone=b'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  t.teardown(() => { child.kill('SIGKILL'); });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  await waitFor(`"registered" from cairnctl (stdout ${JSON.stringify(stdout)})`, 15_000, async () => (stdout.includes('registered q1') ? true : undefined), 20);
  t.match(stdout, /^registered q1 amqp:\/\/127\.0\.0\.1:5672 passing zone=b \(registeredIndex \d+\)\n$/);
  await new Promise((r) => setTimeout(r, 2500)); // longer than its 1 s TTL: only heartbeats keep it
  t.same(names((await listServiceInstances(observer, 'queue')).instances), ['q1:passing'], 'alive past its TTL');

  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`), env: {} };
  t.equal(await runCli(['--endpoints', ENDPOINTS.join(','), 'service', 'list', 'queue'], io), 0);
  t.same(lines.splice(0), ['q1 amqp://127.0.0.1:5672 passing zone=b']);
  t.equal(await runCli(['--endpoints', ENDPOINTS.join(','), 'service', 'list'], io), 0);
  t.ok(lines.splice(0).includes('queue'), 'service list with no service lists the names');

  const stopWatch = new AbortController();
  t.teardown(() => stopWatch.abort());
  const watching = runCli(['--endpoints', ENDPOINTS.join(','), 'service', 'watch', 'queue'], { ...io, signal: stopWatch.signal });
  await waitFor('the first watch list', 10_000, async () => (lines.length >= 2 ? true : undefined), 10);
  child.kill('SIGKILL');
  await waitFor('the empty list after the expiry', 10_000, async () => (lines.some((l) => / 0 instances$/.test(l)) ? true : undefined), 20);
  stopWatch.abort();
  t.equal(await watching, 0, 'watch ends with 0 when stopped');
  t.match(lines, [/^# index \d+: 1 instance$/, 'q1 amqp://127.0.0.1:5672 passing zone=b', /^# index \d+: 0 instances$/]);
});
