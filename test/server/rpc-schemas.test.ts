// Params checking (server/rpc-schemas.ts, server/kv-rules.ts): every method accepts its valid
// shapes and refuses bad ones naming the exact fields, etcd v2's cross-field rules included.
import { RECIPE_METHODS } from '../../recipes/index.js';
import t from 'tap';
import type { Test } from 'tap';
import {
  MAX_PROBLEMS, MAX_TIMEOUT_MS, MAX_TTL_SECONDS, MAX_TXN_COMPARES, MAX_TXN_OPS, METHODS, paramErrors,
} from '../../server/rpc-schemas.js';

const SET_KNOWN = 'key, value, dir, ttl, refresh, prevExist, prevValue, prevIndex';

/** Params for an assertion's name, cut short so huge values do not flood the output. */
const show = (params: unknown): string => {
  const text = JSON.stringify(params) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/** The sorted fields named for `params`; [] when they are accepted. */
const fields = (method: string, params: unknown): string[] =>
  (paramErrors(method, params) ?? []).map((e) => e.field).sort();

function accepts(t: Test, method: string, params: unknown): void {
  t.equal(paramErrors(method, params), undefined, `${method} accepts ${show(params)}`);
}

function refuses(t: Test, method: string, params: unknown, expected: string[], label?: string): void {
  const what = label ?? show(params);
  t.strictSame(fields(method, params), [...expected].sort(), `${method} ${what} names ${expected.join(', ')}`);
}

/** The one problem named for `field`. */
function problemFor(method: string, params: unknown, field: string): string | undefined {
  return (paramErrors(method, params) ?? []).find((e) => e.field === field)?.problem;
}

t.test('METHODS lists every method with a schema; other methods are not checked here', async (t) => {
  const builtIn = METHODS.filter((m) => !RECIPE_METHODS.has(m));
  t.strictSame([...builtIn].sort(), [
    'cluster.addMember', 'cluster.members', 'cluster.removeMember', 'cluster.status', 'cluster.transferLeader',
    'kv.create', 'kv.delete', 'kv.get', 'kv.set', 'kv.txn', 'kv.wait', 'kv.watch', 'unsubscribe',
  ]);
  t.ok([...RECIPE_METHODS.keys()].every((m) => METHODS.includes(m)), 'and every recipe method');
  t.equal(paramErrors('kv.nope', { anything: 1 }), undefined);
});

t.test('each method accepts its valid shapes', async (t) => {
  const valid: [string, unknown][] = [
    ['kv.get', { key: '/a' }],
    ['kv.get', { key: '/a', recursive: true, sorted: false, consistency: 'linearizable' }],
    ['kv.get', { key: '/a', consistency: 'serializable', minIndex: 0 }],
    ['kv.get', { key: '/a', consistency: 'serializable', minIndex: 42 }],
    ['kv.set', { key: '/a' }],
    ['kv.set', { key: '/a', value: '', ttl: 0 }],
    ['kv.set', { key: '/a', value: 'x'.repeat(100_000), ttl: MAX_TTL_SECONDS }],
    ['kv.set', { key: 'k'.repeat(4096), value: 'v' }],
    ['kv.set', { key: '/a', value: 'v', prevExist: true, prevValue: 'old', prevIndex: 7 }],
    ['kv.set', { key: '/a', prevIndex: 0 }],
    ['kv.set', { key: '/a', dir: true, ttl: 5 }],
    ['kv.set', { key: '/a', dir: false, value: 'v' }],
    ['kv.set', { key: '/a', refresh: true, ttl: 10, prevExist: true }],
    ['kv.set', { key: '/a', refresh: false, value: 'v' }],
    ['kv.create', { key: '/q' }],
    ['kv.create', { key: '/q', value: 'job', ttl: 30 }],
    ['kv.create', { key: '/q', dir: true }],
    ['kv.delete', { key: '/a' }],
    ['kv.delete', { key: '/a', dir: true, recursive: true }],
    ['kv.delete', { key: '/a', prevValue: 'v', prevIndex: 3 }],
    ['kv.wait', { key: '/a' }],
    ['kv.wait', { key: '/a', recursive: true, waitIndex: 0, timeoutMs: 1 }],
    ['kv.wait', { key: '/a', waitIndex: 99, timeoutMs: MAX_TIMEOUT_MS }],
    ['kv.watch', { key: '/a' }],
    ['kv.watch', { key: '/a', recursive: false, waitIndex: 5, progressMs: 100 }],
    ['kv.watch', { key: '/a', progressMs: MAX_TIMEOUT_MS }],
    ['unsubscribe', { subscription: 'abc' }],
    ['cluster.status', undefined],
    ['cluster.status', {}],
    ['cluster.members', {}],
    ['cluster.addMember', { peerUrls: ['http://127.0.0.1:7002'], name: 'two' }],
    ['cluster.addMember', { peerUrls: ['http://10.0.0.1:7001/', 'http://h:1'] }],
    ['cluster.removeMember', { id: 'abc' }],
    ['cluster.transferLeader', { id: 'abc' }],
  ];
  for (const [method, params] of valid) accepts(t, method, params);
});

t.test('kv.txn accepts compares and every kind of op, up to its bounds', async (t) => {
  accepts(t, 'kv.txn', {
    compare: [{ key: '/a', value: 'x' }, { key: '/b', index: 3 }, { key: '/c', exists: false }, { key: '/d', exists: true, value: '' }],
    success: [{ set: { key: '/a', value: 'y', prevIndex: 3 } }, { create: { key: '/q', value: 'j' } }, { delete: { key: '/b', recursive: true } }, { get: { key: '/c', recursive: true, sorted: true } }],
    failure: [{ get: { key: '/a' } }],
  });
  accepts(t, 'kv.txn', { compare: [], success: [] });
  const compare = Array.from({ length: MAX_TXN_COMPARES }, (_, i) => ({ key: `/k${i}` }));
  const ops = Array.from({ length: MAX_TXN_OPS }, (_, i) => ({ get: { key: `/k${i}` } }));
  t.equal(paramErrors('kv.txn', { compare, success: ops, failure: ops }), undefined, 'kv.txn accepts 64 compares and 64 ops a branch');
});

t.test('missing required params are named', async (t) => {
  for (const m of ['kv.get', 'kv.set', 'kv.create', 'kv.delete', 'kv.wait', 'kv.watch']) refuses(t, m, {}, ['key']);
  refuses(t, 'kv.txn', {}, ['compare', 'success']);
  refuses(t, 'unsubscribe', {}, ['subscription']);
  refuses(t, 'cluster.addMember', {}, ['peerUrls']);
  refuses(t, 'cluster.removeMember', undefined, ['id']);
  refuses(t, 'cluster.transferLeader', {}, ['id']);
  t.equal(problemFor('kv.set', {}, 'key'), 'is required');
});

t.test('unknown params are named by their own name, with the known ones listed', async (t) => {
  refuses(t, 'kv.set', { key: '/a', vaule: 'x' }, ['vaule']);
  t.equal(problemFor('kv.set', { key: '/a', vaule: 'x' }, 'vaule'), `is not a known parameter of kv.set; known: ${SET_KNOWN}`);
  refuses(t, 'kv.get', { key: '/a', quorum: true }, ['quorum']);
  refuses(t, 'kv.create', { key: '/a', prevExist: false }, ['prevExist']);
  refuses(t, 'kv.delete', { key: '/a', prevExist: true }, ['prevExist']);
  refuses(t, 'kv.wait', { key: '/a', progressMs: 1000 }, ['progressMs']);
  refuses(t, 'kv.watch', { key: '/a', timeoutMs: 1000 }, ['timeoutMs']);
  refuses(t, 'unsubscribe', { subscription: 's', id: 1 }, ['id']);
  refuses(t, 'kv.txn', { compare: [], success: [], atomic: true }, ['atomic']);
  refuses(t, 'cluster.status', { verbose: true }, ['verbose']);
  t.equal(problemFor('cluster.members', { x: 1 }, 'x'), 'is not a known parameter of cluster.members, which takes none');
});

t.test('names that are odd for JavaScript or JSON pointers are named safely', async (t) => {
  refuses(t, 'kv.set', JSON.parse('{"key":"/a","__proto__":{"x":1},"constructor":1}'), ['__proto__', 'constructor']);
  refuses(t, 'kv.set', { key: '/a', 'a/b': 1, 'c~d': 2 }, ['a~1b', 'c~0d']);
  refuses(t, 'kv.txn', JSON.parse('{"compare":[],"success":[{"__proto__":{"key":"/a"}}]}'), ['success/0/__proto__']);
});

t.test('wrong types are named, with the type wanted', async (t) => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['kv.get', { key: 1 }, 'key', 'must be a string'],
    ['kv.get', { key: '/a', recursive: 'true' }, 'recursive', 'must be a boolean (true or false)'],
    ['kv.get', { key: '/a', sorted: 1 }, 'sorted', 'must be a boolean (true or false)'],
    ['kv.get', { key: '/a', consistency: 'quorum' }, 'consistency', 'must be one of: "linearizable", "serializable"'],
    ['kv.set', { key: '/a', value: 5 }, 'value', 'must be a string'],
    ['kv.set', { key: '/a', value: null }, 'value', 'must be a string'],
    ['kv.set', { key: '/a', ttl: '10' }, 'ttl', 'must be an integer'],
    ['kv.set', { key: '/a', ttl: 1.5 }, 'ttl', 'must be an integer'],
    ['kv.set', { key: '/a', prevIndex: '3' }, 'prevIndex', 'must be an integer'],
    ['kv.set', { key: '/a', prevExist: 'false' }, 'prevExist', 'must be a boolean (true or false)'],
    ['kv.set', { key: '/a', refresh: 1, ttl: 1 }, 'refresh', 'must be a boolean (true or false)'],
    ['kv.set', { key: '/a', dir: 'yes' }, 'dir', 'must be a boolean (true or false)'],
    ['kv.delete', { key: '/a', prevValue: 3 }, 'prevValue', 'must be a string'],
    ['kv.wait', { key: '/a', timeoutMs: '5' }, 'timeoutMs', 'must be an integer'],
    ['kv.watch', { key: '/a', waitIndex: true }, 'waitIndex', 'must be an integer'],
    ['unsubscribe', { subscription: 7 }, 'subscription', 'must be a string'],
    ['kv.txn', { compare: {}, success: [] }, 'compare', 'must be an array'],
    ['cluster.addMember', { peerUrls: 'http://h:1' }, 'peerUrls', 'must be an array'],
    ['cluster.removeMember', { id: 5 }, 'id', 'must be a string'],
  ];
  for (const [method, params, field, problem] of cases) {
    refuses(t, method, params, [field]);
    t.equal(problemFor(method, params, field), problem);
  }
  refuses(t, 'kv.get', 'key=/a', ['(params)']);
  t.equal(problemFor('kv.get', [], '(params)'), 'must be an object');
});

t.test('values out of range are named, with the bound', async (t) => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['kv.get', { key: '' }, 'key', 'must be a non-empty key of at most 4096 characters'],
    ['kv.get', { key: 'k'.repeat(4097) }, 'key', 'must be a non-empty key of at most 4096 characters'],
    ['kv.get', { key: '/a', consistency: 'serializable', minIndex: -1 }, 'minIndex', 'must be at least 0'],
    ['kv.set', { key: '/a', ttl: -1 }, 'ttl', 'must be at least 0'],
    ['kv.set', { key: '/a', ttl: MAX_TTL_SECONDS + 1 }, 'ttl', `must be at most ${MAX_TTL_SECONDS}`],
    ['kv.set', { key: '/a', prevIndex: -1 }, 'prevIndex', 'must be at least 0'],
    ['kv.set', { key: '/a', prevIndex: 2 ** 53 }, 'prevIndex', `must be at most ${Number.MAX_SAFE_INTEGER}`],
    ['kv.create', { key: '/a', ttl: -5 }, 'ttl', 'must be at least 0'],
    ['kv.delete', { key: '/a', prevIndex: -2 }, 'prevIndex', 'must be at least 0'],
    ['kv.wait', { key: '/a', waitIndex: -1 }, 'waitIndex', 'must be at least 0'],
    ['kv.wait', { key: '/a', timeoutMs: 0 }, 'timeoutMs', 'must be at least 1'],
    ['kv.wait', { key: '/a', timeoutMs: MAX_TIMEOUT_MS + 1 }, 'timeoutMs', `must be at most ${MAX_TIMEOUT_MS}`],
    ['kv.watch', { key: '/a', progressMs: 99 }, 'progressMs', 'must be at least 100'],
    ['kv.watch', { key: '/a', progressMs: MAX_TIMEOUT_MS + 1 }, 'progressMs', `must be at most ${MAX_TIMEOUT_MS}`],
    ['unsubscribe', { subscription: '' }, 'subscription', 'must be a non-empty subscription id'],
    ['cluster.addMember', { peerUrls: [] }, 'peerUrls', 'must have at least 1 item'],
    ['cluster.addMember', { peerUrls: ['http://h:1'], name: 'a b' }, 'name', 'must be 1 to 64 letters, digits, ".", "_" or "-"'],
    ['cluster.removeMember', { id: '' }, 'id', 'must be a member id from cluster.members'],
  ];
  for (const [method, params, field, problem] of cases) {
    refuses(t, method, params, [field]);
    t.equal(problemFor(method, params, field), problem);
  }
  refuses(t, 'cluster.addMember', { peerUrls: ['http://h:1', 'ftp://h:2'] }, ['peerUrls/1']);
});

t.test('refresh needs a ttl and keeps the value (etcd 212 / 211)', async (t) => {
  refuses(t, 'kv.set', { key: '/a', refresh: true }, ['ttl']);
  t.match(problemFor('kv.set', { key: '/a', refresh: true }, 'ttl'), /^is required when refresh is true.*212/);
  refuses(t, 'kv.set', { key: '/a', refresh: true, ttl: 5, value: 'v' }, ['value']);
  t.match(problemFor('kv.set', { key: '/a', refresh: true, ttl: 5, value: 'v' }, 'value'), /^must not be given when refresh is true.*211/);
  refuses(t, 'kv.set', { key: '/a', refresh: true, value: 'v' }, ['ttl', 'value']);
  // etcd refuses only a non-empty value: it reads value= as no value.
  accepts(t, 'kv.set', { key: '/a', refresh: true, ttl: 5, value: '' });
  accepts(t, 'kv.set', { key: '/a', refresh: true, ttl: 0, prevExist: false });
  accepts(t, 'kv.set', { key: '/a', refresh: false });
});

t.test('a directory takes no value, on kv.set and kv.create', async (t) => {
  for (const method of ['kv.set', 'kv.create']) {
    refuses(t, method, { key: '/d', dir: true, value: 'v' }, ['value']);
    refuses(t, method, { key: '/d', dir: true, value: '' }, ['value']);
    t.equal(problemFor(method, { key: '/d', dir: true, value: 'v' }, 'value'), 'must not be given when dir is true: a directory has no value');
  }
});

t.test('an empty prevValue is refused as etcd 201 does', async (t) => {
  for (const method of ['kv.set', 'kv.delete']) {
    refuses(t, method, { key: '/a', prevValue: '' }, ['prevValue']);
    t.match(problemFor(method, { key: '/a', prevValue: '' }, 'prevValue'), /^must be a non-empty string.*201/);
  }
});

t.test('minIndex needs consistency serializable', async (t) => {
  refuses(t, 'kv.get', { key: '/a', minIndex: 3 }, ['minIndex']);
  refuses(t, 'kv.get', { key: '/a', minIndex: 3, consistency: 'linearizable' }, ['minIndex']);
  t.match(problemFor('kv.get', { key: '/a', minIndex: 3 }, 'minIndex'), /^is only allowed with consistency "serializable"/);
  // A bad consistency is reported once, as itself, not again through minIndex.
  refuses(t, 'kv.get', { key: '/a', minIndex: 3, consistency: 'stale' }, ['consistency']);
});

t.test('combinations etcd defines are left to the store, as etcd does', async (t) => {
  // etcd: prevExist=false is a create that ignores prevValue and prevIndex (notes §3).
  accepts(t, 'kv.set', { key: '/a', value: 'v', prevExist: false, prevValue: 'x', prevIndex: 3 });
  // etcd: a delete with prevValue/prevIndex is a compareAndDelete; dir and recursive are ignored.
  accepts(t, 'kv.delete', { key: '/a', recursive: true, dir: true, prevValue: 'v', prevIndex: 4 });
});

t.test('a compare with exists: false takes no value or index', async (t) => {
  refuses(t, 'kv.txn', { compare: [{ key: '/a', exists: false, value: 'v', index: 2 }], success: [] }, ['compare/0/index', 'compare/0/value']);
  accepts(t, 'kv.txn', { compare: [{ key: '/a', exists: true, value: 'v', index: 2 }], success: [] });
});

t.test('txn errors are named by their path inside compare, success and failure', async (t) => {
  refuses(t, 'kv.txn', { compare: [{}], success: [] }, ['compare/0/key']);
  refuses(t, 'kv.txn', { compare: [{ key: '/a', idx: 1 }], success: [] }, ['compare/0/idx']);
  refuses(t, 'kv.txn', { compare: [], success: [{ set: { key: '/a', ttl: -1 } }] }, ['success/0/set/ttl']);
  refuses(t, 'kv.txn', { compare: [], success: [], failure: [{ get: { key: '/a' } }, { delete: { key: '/a', prevValue: '' } }] }, ['failure/1/delete/prevValue']);
  refuses(t, 'kv.txn', { compare: [], success: [{ get: { key: '/a', consistency: 'serializable' } }] }, ['success/0/get/consistency']);
  t.equal(problemFor('kv.txn', { compare: [], success: [{ set: { key: '/a', vaule: 1 } }] }, 'success/0/set/vaule'),
    `is not a known parameter of kv.set; known: ${SET_KNOWN}`);
  // The cross-field rules apply inside ops too.
  refuses(t, 'kv.txn', { compare: [], success: [{ set: { key: '/a', refresh: true } }] }, ['success/0/set/ttl']);
  refuses(t, 'kv.txn', { compare: [], success: [], failure: [{ create: { key: '/q', dir: true, value: 'v' } }] }, ['failure/0/create/value']);
});

t.test('a txn op holds exactly one known operation', async (t) => {
  refuses(t, 'kv.txn', { compare: [], success: [{}] }, ['success/0']);
  refuses(t, 'kv.txn', { compare: [], success: [{ get: { key: '/a' }, delete: { key: '/a' } }] }, ['success/0']);
  t.equal(problemFor('kv.txn', { compare: [], success: [{}] }, 'success/0'), 'must hold exactly one of: set, create, delete, get');
  refuses(t, 'kv.txn', { compare: [], success: [{ put: { key: '/a' } }] }, ['success/0/put']);
  refuses(t, 'kv.txn', { compare: [], success: ['get'] }, ['success/0']);
  refuses(t, 'kv.txn', { compare: [], success: [{ get: '/a' }] }, ['success/0/get']);
});

t.test('txn bounds: compares and ops per branch', async (t) => {
  const compare = Array.from({ length: MAX_TXN_COMPARES + 1 }, (_, i) => ({ key: `/k${i}` }));
  const ops = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => ({ get: { key: `/k${i}` } }));
  refuses(t, 'kv.txn', { compare, success: [] }, ['compare'], 'with 65 compares');
  refuses(t, 'kv.txn', { compare: [], success: ops }, ['success'], 'with 65 success ops');
  refuses(t, 'kv.txn', { compare: [], success: [], failure: ops }, ['failure'], 'with 65 failure ops');
  t.equal(problemFor('kv.txn', { compare: [], success: ops }, 'success'), `must have at most ${MAX_TXN_OPS} items`);
});

t.test('every problem of a request is reported at once, one per field', async (t) => {
  refuses(t, 'kv.set', { key: '', ttl: -1, prevIndex: 1.5, dir: true, value: 'v', extra: 1 }, ['extra', 'key', 'prevIndex', 'ttl', 'value']);
  refuses(t, 'kv.txn', {
    compare: [{ key: '/a', exists: false, index: 1 }, { key: 3 }],
    success: [{ set: { key: '/a', refresh: true, value: 'v' } }, {}],
    failure: [{ delete: {} }],
    extra: true,
  }, ['compare/0/index', 'compare/1/key', 'extra', 'failure/0/delete/key', 'success/0/set/ttl', 'success/0/set/value', 'success/1']);
  // A field both ill-typed and caught by a rule is named once, for its type.
  const errors = paramErrors('kv.set', { key: '/a', dir: true, value: 5 }) ?? [];
  t.strictSame(errors, [{ field: 'value', problem: 'must be a string' }]);
});

t.test('a huge bad request gets a bounded list of problems', async (t) => {
  const params: Record<string, unknown> = { key: '/a' };
  for (let i = 0; i < 100; i++) params[`x${i}`] = i;
  const errors = paramErrors('kv.set', params) ?? [];
  t.equal(errors.length, MAX_PROBLEMS);
  t.strictSame(errors.slice(0, 2).map((e) => e.field), ['x0', 'x1']);
  t.strictSame(errors[MAX_PROBLEMS - 1], { field: '(params)', problem: `has ${100 - (MAX_PROBLEMS - 1)} more problems not listed; fix these first` });
});

t.test('a string with an unpaired UTF-16 surrogate is refused wherever it is, a paired one is kept', async (t) => {
  // JSON can carry a lone surrogate as an escape; UTF-8 (the log's and the snapshots') cannot.
  const lone = 'a\ud800b';
  refuses(t, 'kv.set', { key: '/a', value: lone }, ['value']);
  refuses(t, 'kv.set', { key: '/a\udc00', value: 'v' }, ['key']);
  refuses(t, 'kv.set', { key: '/a', prevValue: 'x\ud83d' }, ['prevValue']);
  refuses(t, 'kv.delete', { key: '/a', prevValue: '\udfff' }, ['prevValue']);
  refuses(t, 'kv.txn', { compare: [{ key: '/c', value: lone }], success: [{ set: { key: '/a', value: lone } }] }, ['compare/0/value', 'success/0/set/value']);
  refuses(t, 'semaphore.acquire', { name: 'reboot', holder: lone }, ['holder']);
  t.match(problemFor('kv.set', { key: '/a', value: lone }, 'value'), /^holds an unpaired UTF-16 surrogate .*send well-formed Unicode$/);
  accepts(t, 'kv.set', { key: '/emoji/\ud83d\ude00', value: '\ud83d\ude00 and \u00e9' });
});
