// Key cleaning must match Go's path.Clean on "/" + key, as etcd v2 applies it.
import t from 'tap';
import { cleanKey, isHidden, isUnder, parentKey } from '../../core/store/path.js';

t.test('cleanKey', async (t) => {
  const cases: Array<[string, string]> = [
    ['a//b/', '/a/b'], ['/a/b', '/a/b'], ['a', '/a'], ['', '/'], ['/', '/'], ['//', '/'],
    ['/ts/c/../a', '/ts/a'], ['/a/./b', '/a/b'], ['/..', '/'], ['/../a', '/a'], ['a/b/../..', '/'],
    ['/a/b/.', '/a/b'], ['/a/..b', '/a/..b'], ['/with space', '/with space'],
  ];
  for (const [input, want] of cases) t.equal(cleanKey(input), want, JSON.stringify(input));
});

t.test('hidden and hierarchy helpers', async (t) => {
  t.ok(isHidden('/a/_b'));
  t.notOk(isHidden('/_a/b'), 'only the last segment counts');
  t.notOk(isHidden('/a/b_'));
  t.equal(parentKey('/a/b'), '/a');
  t.equal(parentKey('/a'), '/');
  t.ok(isUnder('/a/b', '/a'));
  t.ok(isUnder('/a', '/a'));
  t.notOk(isUnder('/ab', '/a'), 'a string prefix is not a path prefix');
  t.ok(isUnder('/x', '/'));
});
