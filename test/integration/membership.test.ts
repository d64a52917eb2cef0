// Runtime membership on real processes: cluster.addMember, then a new member started with
// --initial-cluster-state existing joins and catches up; cluster.removeMember takes it out
// and the cluster keeps writing.
import t from 'tap';
import { RpcClient } from '../../clients/rpc-client.js';
import { CLUSTER_START_MS, TestCluster, findLeader, freePort, waitFor } from './processes.js';
import type { MemberProcess } from './processes.js';

interface MembersResult { members: { id: string; name: string; peerUrls: string[] }[] }

t.test('add a member at runtime, it joins and catches up; remove it again', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  t.teardown(() => cluster.destroy());
  await cluster.create();
  cluster.startAll();
  const leader = await findLeader(cluster, CLUSTER_START_MS);
  const client = await RpcClient.connect(leader.clientUrl);
  t.teardown(() => client.close());
  for (let i = 0; i < 20; i++) await client.call('kv.set', { key: `/pre/${i}`, value: String(i) });

  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const joiner: MemberProcess = {
    name: 'm4', clientUrl: `http://127.0.0.1:${clientPort}`, peerUrl: `http://127.0.0.1:${peerPort}`,
    dataDir: `${cluster.members[0]!.dataDir}-m4`, child: undefined, logs: [],
  };
  const added = await client.call<{ member: { id: string } } & MembersResult>('cluster.addMember', { peerUrls: [joiner.peerUrl], name: 'm4' });
  t.equal(added.members.length, 4, 'the directory lists four members');
  cluster.members.push(joiner);
  cluster.start(joiner, ['--initial-cluster-state', 'existing']);
  const target = await client.call<{ appliedIndex: number }>('cluster.status');
  t.teardown(() => { if (t.passing()) return; t.comment(`m4 log:\n${cluster.logsOf(joiner)}`); t.comment(`leader log:\n${cluster.logsOf(leader)}`); });
  await waitFor('the new member to catch up', CLUSTER_START_MS, async () => {
    const c = await RpcClient.connect(joiner.clientUrl, 500);
    try {
      const s = await c.call<{ appliedIndex: number; leaderId: string }>('cluster.status', {}, 500);
      return s.appliedIndex >= target.appliedIndex && s.leaderId !== '' ? s : undefined;
    } finally {
      c.close();
    }
  });
  const got = await RpcClient.connect(joiner.clientUrl).then(async (c) => {
    try {
      return await c.call<{ node: { value: string } }>('kv.get', { key: '/pre/19' });
    } finally {
      c.close();
    }
  });
  t.equal(got.node.value, '19', 'the new member serves a linearizable read of data written before it joined');

  const removed = await client.call<MembersResult>('cluster.removeMember', { id: added.member.id });
  t.equal(removed.members.length, 3, 'three members after removal');
  t.notOk(removed.members.some((m) => m.id === added.member.id));
  await client.call('kv.set', { key: '/post', value: 'ok' });
  const bad = await client.call('cluster.removeMember', { id: 'no-such-member' }).catch((e: { code: number }) => e.code);
  t.equal(bad, 100, 'removing an unknown member is refused with 100');
});
