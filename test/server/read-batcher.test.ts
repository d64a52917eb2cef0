// ReadBatcher: linearizable reads share ReadIndex rounds, and a read is only answered by a
// round that started after it arrived.
import t from 'tap';
import { ReadBatcher } from '../../server/read-batcher.js';

/** A fake ReadIndex: each round is held until the test settles it. */
function rounds(): { issue: () => Promise<number>; started: { settle: (index: number | Error) => void }[] } {
  const started: { settle: (index: number | Error) => void }[] = [];
  const issue = (): Promise<number> => new Promise<number>((resolve, reject) => {
    started.push({ settle: (v) => (v instanceof Error ? reject(v) : resolve(v)) });
  });
  return { issue, started };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('reads of one turn share one round; reads during a round share the next', async (t) => {
  const { issue, started } = rounds();
  const batcher = new ReadBatcher(issue);
  const first = [batcher.read(), batcher.read(), batcher.read()];
  await turn();
  t.equal(started.length, 1, 'three reads, one round');
  const during = [batcher.read(), batcher.read()];
  await turn();
  t.equal(started.length, 1, 'no second round while the first is in flight');
  started[0]!.settle(10);
  t.same(await Promise.all(first), [10, 10, 10], 'the first round answers the reads that were there when it started');
  await turn();
  t.equal(started.length, 2, 'the reads that came during it get a round of their own, started after they arrived');
  started[1]!.settle(12);
  t.same(await Promise.all(during), [12, 12]);
});

t.test('a failed round fails its reads only; the batcher goes on', async (t) => {
  const { issue, started } = rounds();
  const batcher = new ReadBatcher(issue);
  const failing = batcher.read();
  failing.catch(() => undefined);
  await turn();
  const later = batcher.read();
  started[0]!.settle(new Error('no leader'));
  await t.rejects(failing, /no leader/, 'the read in the failed round fails');
  await turn();
  t.equal(started.length, 2, 'the next read starts a new round');
  started[1]!.settle(7);
  t.equal(await later, 7);
  await turn();
  t.equal(started.length, 2, 'an idle batcher starts no round');
});
