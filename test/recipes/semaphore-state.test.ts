// The semaphore's pure state: transitions as locksmith does them, and token resolution (a
// stored 0 is the index of the write that made the value).
import t from 'tap';
import { decodeState, encodeState, grant, initialState, release, withMax } from '../../recipes/semaphore/state.js';

const KEY = '/cairn/semaphore/reboot/state';

t.test('a new semaphore has one free slot and no token yet', async (t) => {
  t.same(initialState(), { semaphore: 1, max: 1, holders: [], tokens: {}, token: null });
});

t.test('a grant takes a slot and marks its token as the granting write', async (t) => {
  const granted = grant(withMax(initialState(), 2), 'a');
  t.same(granted, { semaphore: 1, max: 2, holders: ['a'], tokens: { a: 0 }, token: 0 });
  const stored = encodeState(granted);
  t.same(decodeState(KEY, stored, 42), { semaphore: 1, max: 2, holders: ['a'], tokens: { a: 42 }, token: 42 },
    'read back at modifiedIndex 42, the pending token is 42');
});

t.test('a later write keeps earlier tokens as they were resolved', async (t) => {
  const afterA = decodeState(KEY, encodeState(grant(withMax(initialState(), 2), 'a')), 10);
  const afterB = decodeState(KEY, encodeState(grant(afterA, 'b')), 17);
  t.same(afterB.tokens, { a: 10, b: 17 });
  t.equal(afterB.token, 17);
  const afterRelease = decodeState(KEY, encodeState(release(afterB, 'b')), 20);
  t.same(afterRelease, { semaphore: 1, max: 2, holders: ['a'], tokens: { a: 10 }, token: 17 },
    'the latest token outlives its holder');
});

t.test('granting twice or releasing a non-holder is a programming error', async (t) => {
  t.throws(() => grant(grant(initialState(), 'a'), 'a'));
  t.throws(() => release(initialState(), 'a'));
});

t.test('setMax moves the free count and may leave it negative', async (t) => {
  const two = grant(grant(withMax(initialState(), 2), 'a'), 'b');
  t.same(withMax(two, 1), { ...two, semaphore: -1, max: 1 });
  t.same(withMax(withMax(two, 0), 3).semaphore, 1);
});

t.test('locksmith\'s own value is understood', async (t) => {
  t.same(decodeState(KEY, '{"semaphore":1,"max":1,"holders":null}', 5), initialState());
  t.same(decodeState(KEY, '{"semaphore":0,"max":1,"holders":["m1"]}', 5),
    { semaphore: 0, max: 1, holders: ['m1'], tokens: { m1: 5 }, token: null });
});

t.test('a value that is not a semaphore state is refused with a way out', async (t) => {
  for (const bad of ['nope', '[]', '{"semaphore":"1","max":1}', '{"semaphore":1,"max":1,"holders":[1]}', undefined]) {
    t.throws(() => decodeState(KEY, bad, 1), { code: -32603, message: /does not hold a semaphore state.*delete it/ }, String(bad));
  }
});
