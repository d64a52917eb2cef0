// NotificationBatcher: a turn's notifications leave as one array frame, a lone one as itself,
// a reply flush keeps the order of the calls, and no frame grows past MAX_BATCH_CHARS.
import t from 'tap';
import { MAX_BATCH_CHARS, NotificationBatcher, subscriptionNotice } from '../../server/notification-batch.js';
import type { NotificationMode } from '../../core/api/types.js';

function batcher(mode: NotificationMode = 'batch'): { b: NotificationBatcher; frames: string[]; endTurn: () => void; scheduled: () => number } {
  const frames: string[] = [];
  const flushes: (() => void)[] = [];
  const b = new NotificationBatcher((frame) => frames.push(frame), (flush) => flushes.push(flush), mode);
  return { b, frames, endTurn: () => { for (const f of flushes.splice(0)) f(); }, scheduled: () => flushes.length };
}

const notice = (n: number, pad = 0): string => JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { subscription: 's', result: { n, pad: 'x'.repeat(pad) } } });

t.test('notifications of one turn leave as one JSON-RPC batch at the end of the turn', async (t) => {
  const { b, frames, endTurn, scheduled } = batcher();
  b.add(notice(1));
  b.add(notice(2));
  b.add(notice(3));
  t.equal(frames.length, 0, 'nothing is written before the turn ends');
  t.equal(scheduled(), 1, 'one flush per turn');
  endTurn();
  t.equal(frames.length, 1);
  t.same(JSON.parse(frames[0]!), [JSON.parse(notice(1)), JSON.parse(notice(2)), JSON.parse(notice(3))]);
  endTurn();
  t.equal(frames.length, 1, 'an empty flush writes nothing');
});

t.test('a lone notification is written as itself, not as an array of one', async (t) => {
  const { b, frames, endTurn } = batcher();
  b.add(notice(7));
  endTurn();
  t.same(frames, [notice(7)]);
});

t.test('flush() before a reply keeps notifications ahead of it', async (t) => {
  const { b, frames, endTurn } = batcher();
  b.add(notice(1));
  b.flush();
  frames.push('reply');
  b.add(notice(2));
  endTurn();
  t.same(frames, [notice(1), 'reply', notice(2)]);
});

t.test('a batch is written before it would pass MAX_BATCH_CHARS', async (t) => {
  const { b, frames, endTurn } = batcher();
  const big = Math.floor(MAX_BATCH_CHARS / 3);
  for (let i = 0; i < 7; i++) b.add(notice(i, big));
  endTurn();
  t.ok(frames.length >= 3, `${frames.length} frames`);
  for (const frame of frames) t.ok(frame.length <= MAX_BATCH_CHARS + 100, `a frame of ${frame.length} chars`);
  const all = frames.flatMap((f) => { const v = JSON.parse(f) as unknown; return Array.isArray(v) ? v : [v]; }) as { params: { result: { n: number } } }[];
  t.same(all.map((m) => m.params.result.n), [0, 1, 2, 3, 4, 5, 6], 'every notification, in order');
  const huge = notice(9, MAX_BATCH_CHARS * 2);
  b.add(huge);
  endTurn();
  t.equal(frames.at(-1), huge, 'one notification larger than the cap still goes out, alone');
});

type Parsed = { params: { subscription?: string; subscriptions?: string[]; result: unknown } };
const parseFrames = (frames: string[]): Parsed[] =>
  frames.flatMap((f) => { const v = JSON.parse(f) as Parsed | Parsed[]; return Array.isArray(v) ? v : [v]; });
/** Which streams got which result, in the order sent, whatever the grouping. */
const deliveries = (frames: string[]): [string, unknown][] =>
  parseFrames(frames).flatMap((n) => (n.params.subscriptions ?? [n.params.subscription!]).map((id): [string, unknown] => [id, n.params.result]));

t.test('grouped: consecutive notifications of one result become one naming every stream', async (t) => {
  const { b, frames, endTurn } = batcher('grouped');
  const r1 = JSON.stringify({ index: 1 });
  const r2 = JSON.stringify({ index: 2 });
  b.addResult('a', r1);
  b.addResult('b', r1);
  b.addResult('c', r1);
  b.addResult('a', r2);
  b.add(notice(9));
  b.addResult('b', r2);
  endTurn();
  t.equal(frames.length, 1);
  const sent = parseFrames(frames);
  t.same(sent.map((n) => n.params.subscriptions ?? n.params.subscription), [['a', 'b', 'c'], 'a', 's', 'b'], 'only consecutive ones are grouped; a lone one is plain');
  t.same(deliveries(frames), [['a', { index: 1 }], ['b', { index: 1 }], ['c', { index: 1 }], ['a', { index: 2 }], ['s', { n: 9, pad: '' }], ['b', { index: 2 }]], 'each stream in order');
});

t.test('grouped: a lone result is the plain notification; batch mode never groups', async (t) => {
  const grouped = batcher('grouped');
  grouped.b.addResult('a', '{"x":1}');
  grouped.endTurn();
  t.same(grouped.frames, [subscriptionNotice('a', '{"x":1}')]);
  const plain = batcher('batch');
  plain.b.addResult('a', '{"x":1}');
  plain.b.addResult('b', '{"x":1}');
  plain.endTurn();
  t.same(parseFrames(plain.frames).map((n) => n.params.subscription), ['a', 'b']);
});

t.test('grouped: a group is cut before its frame would pass MAX_BATCH_CHARS', async (t) => {
  const { b, frames, endTurn } = batcher('grouped');
  const result = JSON.stringify({ pad: 'x'.repeat(1000) });
  const ids = Array.from({ length: 30_000 }, (_, i) => `stream-${i}`);
  for (const id of ids) b.addResult(id, result);
  endTurn();
  t.ok(frames.length >= 2, `${frames.length} frames`);
  for (const frame of frames) t.ok(frame.length <= MAX_BATCH_CHARS + 1200, `a frame of ${frame.length} chars`);
  t.same(deliveries(frames).map(([id]) => id), ids, 'every stream once, in order');
});
