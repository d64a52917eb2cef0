// /v2/members, /v2/machines and /v2/stats/* over real HTTP on an in-process client port: the
// shapes and status codes of etcd 3.4's v2http handlers, on a fake member whose directory and
// membership changes are plain lists and whose peer-stats clocks the test sets.
import t from 'tap';
import type { Test } from 'tap';
import type { ConfChange } from '../../core/raft/index.js';
import type { ApplyResult } from '../../server/apply.js';
import { startClientServer } from '../../server/client-server.js';
import { MemberError } from '../../server/errors.js';
import { memberIdFor } from '../../server/identity.js';
import type { MemberStatus } from '../../server/member-status.js';
import { PeerStats } from '../../server/peer-stats.js';
import type { MemberInfo } from '../../server/state-machine.js';
import { goDuration } from '../../server/v2/stats.js';
import { FakeMember } from './fake-member.js';

const CLUSTER_ID = 'c0ffee00c0ffee00';
const SELF = 'a7be38d986537a7c';
const OTHER = '794a1d2b3c4d5e6f';
const LIMITS = { maxRequestBytes: 4096, maxInflight: 2, maxSubscriptions: 10, maxStreamBufferBytes: 1 << 20, maxConnections: 2 };

/** A fake with a member directory that conf changes edit, and clocks the test moves. */
class ClusterMember extends FakeMember {
  directory: MemberInfo[] = [
    { id: SELF, name: 's1', peerUrls: ['http://127.0.0.1:23002/'], clientUrls: ['http://127.0.0.1:23001/'] },
    { id: OTHER, name: 's2', peerUrls: ['http://127.0.0.1:24002/'], clientUrls: ['http://127.0.0.1:24001/', 'https://127.0.0.1:24003/'] },
  ];
  wallMs = Date.UTC(2026, 0, 1);
  monoMs = 0;
  override readonly peerStats = new PeerStats(() => this.wallMs, () => this.monoMs);
  confChangeError: MemberError | undefined;
  leader = SELF;

  override status(): MemberStatus {
    return { ...super.status(), clusterId: CLUSTER_ID, memberId: SELF, name: 's1', leaderId: this.leader };
  }

  override members(): MemberInfo[] {
    return [...this.directory];
  }

  override voters(): readonly string[] {
    return this.directory.map((m) => m.id);
  }

  override async proposeConfChange(change: ConfChange): Promise<ApplyResult> {
    if (this.confChangeError !== undefined) throw this.confChangeError;
    if (change.type === 'addVoter') this.directory.push((JSON.parse(change.context ?? '{}') as { member: MemberInfo }).member);
    if (change.type === 'removeNode') this.directory = this.directory.filter((m) => m.id !== change.nodeId);
    return { index: ++this.raftIndex, term: 2 };
  }
}

async function serve(t: Test, member = new ClusterMember()): Promise<{ member: ClusterMember; base: string }> {
  const server = await startClientServer(member, { host: '127.0.0.1', port: 0, ...LIMITS });
  t.teardown(() => server.close());
  return { member, base: `http://127.0.0.1:${server.port}` };
}

const postJson = (url: string, body: string, contentType = 'application/json'): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

t.test('GET /v2/members lists every member in etcd shape, sorted by id, with the cluster id header', async (t) => {
  const { member, base } = await serve(t);
  member.directory.push({ id: '0000000000000001', name: '', peerUrls: ['http://127.0.0.1:25002/'], clientUrls: [] });
  for (const path of ['/v2/members', '/v2/members/']) {
    const res = await fetch(base + path);
    t.equal(res.status, 200);
    t.equal(res.headers.get('x-etcd-cluster-id'), CLUSTER_ID);
    t.equal(res.headers.get('content-type'), 'application/json');
    t.same(await res.json(), { members: [
      { id: '0000000000000001', name: '', peerURLs: ['http://127.0.0.1:25002'], clientURLs: [] },
      { id: OTHER, name: 's2', peerURLs: ['http://127.0.0.1:24002'], clientURLs: ['http://127.0.0.1:24001', 'https://127.0.0.1:24003'] },
      { id: SELF, name: 's1', peerURLs: ['http://127.0.0.1:23002'], clientURLs: ['http://127.0.0.1:23001'] },
    ] });
  }
  const patch = await fetch(`${base}/v2/members`, { method: 'PATCH' });
  t.equal(patch.status, 405);
  t.equal(patch.headers.get('allow'), 'GET,POST,DELETE,PUT');
});

t.test('GET /v2/members/leader names the leader, 503 during an election; other names are 404', async (t) => {
  const { member, base } = await serve(t);
  member.leader = OTHER;
  const res = await fetch(`${base}/v2/members/leader`);
  t.equal(res.status, 200);
  t.same(await res.json(), { id: OTHER, name: 's2', peerURLs: ['http://127.0.0.1:24002'], clientURLs: ['http://127.0.0.1:24001', 'https://127.0.0.1:24003'] });
  member.leader = '';
  const election = await fetch(`${base}/v2/members/leader`);
  t.equal(election.status, 503);
  t.equal(election.headers.get('x-etcd-cluster-id'), CLUSTER_ID);
  t.same(await election.json(), { message: 'During election' });
  const other = await fetch(`${base}/v2/members/${SELF}`);
  t.equal(other.status, 404);
  t.same(await other.json(), { message: 'Not found' });
});

t.test('POST /v2/members adds a member through a conf change: 201, then listed', async (t) => {
  const { member, base } = await serve(t);
  const res = await postJson(`${base}/v2/members`, JSON.stringify({ peerURLs: ['http://127.0.0.1:26002'] }), 'application/json; charset=utf-8');
  t.equal(res.status, 201);
  t.equal(res.headers.get('x-etcd-cluster-id'), CLUSTER_ID);
  const id = memberIdFor(['http://127.0.0.1:26002'], member.clusterToken);
  const added = { id, name: '', peerURLs: ['http://127.0.0.1:26002'], clientURLs: [] };
  t.same(await res.json(), added);
  const list = await (await fetch(`${base}/v2/members`)).json() as { members: unknown[] };
  t.same(list.members.filter((m) => (m as { id: string }).id === id), [added]);
  const again = await postJson(`${base}/v2/members`, JSON.stringify({ peerURLs: ['http://127.0.0.1:26002/'] }));
  t.equal(again.status, 409, 'a peer URL already in use');
  t.match(await again.json(), { message: /^membership: peerURL exists/ });
});

t.test('POST /v2/members refuses what etcd refuses: 415, 400, and 500 when Raft cannot commit', async (t) => {
  const { member, base } = await serve(t);
  const url = `${base}/v2/members`;
  const wrongType = await postJson(url, '{"peerURLs":["http://127.0.0.1:26002"]}', 'text/plain');
  t.equal(wrongType.status, 415);
  t.same(await wrongType.json(), { message: 'Bad Content-Type text/plain, accept application/json' });
  const bad: [string, RegExp][] = [
    ['{"peerURLs":', /^invalid JSON/],
    ['{}', /^no valid URLs given$/],
    ['{"peerURLs":"http://127.0.0.1:1"}', /array of strings/],
    ['{"peerURLs":["127.0.0.1:26002"]}', /^URL is not valid/],
    ['{"peerURLs":["ftp://127.0.0.1:26002"]}', /scheme must be http or https/],
    ['{"peerURLs":["http://127.0.0.1"]}', /does not have the form "host:port"/],
    ['{"peerURLs":["http://127.0.0.1:26002/raft"]}', /must not contain a path/],
  ];
  for (const [body, message] of bad) {
    const res = await postJson(url, body);
    t.equal(res.status, 400, body);
    t.match(await res.json(), { message }, body);
  }
  member.confChangeError = new MemberError(302, 'addVoter: not known to commit within 5000 ms', true);
  const timeout = await postJson(url, '{"peerURLs":["http://127.0.0.1:26002"]}');
  t.equal(timeout.status, 500);
  t.same(await timeout.json(), { message: 'Internal Server Error: addVoter: not known to commit within 5000 ms (retry shortly)' });
  t.equal(member.directory.length, 2, 'nothing added');
});

t.test('DELETE /v2/members/<id>: 204, then 404 for an unknown or malformed id; 405 without one', async (t) => {
  const { member, base } = await serve(t);
  const gone = await fetch(`${base}/v2/members/${OTHER}`, { method: 'DELETE' });
  t.equal(gone.status, 204);
  t.equal(await gone.text(), '');
  t.same(member.directory.map((m) => m.id), [SELF]);
  const again = await fetch(`${base}/v2/members/${OTHER}`, { method: 'DELETE' });
  t.equal(again.status, 404);
  t.same(await again.json(), { message: `No such member: ${OTHER}` });
  const malformed = await fetch(`${base}/v2/members/not-an-id`, { method: 'DELETE' });
  t.equal(malformed.status, 404);
  t.same(await malformed.json(), { message: 'No such member: not-an-id' });
  const noId = await fetch(`${base}/v2/members`, { method: 'DELETE' });
  t.equal(noId.status, 405);
  t.equal(await noId.text(), 'Method Not Allowed\n');
  member.confChangeError = new MemberError(301, 'removeNode: no leader or no quorum right now; retry shortly', true);
  const noQuorum = await fetch(`${base}/v2/members/${SELF}`, { method: 'DELETE' });
  t.equal(noQuorum.status, 500);
  t.match(await noQuorum.json(), { message: /^Internal Server Error: removeNode: no leader/ });
});

t.test('PUT /v2/members/<id> is not supported: 405 (a 4xx, so etcdctl shows it) with what to do instead', async (t) => {
  const { base } = await serve(t);
  const res = await fetch(`${base}/v2/members/${OTHER}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"peerURLs":["http://127.0.0.1:27002"]}' });
  t.same([res.status, res.headers.get('allow')], [405, 'GET,POST,DELETE']);
  t.same(await res.json(), { message: "updating a member's peer URLs is not supported by cairn; remove the member and add it again" });
});

t.test('/v2/machines: every client URL, sorted, ", "-separated text; HEAD has no body', async (t) => {
  const { base } = await serve(t);
  const res = await fetch(`${base}/v2/machines`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.equal(await res.text(), 'http://127.0.0.1:23001, http://127.0.0.1:24001, https://127.0.0.1:24003');
  const head = await fetch(`${base}/v2/machines`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
  const post = await fetch(`${base}/v2/machines`, { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET,HEAD');
});

t.test('/v2/stats/self: identity, role, start times, leader uptime and append counts', async (t) => {
  const { member, base } = await serve(t);
  const started = member.wallMs;
  member.wallMs += 5000;
  member.peerStats.leaderChanged(false);
  member.peerStats.received([{ type: 'append', from: OTHER, to: SELF, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [], commit: 1 }]);
  member.peerStats.received([{ type: 'heartbeat', from: OTHER, to: SELF, term: 2, commit: 1, context: 0 }]);
  member.leader = OTHER;
  // The handler reads the real clock for the uptime; the leader's start is the fake clock's.
  const res = await fetch(`${base}/v2/stats/self`);
  t.equal(res.status, 200);
  const body = await res.json() as { leaderInfo: { uptime: string } };
  t.match(body.leaderInfo.uptime, /^(\d+h)?(\d+m)?\d+(\.\d+)?s$/);
  t.same(body, {
    name: 's1', id: SELF, state: 'StateFollower', startTime: new Date(started).toISOString(),
    leaderInfo: { leader: OTHER, uptime: body.leaderInfo.uptime, startTime: new Date(started + 5000).toISOString() },
    recvAppendRequestCnt: 1, sendAppendRequestCnt: 0,
  }, 'heartbeats are not append requests');
  t.same(Object.keys(body), ['name', 'id', 'state', 'startTime', 'leaderInfo', 'recvAppendRequestCnt', 'sendAppendRequestCnt']);
  member.leader = SELF;
  t.match(await (await fetch(`${base}/v2/stats/self`)).json(), { state: 'StateLeader', leaderInfo: { leader: SELF } });
  member.leader = '';
  t.match(await (await fetch(`${base}/v2/stats/self`)).json(), { leaderInfo: { leader: '', uptime: '0s', startTime: '0001-01-01T00:00:00Z' } });
  t.equal((await fetch(`${base}/v2/stats/self`, { method: 'POST' })).status, 405);
});

t.test('Go duration strings as etcd prints the leader uptime', async (t) => {
  t.equal(goDuration(74_880), '1m14.88s');
  t.equal(goDuration(3_723_500), '1h2m3.5s');
  t.equal(goDuration(60_000), '1m0s');
  t.equal(goDuration(350), '350ms');
  t.equal(goDuration(1.5), '1.5ms');
  t.equal(goDuration(0.0015), '1.5µs');
  t.equal(goDuration(0), '0s');
});

t.test('/v2/stats/leader: per-follower round trips on the leader, 403 on a follower', async (t) => {
  const { member, base } = await serve(t);
  const third = 'bb00000000000003';
  member.directory.push({ id: third, name: 's3', peerUrls: ['http://127.0.0.1:25002/'], clientUrls: [] });
  const stats = member.peerStats;
  stats.leaderChanged(true);
  const envelope = { from: SELF, to: OTHER, term: 2 };
  const reply = { from: OTHER, to: SELF, term: 2 };
  stats.sent([{ ...envelope, type: 'heartbeat', commit: 3, context: 0 }]);
  member.monoMs = 2;
  stats.received([{ ...reply, type: 'heartbeatResponse', context: 0 }]);
  stats.sent([{ ...envelope, type: 'append', prevLogIndex: 3, prevLogTerm: 2, entries: [{ index: 4, term: 2, type: 'normal', data: new Uint8Array() }], commit: 3 }]);
  member.monoMs = 6;
  stats.received([{ ...reply, type: 'appendResponse', index: 4, reject: false, hintIndex: 0, hintTerm: 0 }]);
  stats.received([{ ...reply, type: 'appendResponse', index: 2, reject: true, hintIndex: 2, hintTerm: 1 }]);
  stats.unreachable(OTHER);
  const res = await fetch(`${base}/v2/stats/leader`);
  t.equal(res.status, 200);
  t.same(await res.json(), { leader: SELF, followers: {
    [OTHER]: { latency: { current: 4, average: 3, standardDeviation: 1, minimum: 2, maximum: 4 }, counts: { fail: 2, success: 2 } },
    [third]: { latency: { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 }, counts: { fail: 0, success: 0 } },
  } });
  t.same((await (await fetch(`${base}/v2/stats/self`)).json() as { sendAppendRequestCnt: number }).sendAppendRequestCnt, 1);
  stats.leaderChanged(true);
  t.match(await (await fetch(`${base}/v2/stats/leader`)).json(), { followers: { [OTHER]: { counts: { fail: 0, success: 0 } } } }, 'a new term as leader starts afresh');
  member.leader = OTHER;
  const follower = await fetch(`${base}/v2/stats/leader`);
  t.equal(follower.status, 403);
  t.same(await follower.json(), { message: 'not current leader' });
});

t.test('/v2/stats/store: the store counters of applied writes and served gets, plus live watchers', async (t) => {
  const { member, base } = await serve(t);
  await member.proposeKv({ method: 'set', params: { key: '/a', value: '1' } });
  await member.proposeKv({ method: 'set', params: { key: '/a', value: '2', prevValue: '1' } });
  await member.proposeKv({ method: 'set', params: { key: '/a', value: '3', prevValue: 'no' } });
  await member.proposeKv({ method: 'delete', params: { key: '/missing' } });
  member.store.get('/a', {}, member.nowMs);
  const remove = member.watchHub.add({ key: '/a', recursive: false, deliver: () => {}, reset: () => {} });
  const res = await fetch(`${base}/v2/stats/store`);
  t.equal(res.status, 200);
  const body = await res.json() as Record<string, number>;
  t.match(body, { setsSuccess: 1, compareAndSwapSuccess: 1, compareAndSwapFail: 1, deleteFail: 1, getsSuccess: 1, getsFail: 0, expireCount: 0, watchers: 1 });
  t.equal(Object.keys(body).length, 16);
  t.equal(Object.keys(body).at(-1), 'watchers');
  remove();
  t.match(await (await fetch(`${base}/v2/stats/store`)).json(), { watchers: 0 });
  t.equal((await fetch(`${base}/v2/stats/store`, { method: 'DELETE' })).status, 405);
});
