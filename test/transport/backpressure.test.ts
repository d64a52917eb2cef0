// The send queue is bounded: when the receiver stops reading, or is gone, messages are
// dropped and reported (Raft resends) while the memory held for the peer stays within
// maxQueueBytes; the connection stays usable.
import t from 'tap';
import { append, connected, sameMessages, startCluster, startMember, startStalledPeer, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a receiver that stops reading: the queue stays within its bound and drops are reported', async (t) => {
  const bound = 2 * MiB;
  const stalled = await startStalledPeer(t);
  const a = await startMember(t, 'a', { maxQueueBytes: bound });
  a.transport.addPeer('s', stalled.url);
  await waitFor('connected', () => a.transport.stats().peers['s']?.state === 'open');
  let peak = 0;
  // 300 turns of 16 appends of 4 x 4 KiB: about 75 MiB offered, far beyond socket buffers.
  for (let i = 0; i < 300; i++) {
    a.transport.send(Array.from({ length: 16 }, (_, j) => append('a', 's', (i * 16 + j) * 4, 4, 4096)));
    await turn();
    const s = a.transport.stats().peers['s']!;
    peak = Math.max(peak, s.queuedBytes + s.bufferedBytes);
  }
  const s = a.transport.stats().peers['s']!;
  t.ok(peak <= bound, `peak queued + socket-buffered bytes ${peak} <= ${bound}`);
  t.ok(s.droppedMessages > 3000, `${s.droppedMessages} of 4800 messages dropped`);
  t.equal(s.state, 'open', 'the connection itself stays up');
  t.ok(a.unreachable.length > 0 && a.unreachable.every((id) => id === 's'), 'onUnreachable(s) called');
  t.ok(a.unreachable.length <= 300, `reported at most once per turn (${a.unreachable.length})`);
  t.match(a.logs.join('\n'), /dropping messages to s: the send queue is full/);
  const dropLines = a.logs.filter((l) => /dropping messages/.test(l)).length;
  t.ok(dropLines <= 2, `drops logged ${dropLines} time(s), not once per message`);
});

t.test('a stopped receiver: sends are dropped at once, nothing accumulates', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { maxQueueBytes: 4 * MiB });
  await connected(a!, 'b');
  await b!.transport.stop();
  await waitFor('a sees b down', () => a!.transport.stats().peers['b']!.state !== 'open');
  for (let i = 0; i < 200; i++) {
    a!.transport.send(Array.from({ length: 16 }, (_, j) => append('a', 'b', (i * 16 + j) * 4, 4, 4096)));
    if (i % 10 === 0) await turn();
    const s = a!.transport.stats().peers['b']!;
    if (s.queuedBytes + s.bufferedBytes > 4 * MiB) t.fail(`queue grew to ${s.queuedBytes + s.bufferedBytes}`);
  }
  await turn();
  const s = a!.transport.stats().peers['b']!;
  t.ok(s.queuedBytes <= 4 * MiB, `queued ${s.queuedBytes} bytes`);
  t.ok(s.droppedMessages >= 3000, `${s.droppedMessages} dropped`);
  t.ok(a!.unreachable.includes('b'), 'onUnreachable(b) called');
});

t.test('a burst beyond the bound in one turn keeps the oldest, drops the newest, and flow goes on', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { maxQueueBytes: MiB });
  await connected(a!, 'b');
  // Offer 5 MiB within one turn: only about 1 MiB may be queued, the rest is dropped.
  const batch = Array.from({ length: 80 }, (_, i) => append('a', 'b', i * 4, 4, 16 * 1024));
  a!.transport.send(batch);
  const dropped = a!.transport.stats().peers['b']!.droppedMessages;
  t.ok(dropped > 0 && dropped < 80, `${dropped} of 80 dropped within the turn`);
  await waitFor('the queued ones arrive', () => b!.inbox.length === 80 - dropped);
  t.ok(sameMessages(b!.inbox, batch.slice(0, 80 - dropped)), 'the oldest were kept, the newest dropped');
  a!.transport.send([append('a', 'b', 1000, 1, 10)]);
  await waitFor('a new message arrives', () => b!.inbox.length === 81 - dropped);
});
