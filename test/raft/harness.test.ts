// The test network's own checks must be able to fail, or the scenario tests prove nothing.
import t from 'tap';
import type { Ready } from '../../core/raft/index.js';
import { MemStore, Network, cluster, elect, ent, logWithTerms } from './harness.js';

function ready(partial: Partial<Ready>): Ready {
  return { entries: [], committedEntries: [], messages: [], messagesAfterPersist: [], readStates: [], mustSync: false, ...partial };
}

t.test('MemStore persists with truncation and refuses gaps', async (t) => {
  const s = new MemStore('a');
  s.persist(ready({ entries: [ent(1, 1), ent(2, 1), ent(3, 1)], hardState: { term: 1, vote: '', commit: 0 } }));
  s.persist(ready({ entries: [ent(2, 2)] }));
  t.same(s.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 2]]);
  t.throws(() => s.persist(ready({ entries: [ent(5, 2)] })), /gap/);
  t.throws(() => s.persist(ready({ hardState: { term: 0, vote: '', commit: 0 } })), /term went back/);
  t.throws(() => s.persist(ready({ hardState: { term: 2, vote: '', commit: 9 } })), /beyond the durable log/);
});

t.test('MemStore refuses to apply out of order, above commit, or what is not durable', async (t) => {
  const s = new MemStore('a');
  s.persist(ready({ entries: [ent(1, 1), ent(2, 1)], hardState: { term: 1, vote: '', commit: 1 } }));
  t.throws(() => s.apply(ready({ committedEntries: [ent(2, 1)] })), /out of order/);
  t.throws(() => s.apply(ready({ committedEntries: [ent(1, 9)] })), /not durable/);
  s.apply(ready({ committedEntries: [ent(1, 1)] }));
  t.throws(() => s.apply(ready({ committedEntries: [ent(2, 1)] })), /above the durable commit/);
});

t.test('stabilize throws when the network does not settle within its bound', async (t) => {
  const net = cluster(['a', 'b', 'c']);
  net.node('a').campaign();
  t.throws(() => net.stabilize(1), /did not settle/);
});

t.test('the State Machine Safety check catches two nodes applying different entries at one index', async (t) => {
  // Two isolated single-member "clusters" sharing the harness: they apply different no-ops
  // at the same index, which the check must flag.
  const net = Network.restart({
    a: { hardState: { term: 1, vote: '', commit: 1 }, entries: logWithTerms(['a'], []) },
    b: { hardState: { term: 1, vote: '', commit: 1 }, entries: logWithTerms(['b'], []) },
  });
  t.throws(() => net.stabilize(), /State Machine Safety/, 'different membership entries at index 1');
});

t.test('the Election Safety check catches two leaders in one term', async (t) => {
  const net = Network.restart({
    a: { hardState: { term: 1, vote: '', commit: 1 }, entries: logWithTerms(['a'], []), applied: 1 },
    b: { hardState: { term: 1, vote: '', commit: 1 }, entries: logWithTerms(['b'], []), applied: 1 },
  });
  elect(net, 'a');
  t.throws(() => elect(net, 'b'), /Election Safety/);
});
