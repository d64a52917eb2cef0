// Key cleaning must match Go's path.Clean on "/" + key, as etcd v2 applies it.
import t from 'tap';
import { cleanKey, isHidden, isUnder, parentKey } from '../../core/store/path.js';
import { rng } from './helpers.js';

t.test('cleanKey', async (t) => {
  const cases: Array<[string, string]> = [
    ['a//b/', '/a/b'], ['/a/b', '/a/b'], ['a', '/a'], ['', '/'], ['/', '/'], ['//', '/'],
    ['/ts/c/../a', '/ts/a'], ['/a/./b', '/a/b'], ['/..', '/'], ['/../a', '/a'], ['a/b/../..', '/'],
    ['/a/b/.', '/a/b'], ['/a/..b', '/a/..b'], ['/with space', '/with space'],
    ['/a/.hidden', '/a/.hidden'], ['/a/', '/a'], ['/a//b', '/a/b'], ['/.', '/'], ['/a.b/c.', '/a.b/c.'],
  ];
  for (const [input, want] of cases) t.equal(cleanKey(input), want, JSON.stringify(input));
});

/** path.Clean written the plain way, without cleanKey's shortcut for keys already clean. */
function cleanSlowly(key: string): string {
  const out: string[] = [];
  for (const seg of ('/' + key).split('/')) {
    if (seg === '..') out.pop();
    else if (seg !== '' && seg !== '.') out.push(seg);
  }
  return '/' + out.join('/');
}

t.test('cleanKey agrees with path.Clean on random keys, clean or not', async (t) => {
  const alphabet = ['a', 'b', '/', '/', '.', '_'];
  for (let seed = 1; seed <= 20; seed++) {
    const random = rng(seed);
    let disagreements = 0;
    for (let i = 0; i < 500; i++) {
      let key = '';
      for (let n = Math.floor(random() * 9); n > 0; n--) key += alphabet[Math.floor(random() * alphabet.length)];
      const clean = cleanKey(key);
      if (clean !== cleanSlowly(key) || cleanKey(clean) !== clean) {
        disagreements++;
        t.fail(`seed ${seed}: cleanKey(${JSON.stringify(key)}) is ${JSON.stringify(clean)}, path.Clean says ${JSON.stringify(cleanSlowly(key))}, and cleaning that again gives ${JSON.stringify(cleanKey(clean))}`);
      }
    }
    t.equal(disagreements, 0, `seed ${seed}: 500 random keys`);
  }
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
