// Unit tests for the leader's ReadIndex queue (core/raft/read-only.ts, thesis §6.4): reads are
// confirmed by a quorum acknowledging a heartbeat round whose leader-generated sequence is at
// least the read's own, so a late reply from an earlier round cannot confirm a newer read
// (etcd #20418; TestReadOnlyDuplicateRequest, TestReadOnlyWithLearner).
import t from 'tap';
import { ReadOnlyQueue } from '../../core/raft/read-only.js';

const voters3 = ['a', 'b', 'c'];

t.test('sequence numbers increase and lastSeq reports the newest', async (t) => {
  const q = new ReadOnlyQueue();
  t.equal(q.lastSeq(), 0);
  const s1 = q.add(5, 'x', 'a', 'a');
  const s2 = q.add(5, 'y', 'a', 'a');
  t.ok(s2 > s1);
  t.equal(q.lastSeq(), s2);
  t.equal(q.size(), 2);
});

t.test('one ack plus the leader itself confirms a read in a 3-member cluster', async (t) => {
  const q = new ReadOnlyQueue();
  const s = q.add(7, 'ctx', 'a', 'a');
  const done = q.ack(s, 'b', voters3);
  t.same(done.map((r) => [r.index, r.context]), [[7, 'ctx']]);
  t.equal(q.size(), 0);
});

t.test('an ack for round s confirms every read up to s, oldest first', async (t) => {
  const q = new ReadOnlyQueue();
  const s1 = q.add(3, 'r1', 'a', 'a');
  q.add(4, 'r2', 'b', 'a');
  const s3 = q.add(5, 'r3', 'a', 'a');
  t.ok(s1 < s3);
  const done = q.ack(s3, 'c', voters3);
  t.same(done.map((r) => r.context), ['r1', 'r2', 'r3']);
  t.same(done.map((r) => r.from), ['a', 'b', 'a'], 'who asked is kept for forwarding the answer');
});

t.test('a late ack from an earlier round cannot confirm a read issued later (etcd #20418)', async (t) => {
  const q = new ReadOnlyQueue();
  const s1 = q.add(3, 'old', 'a', 'a');
  const s2 = q.add(3, 'new', 'a', 'a');
  const done = q.ack(s1, 'b', voters3);
  t.same(done.map((r) => r.context), ['old'], 'only the old read is confirmed');
  t.equal(q.size(), 1);
  t.same(q.ack(s1, 'c', voters3), [], 'a duplicate of the old round still does not confirm the new read');
  t.same(q.ack(s2, 'c', voters3).map((r) => r.context), ['new']);
});

t.test('duplicate acks from the same member do not make a quorum (TestReadOnlyDuplicateRequest)', async (t) => {
  const q = new ReadOnlyQueue();
  const s = q.add(3, 'r', 'a', 'a');
  const voters5 = ['a', 'b', 'c', 'd', 'e'];
  t.same(q.ack(s, 'b', voters5), []);
  t.same(q.ack(s, 'b', voters5), [], 'same member twice is still two of five');
  t.same(q.ack(s, 'c', voters5).map((r) => r.context), ['r']);
});

t.test('acks from learners or strangers do not count (TestReadOnlyWithLearner)', async (t) => {
  const q = new ReadOnlyQueue();
  const s = q.add(3, 'r', 'a', 'a');
  t.same(q.ack(s, 'learner', voters3), []);
  t.same(q.ack(s, 'stranger', voters3), []);
  t.equal(q.size(), 1);
  t.same(q.ack(s, 'c', voters3).map((r) => r.context), ['r']);
});

t.test('single-voter cluster: the leader alone is a quorum', async (t) => {
  const q = new ReadOnlyQueue();
  const s = q.add(1, 'solo', 'a', 'a');
  t.same(q.ack(s, 'a', ['a']).map((r) => r.context), ['solo']);
});

t.test('clear drops and returns every pending read', async (t) => {
  const q = new ReadOnlyQueue();
  q.add(1, 'x', 'a', 'a');
  q.add(1, 'y', 'a', 'a');
  t.same(q.clear().map((r) => r.context), ['x', 'y']);
  t.equal(q.size(), 0);
  const s = q.add(2, 'z', 'a', 'a');
  t.ok(s > 2, 'sequence numbers keep growing after clear');
});
