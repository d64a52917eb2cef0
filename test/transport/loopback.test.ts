// Two and three transports on loopback: messages arrive intact and in order per peer, what
// one event-loop turn sends to a peer leaves as one frame, large batches are split to fit
// maxFrameBytes, and a frame that breaks the rules closes the connection without a crash.
import t from 'tap';
import WebSocket from 'ws';
import type { Message } from '../../core/raft/index.js';
import { encodeMessages } from '../../core/transport/index.js';
import { dialHeaders } from '../../core/transport/handshake.js';
import { CLUSTER, HOST, append, connected, heartbeat, startCluster, startMember, waitFor } from './helpers.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('two members exchange messages in order, both ways', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b']);
  const toB: Message[] = [];
  const toA: Message[] = [];
  for (let i = 1; i <= 300; i++) {
    const batch = [heartbeat('a', 'b', i), append('a', 'b', i * 10, 1 + (i % 4), 100)];
    toB.push(...batch);
    a!.transport.send(batch);
    const reply = heartbeat('b', 'a', i);
    toA.push(reply);
    b!.transport.send([reply]);
    if (i % 7 === 0) await turn(); // several sends per turn, and sends across turns
  }
  await waitFor('all messages delivered', () => b!.inbox.length === toB.length && a!.inbox.length === toA.length);
  t.same(b!.inbox, toB, 'a -> b intact and in order');
  t.same(a!.inbox, toA, 'b -> a intact and in order');
  t.same(a!.unreachable, [], 'nothing reported unreachable');
});

t.test('three members: each pair in order, nobody gets another pair’s messages', async (t) => {
  const ids = ['a', 'b', 'c'];
  const members = await startCluster(t, ids);
  const expected = new Map<string, Message[]>(); // "from>to" -> messages
  for (let i = 1; i <= 200; i++) {
    for (const m of members) {
      const batch = ids.filter((id) => id !== m.id).map((to) => heartbeat(m.id, to, i));
      for (const msg of batch) expected.set(`${msg.from}>${msg.to}`, [...(expected.get(`${msg.from}>${msg.to}`) ?? []), msg]);
      m.transport.send(batch);
    }
    if (i % 5 === 0) await turn();
  }
  await waitFor('400 messages at each member', () => members.every((m) => m.inbox.length === 400));
  for (const m of members) {
    t.ok(m.inbox.every((msg) => msg.to === m.id), `${m.id} only got its own messages`);
    for (const from of ids.filter((id) => id !== m.id)) {
      t.same(m.inbox.filter((msg) => msg.from === from), expected.get(`${from}>${m.id}`), `${from} -> ${m.id} in order`);
    }
  }
});

t.test('one event-loop turn to one peer is one frame; big batches split by maxFrameBytes', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { maxFrameBytes: 64 * 1024, snapshotChunkBytes: 16 * 1024 });
  await connected(a!, 'b');
  const framesBefore = a!.transport.stats().peers['b']!.sentFrames;
  a!.transport.send(Array.from({ length: 50 }, (_, i) => heartbeat('a', 'b', i + 1)));
  a!.transport.send([heartbeat('a', 'b', 51)]);
  await waitFor('51 heartbeats', () => b!.inbox.length === 51);
  t.equal(a!.transport.stats().peers['b']!.sentFrames - framesBefore, 1, '51 messages from one turn in one frame');
  // 40 appends of 4 x 1000 B (about 160 KB) cannot fit one 64 KiB frame.
  const appends = Array.from({ length: 40 }, (_, i) => append('a', 'b', i * 4, 4, 1000));
  a!.transport.send(appends);
  await waitFor('40 appends', () => b!.inbox.length === 91);
  const frames = a!.transport.stats().peers['b']!.sentFrames - framesBefore - 1;
  t.ok(frames >= 3 && frames <= 4, `split into ${frames} frames of at most 64 KiB`);
  t.same(b!.inbox.slice(51), appends, 'in order and intact');
});

t.test('a message larger than a frame is dropped and reported, the rest still flows', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { maxFrameBytes: 16 * 1024, snapshotChunkBytes: 4 * 1024 });
  await connected(a!, 'b');
  a!.transport.send([heartbeat('a', 'b', 1), append('a', 'b', 0, 1, 20_000), heartbeat('a', 'b', 2)]);
  await waitFor('two heartbeats', () => b!.inbox.length === 2);
  t.same(b!.inbox.map((m) => m.type), ['heartbeat', 'heartbeat']);
  await waitFor('b reported unreachable', () => a!.unreachable.includes('b'));
  t.match(a!.logs.join('\n'), /dropping messages to b: a \d+-byte message is larger than a frame/);
});

t.test('a peer that sends a bad frame is disconnected; the member survives', async (t) => {
  // a knows b, but no real b dials a: the raw sockets below speak as b without a rival
  // connection replacing them.
  const a = await startMember(t, 'a');
  a.transport.addPeer('b', `http://${HOST}:1`);
  const ws = new WebSocket(`ws://${HOST}:${a.port}/raft`, { headers: dialHeaders({ ...CLUSTER, memberId: 'b' }, 'a'), perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve) => ws.on('open', resolve));
  // Well-formed, but claims to come from c on b's authenticated connection.
  ws.send(encodeMessages([heartbeat('c', 'a', 1)]));
  t.equal(await closed, 1008, 'closed with 1008 (policy violation)');
  t.match(a.logs.join('\n'), /closing the connection from b: bad frame: a heartbeat from "c" to "a" on b's connection/);
  t.same(a.inbox, [], 'nothing delivered');
  const garbage = new WebSocket(`ws://${HOST}:${a.port}/raft`, { headers: dialHeaders({ ...CLUSTER, memberId: 'b' }, 'a'), perMessageDeflate: false });
  t.teardown(() => garbage.terminate());
  const closed2 = new Promise<number>((resolve) => garbage.on('close', (code) => resolve(code)));
  await new Promise((resolve) => garbage.on('open', resolve));
  garbage.send(Uint8Array.of(1, 1, 0xff, 0xff, 0xff));
  t.equal(await closed2, 1008, 'garbage closes too');
  t.match(a.logs.join('\n'), /closing the connection from b: bad frame: truncated at message count/);
});

t.test('messages to a member without an address are reported unreachable', async (t) => {
  const [a] = await startCluster(t, ['a']);
  a!.transport.send([heartbeat('a', 'ghost', 1)]);
  await waitFor('ghost unreachable', () => a!.unreachable.includes('ghost'));
  t.match(a!.logs.join('\n'), /no address for member "ghost"/);
  t.throws(() => a!.transport.send([heartbeat('b', 'a', 1)]), { code: 'TRANSPORT_BAD_MESSAGE' }, 'sending as another member is a bug');
});
