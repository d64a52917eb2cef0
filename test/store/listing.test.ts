// Directory listings: hidden keys left out (but readable directly), recursive and sorted.
import t from 'tap';
import { Store } from '../../core/store/store.js';
import { T0 } from './helpers.js';

function fill(): Store {
  const s = new Store();
  for (const k of ['/l/c', '/l/a', '/l/_h', '/l/b/y', '/l/b/x', '/l/_hd/z']) s.set(k, { value: k }, T0);
  return s;
}

t.test('hidden keys are omitted from listings, not from direct reads', async (t) => {
  const s = fill();
  const keys = s.get('/l', {}, T0).node.nodes!.map((n) => n.key);
  t.same(keys, ['/l/c', '/l/a', '/l/b'], 'unsorted listing keeps insertion order');
  t.equal(s.get('/l/_h', {}, T0).node.value, '/l/_h');
  t.same(s.get('/l/_hd', {}, T0).node.nodes!.map((n) => n.key), ['/l/_hd/z'], 'a hidden dir lists directly');
});

t.test('non-recursive listings show child dirs without their children', async (t) => {
  const s = fill();
  const b = s.get('/l', { sorted: true }, T0).node.nodes!.find((n) => n.key === '/l/b');
  t.same(b, { key: '/l/b', dir: true, createdIndex: 4, modifiedIndex: 4 });
});

t.test('recursive sorted listing', async (t) => {
  const s = fill();
  const n = s.get('l', { recursive: true, sorted: true }, T0).node;
  t.same(n.nodes!.map((c) => c.key), ['/l/a', '/l/b', '/l/c']);
  t.same(n.nodes![1]!.nodes!.map((c) => c.key), ['/l/b/x', '/l/b/y']);
  t.same(s.get('/l/b', { recursive: true }, T0).node.nodes!.map((c) => c.key), ['/l/b/y', '/l/b/x']);
});

t.test('a directory does not change its indexes when children change', async (t) => {
  const s = fill();
  s.set('/l/new', { value: 'n' }, T0);
  s.delete('/l/a', {}, T0);
  const l = s.get('/l', {}, T0).node;
  t.same([l.createdIndex, l.modifiedIndex], [1, 1]);
  s.set('/e', { dir: true }, T0);
  t.notOk('nodes' in s.get('/e', {}, T0).node, 'an empty dir has no nodes field');
});
