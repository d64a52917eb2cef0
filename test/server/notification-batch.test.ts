// NotificationBatcher: a turn's notifications leave as one array frame, a lone one as itself,
// a reply flush keeps the order of the calls, and no frame grows past MAX_BATCH_CHARS.
import t from 'tap';
import { MAX_BATCH_CHARS, NotificationBatcher } from '../../server/notification-batch.js';

function batcher(): { b: NotificationBatcher; frames: string[]; endTurn: () => void; scheduled: () => number } {
  const frames: string[] = [];
  const flushes: (() => void)[] = [];
  const b = new NotificationBatcher((frame) => frames.push(frame), (flush) => flushes.push(flush));
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
