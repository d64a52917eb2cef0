// The recipe checks on hand-made event streams: a good semaphore, election and job history
// passes; too many holders, a token granted twice or out of order, a client token the stream
// never granted, two leaders counted on at once, an attempt assigned twice and a stuck job are
// each caught; a re-read (gap) makes a client's grant unverified rather than a violation.
import t from 'tap';
import type { Action, KvEvent } from '../../core/api/types.js';
import { checkElection, checkJobs, checkSemaphore } from './recipe-checks.js';

const ev = (action: Action, index: number, key: string, value?: unknown, createdIndex = index): KvEvent => ({
  action, index,
  node: { key, createdIndex, modifiedIndex: index, ...(value === undefined ? {} : { value: JSON.stringify(value) }) },
});

const SEM = '/cairn/semaphore/s/state';
const st = (holders: string[], tokens: Record<string, number>): object => ({ semaphore: 2 - holders.length, max: 2, holders, tokens, token: null });

t.test('semaphore: a good stream, token 0 resolved to the write index', async (t) => {
  const events = [
    ev('create', 3, SEM, st([], {})),
    ev('compareAndSwap', 4, SEM, st([], {})),
    ev('compareAndSwap', 6, SEM, st(['a'], { a: 0 })),
    ev('compareAndSwap', 8, SEM, st(['a', 'b'], { a: 6, b: 0 })),
    ev('compareAndSwap', 9, SEM, st(['b'], { b: 8 })),
    ev('compareAndSwap', 12, SEM, st(['b', 'a'], { b: 8, a: 0 })),
  ];
  const v = checkSemaphore(events, [{ who: 'a', token: 6, from: 1 }, { who: 'b', token: 8, from: 2 }, { who: 'a', token: 12, from: 3 }], { name: 's', max: 2 });
  t.same(v.violations, []);
  t.equal(v.grants, 3);
});

t.test('semaphore: too many holders, a changed token, an unknown client token', async (t) => {
  const events = [
    ev('compareAndSwap', 6, SEM, st(['a'], { a: 0 })),
    ev('compareAndSwap', 8, SEM, st(['a', 'b', 'c'], { a: 6, b: 0, c: 0 })),
    ev('compareAndSwap', 9, SEM, st(['a'], { a: 7 })),
  ];
  const v = checkSemaphore(events, [{ who: 'd', token: 20, from: 1 }, { who: 'b', token: 6, from: 1 }], { name: 's', max: 2 });
  const text = v.violations.join('\n');
  t.match(text, /3 holders/);
  t.match(text, /token 8 granted twice/);
  t.match(text, /a's token changed from 6 to 7/);
  t.match(text, /token 20, which the stream never granted/);
  t.match(text, /token 6 granted to both|token 6, which went to a/);
});

t.test('semaphore: a token lower than an earlier grant; a gap leaves client grants unverified', async (t) => {
  const lower = [ev('compareAndSwap', 9, SEM, st(['a'], { a: 0 })), ev('compareAndSwap', 10, SEM, st([], {})),
    { action: 'compareAndSwap', index: 11, node: { key: SEM, createdIndex: 1, modifiedIndex: 7, value: JSON.stringify(st(['b'], { b: 0 })) } } as KvEvent];
  t.match(checkSemaphore(lower, [], { name: 's', max: 2 }).violations.join(), /token 7 granted to b after token 9/);
  const gap = [ev('compareAndSwap', 6, SEM, st(['a'], { a: 0 })), ev('get', 20, SEM, st(['b'], { b: 15 }), 1)];
  const v = checkSemaphore(gap, [{ who: 'c', token: 12, from: 1 }, { who: 'b', token: 15, from: 2 }], { name: 's', max: 2 });
  t.same(v.violations, []);
  t.equal(v.gaps, 1);
  t.equal(v.unverified, 1);
});

const E = '/cairn/election/e';
const key = (i: number): string => `${E}/${String(i).padStart(20, '0')}`;
const cand = (c: string): object => ({ candidate: c, value: '', ttl: 2 });

t.test('election: a good stream; leaderships that do not overlap', async (t) => {
  const events = [
    ev('create', 5, key(5), cand('a')), ev('create', 6, key(6), cand('b')),
    ev('compareAndSwap', 7, key(5), cand('a'), 5), ev('compareAndDelete', 8, key(5), undefined, 5),
    ev('expire', 10, key(6), undefined, 6), ev('create', 11, key(11), cand('a')),
  ];
  // b's answer came after its leadership had already lapsed (to < from): never counted on.
  const clients = [{ who: 'a', token: 5, from: 0, to: 100 }, { who: 'b', token: 6, from: 120, to: 300 }, { who: 'a', token: 11, from: 310, to: 400 },
    { who: 'b', token: 6, from: 350, to: 200 }];
  const v = checkElection(events, clients, { name: 'e' });
  t.same(v.violations, []);
  t.equal(v.grants, 3);
});

t.test('election: a token never the leader, a token granted twice, overlapping leaderships', async (t) => {
  const events = [ev('create', 5, key(5), cand('a')), ev('create', 6, key(6), cand('b'))];
  const clients = [{ who: 'a', token: 5, from: 0, to: 100 }, { who: 'b', token: 6, from: 50, to: 300 }, { who: 'c', token: 5, from: 400, to: 500 }];
  const text = checkElection(events, clients, { name: 'e' }).violations.join('\n');
  t.match(text, /b was told it holds token 6, which the stream never granted/);
  t.match(text, /token 5 granted to both a and c/);
  t.match(text, /a \(token 5.*and b \(token 6.*both counted on leading at once/);
});

t.test('election: a re-read replaces the live candidacies', async (t) => {
  const reread: KvEvent = { action: 'get', index: 30, node: { key: E, dir: true, createdIndex: 2, modifiedIndex: 2,
    nodes: [{ key: key(25), value: JSON.stringify(cand('c')), createdIndex: 25, modifiedIndex: 25 }] } };
  const events = [ev('create', 5, key(5), cand('a')), reread, ev('delete', 31, key(25), undefined, 25), ev('create', 32, key(32), cand('a'))];
  const v = checkElection(events, [{ who: 'a', token: 5, from: 0, to: 1 }, { who: 'b', token: 20, from: 2, to: 3 }, { who: 'c', token: 25, from: 4, to: 5 }], { name: 'e' });
  t.same(v.violations, []);
  t.equal(v.unverified, 1);
});

const J = '/cairn/jobs/j1';
const job = (state: string, attempt: number, machine?: string, machineIndex?: number, token?: number): object =>
  ({ job: 'j1', state, attempt, ...(machine === undefined ? {} : { machine, machineIndex }), ...(token === undefined ? {} : { token }) });

t.test('jobs: a good stream: assigned, requeued, assigned again, done', async (t) => {
  const events = [
    ev('create', 10, J, job('pending', 1), 10), ev('compareAndSwap', 12, J, job('assigned', 1, 'm1', 3), 10),
    ev('compareAndSwap', 14, J, job('running', 1, 'm1', 3, 12), 10), ev('compareAndSwap', 20, J, job('pending', 2), 10),
    ev('compareAndSwap', 22, J, job('assigned', 2, 'm2', 4), 10), ev('compareAndSwap', 23, J, job('running', 2, 'm2', 4, 22), 10),
    ev('compareAndSwap', 25, J, job('succeeded', 2, 'm2', 4, 22), 10),
  ];
  const v = checkJobs(events, new Map([['j1', 'succeeded']]));
  t.same(v.violations, []);
  t.equal(v.grants, 2);
});

t.test('jobs: an attempt assigned twice, an attempt going back, a wrong running token, a stuck job', async (t) => {
  const events = [
    ev('compareAndSwap', 12, J, job('assigned', 1, 'm1', 3), 10), ev('compareAndSwap', 13, J, job('pending', 1), 10),
    ev('compareAndSwap', 14, J, job('assigned', 1, 'm1', 3), 10), ev('compareAndSwap', 15, J, job('assigned', 1, 'm2', 4), 10),
    ev('compareAndSwap', 16, J, job('running', 1, 'm1', 3, 99), 10),
    ev('compareAndSwap', 17, J, job('pending', 3), 10), ev('compareAndSwap', 18, J, job('pending', 2), 10),
  ];
  const text = checkJobs(events, new Map([['j1', 'pending'], ['j2', undefined]])).violations.join('\n');
  t.match(text, /j1#1 assigned a second time/);
  t.match(text, /j1#1 assigned to m2@4, already assigned to m1@3/);
  t.match(text, /running with token 99/);
  t.match(text, /attempt went back from 3 to 2/);
  t.match(text, /j1 ended pending/);
  t.match(text, /j2 ended missing/);
});
