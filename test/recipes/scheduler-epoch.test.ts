// The scheduler's epoch fence: a member claims the epoch for its term (only upward), and a
// scheduling write planned under an older epoch fails even when its job CAS would succeed.
import t from 'tap';
import { claimEpoch, EPOCH_KEY, writeJobFenced } from '../../recipes/scheduler/epoch.js';
import type { StoredJob } from '../../recipes/scheduler/job.js';
import { kvSet } from '../../server/kv-service.js';
import { FakeMember } from '../server/fake-member.js';

t.test('a write fenced by an epoch that a newer term has claimed fails; the job is untouched', async (t) => {
  const m = new FakeMember(); // its Raft term is 2
  const epoch = (await claimEpoch(m))?.index;
  t.type(epoch, 'number', 'claimed for term 2');
  t.same(await claimEpoch(m), { index: epoch, fresh: false }, 'claiming again in the same term changes nothing');
  const job = await kvSet(m, { key: '/cairn/jobs/j1', value: '{"job":"j1","state":"pending"}' });
  const next = { job: 'j1', state: 'assigned' } as unknown as StoredJob;
  t.equal(await writeJobFenced(m, next, job.node.modifiedIndex, epoch!), true, 'the leader of the epoch writes');
  const moved = m.store.get('/cairn/jobs/j1', {}, 0).node.modifiedIndex;
  await kvSet(m, { key: EPOCH_KEY, value: JSON.stringify({ term: 3, member: 'other' }) }); // a newer leader
  t.equal(await writeJobFenced(m, { ...next, state: 'pending' } as StoredJob, moved, epoch!), false, 'the deposed scheduler cannot write');
  t.match(m.store.get('/cairn/jobs/j1', {}, 0).node.value, /"assigned"/, 'the job kept the newer state');
  t.equal(await claimEpoch(m), undefined, 'a member of an older term does not take the epoch back');
});
