// Multi-process tests of real `cairn` members on loopback: failover after kill -9 of the
// leader, catch-up of a restarted member (also through a snapshot after compaction), and no
// acknowledged write lost when every member is killed in the middle of a load.
import t from 'tap';
import { RpcClient } from '../../clients/rpc-client.js';
import { CLUSTER_START_MS, TestCluster, findLeader, waitFor } from './processes.js';
import type { MemberProcess } from './processes.js';

async function withClient<T>(member: MemberProcess, fn: (c: RpcClient) => Promise<T>): Promise<T> {
  const client = await RpcClient.connect(member.clientUrl);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function writeKeys(member: MemberProcess, prefix: string, count: number): Promise<void> {
  await withClient(member, async (c) => {
    for (let i = 0; i < count; i++) await c.call('kv.set', { key: `/${prefix}/${i}`, value: `${prefix}-${i}` });
  });
}

t.test('kill -9 the leader: a new leader, writes go on, the member restarts and catches up through a snapshot', async (t) => {
  const cluster = new TestCluster({ size: 3, snapshotCount: 20, heartbeatMs: 100, electionMs: 1000 });
  t.teardown(() => cluster.destroy());
  await cluster.create();
  cluster.startAll();
  const leader = await findLeader(cluster, CLUSTER_START_MS);
  await writeKeys(leader, 'before', 10);

  const killedAt = Date.now();
  await cluster.kill(leader);
  const next = await findLeader(cluster, 10_000);
  const failoverMs = Date.now() - killedAt;
  t.not(next.name, leader.name);
  t.comment(`new leader ${next.name} after ${failoverMs} ms (election timeout ${cluster.electionMs} ms)`);
  // Two election timeouts, plus scheduling slack for processes on a loaded 2-core machine.
  t.ok(failoverMs <= 2 * cluster.electionMs + 1000, `failover took ${failoverMs} ms`);

  await writeKeys(next, 'after', 60); // three snapshots' worth: the log the killed member lacks is compacted
  cluster.start(leader);
  const leaderStatus = await withClient(next, (c) => c.call<{ appliedIndex: number }>('cluster.status'));
  await waitFor('the restarted member to catch up', CLUSTER_START_MS, async () =>
    withClient(leader, async (c) => {
      const s = await c.call<{ appliedIndex: number }>('cluster.status', {}, 500);
      return s.appliedIndex >= leaderStatus.appliedIndex ? s : undefined;
    }));
  const value = await withClient(leader, (c) => c.call<{ node: { value: string } }>('kv.get', { key: '/after/59', consistency: 'serializable' }));
  t.equal(value.node.value, 'after-59', 'the restarted member has the writes made while it was down');
  const early = await withClient(leader, (c) => c.call<{ node: { value: string } }>('kv.get', { key: '/before/3', consistency: 'serializable' }));
  t.equal(early.node.value, 'before-3');
  t.match(cluster.logsOf(leader), /installed snapshot/, 'it caught up through a snapshot');
});

t.test('kill -9 every member in the middle of a load: every acknowledged write survives', async (t) => {
  const cluster = new TestCluster({ size: 3, snapshotCount: 500 });
  t.teardown(() => cluster.destroy());
  await cluster.create();
  cluster.startAll();
  await findLeader(cluster, CLUSTER_START_MS);
  const acknowledged = new Map<string, string>();
  const clients = await Promise.all(cluster.members.map((m) => RpcClient.connect(m.clientUrl)));
  let running = true;
  const writers = Array.from({ length: 24 }, async (_, w) => {
    const client = clients[w % clients.length]!;
    for (let i = 0; running && i < 10_000; i++) {
      const key = `/load/${w}/${i}`;
      try {
        await client.call('kv.set', { key, value: `v${w}-${i}` }, 3000);
        acknowledged.set(key, `v${w}-${i}`);
      } catch {
        return; // the member died under us: anything unacknowledged may or may not be there
      }
    }
  });
  await waitFor('some writes acknowledged', 10_000, async () => (acknowledged.size >= 300 ? true : undefined), 20);
  running = false;
  await cluster.stopAll();
  await Promise.allSettled(writers);
  for (const c of clients) c.close();
  t.ok(acknowledged.size >= 300, `${acknowledged.size} writes acknowledged before the crash`);

  cluster.startAll();
  const leader = await findLeader(cluster, CLUSTER_START_MS);
  const missing: string[] = [];
  await withClient(leader, async (c) => {
    for (const [key, value] of acknowledged) {
      const got = await c.call<{ node: { value: string } }>('kv.get', { key }).catch(() => undefined);
      if (got?.node.value !== value) missing.push(key);
    }
  });
  t.same(missing, [], 'no acknowledged write is lost');
});

t.test('5 members keep writing with two of them killed, leader included', async (t) => {
  const cluster = new TestCluster({ size: 5 });
  t.teardown(() => cluster.destroy());
  await cluster.create();
  cluster.startAll();
  const leader = await findLeader(cluster, CLUSTER_START_MS);
  await writeKeys(leader, 'five', 5);
  const follower = cluster.members.find((m) => m !== leader)!;
  await cluster.kill(leader);
  await cluster.kill(follower);
  const next = await findLeader(cluster, 15_000);
  await writeKeys(next, 'three-left', 5);
  const survivor = cluster.members.find((m) => m.child !== undefined && m !== next)!;
  const got = await withClient(survivor, (c) => c.call<{ node: { value: string } }>('kv.get', { key: '/three-left/4' }));
  t.equal(got.node.value, 'three-left-4', 'a quorum of three serves linearizable reads');
});
