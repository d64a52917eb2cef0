// CallLink, the per-call signal of the client: it fires with its source's reason or at its
// deadline, runs its listeners once in order, and dispose() leaves nothing attached or armed.
import t from 'tap';
import { CallLink } from '../../clients/retry.js';

const firedWithin = (link: CallLink, ms: number): Promise<boolean> => new Promise((resolve) => {
  const timer = setTimeout(() => resolve(false), ms);
  link.addEventListener('abort', () => { clearTimeout(timer); resolve(true); });
});

t.test('fires at the deadline with the deadline error, listeners once and in order', async (t) => {
  const order: string[] = [];
  const link = new CallLink([], Date.now() + 5, () => new Error('deadline passed'));
  link.addEventListener('abort', () => order.push('first'));
  link.addEventListener('abort', () => order.push('second'));
  t.equal(await firedWithin(link, 2000), true);
  t.equal(link.aborted, true);
  t.equal((link.reason as Error).message, 'deadline passed');
  t.same(order, ['first', 'second']);
  link.addEventListener('abort', () => order.push('late'));
  t.same(order, ['first', 'second'], 'a listener added after it fired never runs');
});

t.test('a source that fires passes on its reason; an aborted source fires it at once', async (t) => {
  const source = new AbortController();
  const link = new CallLink([undefined, source.signal]);
  let calls = 0;
  link.addEventListener('abort', () => calls++);
  source.abort('stop');
  t.equal(link.aborted, true);
  t.equal(link.reason, 'stop');
  t.equal(calls, 1);
  source.signal.dispatchEvent(new Event('abort'));
  t.equal(calls, 1, 'it fires once');
  const early = new CallLink([AbortSignal.abort('already')], Date.now() + 10_000);
  t.equal(early.aborted, true);
  t.equal(early.reason, 'already');
});

t.test('dispose() detaches from the sources and disarms the deadline', async (t) => {
  const source = new AbortController();
  const link = new CallLink([source.signal], Date.now() + 10, () => new Error('deadline'));
  let calls = 0;
  link.addEventListener('abort', () => calls++);
  link.dispose();
  source.abort('later');
  t.equal(await firedWithin(link, 100), false, 'neither the source nor the deadline fires it');
  t.equal(link.aborted, false);
  t.equal(calls, 0);
});

t.test('a removed listener does not run', async (t) => {
  const source = new AbortController();
  const link = new CallLink([source.signal]);
  const seen: string[] = [];
  const gone = (): void => { seen.push('gone'); };
  link.addEventListener('abort', gone);
  link.addEventListener('abort', () => seen.push('kept'));
  link.removeEventListener('abort', gone);
  source.abort();
  t.same(seen, ['kept']);
});
