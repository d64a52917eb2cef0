// Unit tests for Inflights (core/raft/inflights.ts): the per-follower window of unacknowledged
// appends in the Replicate state, bounded by message count and by bytes (etcd
// tracker/inflights_test.go: TestInflightsAdd, TestInflightsFreeTo, TestInflightsFull).
import t from 'tap';
import { Inflights } from '../../core/raft/inflights.js';

t.test('add fills the window up to maxMessages; full() then refuses more (TestInflightsAdd)', async (t) => {
  const inf = new Inflights(3, 0);
  t.equal(inf.full(), false);
  inf.add(1, 10);
  inf.add(2, 10);
  t.equal(inf.full(), false);
  inf.add(5, 10);
  t.equal(inf.count(), 3);
  t.equal(inf.bytes(), 30);
  t.equal(inf.full(), true);
  t.throws(() => inf.add(6, 1), /full/);
});

t.test('indexes must increase', async (t) => {
  const inf = new Inflights(10, 0);
  inf.add(5, 1);
  t.throws(() => inf.add(5, 1), /does not follow/);
  t.throws(() => inf.add(4, 1), /does not follow/);
  t.equal(inf.count(), 1);
});

t.test('byte limit: full once the in-flight bytes reach maxBytes (MaxInflightBytes)', async (t) => {
  const inf = new Inflights(100, 100);
  inf.add(1, 60);
  t.equal(inf.full(), false);
  inf.add(2, 39);
  t.equal(inf.full(), false, '99 bytes < 100');
  inf.add(3, 1);
  t.equal(inf.full(), true, '100 bytes reaches the limit');
  inf.freeLE(1);
  t.equal(inf.bytes(), 40);
  t.equal(inf.full(), false);
});

t.test('one oversized message is allowed into an empty window, then it is full', async (t) => {
  const inf = new Inflights(100, 10);
  inf.add(1, 1000);
  t.equal(inf.full(), true);
  inf.freeLE(1);
  t.equal(inf.full(), false);
  t.equal(inf.bytes(), 0);
});

t.test('freeLE frees every message up to and including the index (TestInflightsFreeTo)', async (t) => {
  const inf = new Inflights(10, 0);
  for (let i = 1; i <= 10; i++) inf.add(i * 2, i);
  t.equal(inf.full(), true);
  inf.freeLE(1);
  t.equal(inf.count(), 10, 'index below every message frees nothing');
  inf.freeLE(6);
  t.equal(inf.count(), 7, 'frees 2, 4, 6');
  t.equal(inf.bytes(), 55 - 6);
  inf.freeLE(7);
  t.equal(inf.count(), 7, '7 is between messages 6 and 8');
  inf.freeLE(8);
  t.equal(inf.count(), 6);
  inf.freeLE(100);
  t.equal(inf.count(), 0);
  t.equal(inf.bytes(), 0);
  inf.add(21, 1);
  t.equal(inf.count(), 1, 'the window keeps working after emptying');
});

t.test('a long run of add/freeLE keeps count and bytes exact (internal compaction)', async (t) => {
  const inf = new Inflights(8, 0);
  let next = 1;
  let freed = 0;
  let expectedBytes = 0;
  const live: [number, number][] = [];
  for (let round = 0; round < 500; round++) {
    while (!inf.full()) {
      const bytes = (next % 7) + 1;
      inf.add(next, bytes);
      live.push([next, bytes]);
      expectedBytes += bytes;
      next++;
    }
    freed += 3;
    inf.freeLE(freed);
    while (live.length > 0 && live[0]![0] <= freed) expectedBytes -= live.shift()![1];
    if (inf.count() !== live.length || inf.bytes() !== expectedBytes) {
      t.fail(`round ${round}: count ${inf.count()} vs ${live.length}, bytes ${inf.bytes()} vs ${expectedBytes}`);
      return;
    }
  }
  t.pass('count and bytes agree with a naive list over 500 rounds');
});

t.test('reset empties the window', async (t) => {
  const inf = new Inflights(2, 0);
  inf.add(1, 5);
  inf.add(2, 5);
  inf.reset();
  t.equal(inf.count(), 0);
  t.equal(inf.bytes(), 0);
  t.equal(inf.full(), false);
  inf.add(1, 1);
  t.equal(inf.count(), 1, 'after reset, indexes may start lower again');
});
