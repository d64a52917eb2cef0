// Snapshots over real sockets: several MiB arrive intact as one message, in chunks, with
// heartbeats still flowing meanwhile, and the sender hears onSnapshotStatus(true) once the
// receiver has it; a peer that is down, vanishes mid-stream or has no address yields
// onSnapshotStatus(false).
import t from 'tap';
import { heartbeat, pseudoRandomBytes, sameMessages, snapshotMessage, startCluster, startMember, startStalledPeer, waitFor } from './helpers.js';

const MiB = 1024 * 1024;

t.test('a 6 MiB snapshot is streamed in chunks and arrives intact', async (t) => {
  const chunk = 256 * 1024;
  const [a, b] = await startCluster(t, ['a', 'b'], { snapshotChunkBytes: chunk, maxFrameBytes: MiB });
  const m = snapshotMessage('a', 'b', pseudoRandomBytes(6 * MiB, 11));
  await waitFor('connected', () => a!.transport.stats().peers['b']?.state === 'open');
  const framesBefore = a!.transport.stats().peers['b']!.sentFrames;
  a!.transport.send([heartbeat('a', 'b', 1), m, heartbeat('a', 'b', 2)]);
  await waitFor('the snapshot arrives', () => b!.inbox.some((x) => x.type === 'snapshot'), 10_000);
  const received = b!.inbox.find((x) => x.type === 'snapshot');
  t.ok(received !== undefined && sameMessages([received], [m]), 'metadata, configuration and 6 MiB of data intact');
  const frames = a!.transport.stats().peers['b']!.sentFrames - framesBefore;
  t.ok(frames >= 1 + 24, `sent as ${frames} frames: a header and 24 chunks of 256 KiB (plus heartbeats)`);
  await waitFor('success reported', () => a!.snapshotStatus.length > 0);
  t.same(a!.snapshotStatus, [{ id: 'b', ok: true }], 'onSnapshotStatus(b, true) once');
  await waitFor('both heartbeats', () => b!.inbox.filter((x) => x.type === 'heartbeat').length === 2);
  t.same(a!.unreachable, [], 'nothing reported unreachable');
});

t.test('heartbeats are not held up behind a long snapshot', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { snapshotChunkBytes: 64 * 1024, maxFrameBytes: MiB });
  await waitFor('connected', () => a!.transport.stats().peers['b']?.state === 'open');
  a!.transport.send([snapshotMessage('a', 'b', pseudoRandomBytes(16 * MiB, 5))]);
  // A heartbeat sent right after the snapshot started reaches b before the snapshot ends.
  await new Promise((resolve) => setImmediate(resolve));
  a!.transport.send([heartbeat('a', 'b', 1)]);
  await waitFor('the snapshot arrives', () => b!.inbox.some((x) => x.type === 'snapshot'), 20_000);
  t.same(b!.inbox.map((x) => x.type), ['heartbeat', 'snapshot'], 'the heartbeat overtook the snapshot');
});

t.test('a snapshot to a peer that is down fails with onSnapshotStatus(false)', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b']);
  await waitFor('connected', () => a!.transport.stats().peers['b']?.state === 'open');
  await b!.transport.stop();
  await waitFor('a sees b down', () => a!.transport.stats().peers['b']!.state === 'backoff');
  a!.transport.send([snapshotMessage('a', 'b', pseudoRandomBytes(MiB, 2))]);
  await waitFor('failure reported', () => a!.snapshotStatus.length > 0);
  t.same(a!.snapshotStatus, [{ id: 'b', ok: false }]);
});

t.test('a snapshot fails when the peer vanishes mid-stream', async (t) => {
  const stalled = await startStalledPeer(t);
  const a = await startMember(t, 'a', { snapshotChunkBytes: 64 * 1024 });
  a.transport.addPeer('s', stalled.url);
  await waitFor('connected', () => a.transport.stats().peers['s']?.state === 'open');
  a.transport.send([snapshotMessage('a', 's', pseudoRandomBytes(32 * MiB, 3))]);
  // The peer reads nothing, so the stream stops at the socket's buffers; then it vanishes.
  await waitFor('the stream is under way', () => a.transport.stats().peers['s']!.sentFrames > 2);
  t.same(a.snapshotStatus, [], 'no outcome while streaming');
  stalled.destroy();
  await waitFor('failure reported', () => a.snapshotStatus.length > 0);
  t.same(a.snapshotStatus, [{ id: 's', ok: false }]);
  t.ok(a.unreachable.includes('s'), 'and the peer reported unreachable');
});

t.test('a newer snapshot supersedes one still streaming; unknown targets fail', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b'], { snapshotChunkBytes: 64 * 1024, maxFrameBytes: MiB });
  await waitFor('connected', () => a!.transport.stats().peers['b']?.state === 'open');
  const newer = snapshotMessage('a', 'b', pseudoRandomBytes(MiB, 9));
  a!.transport.send([snapshotMessage('a', 'b', pseudoRandomBytes(8 * MiB, 8))]);
  await new Promise((resolve) => setImmediate(resolve));
  a!.transport.send([newer, snapshotMessage('a', 'nobody', new Uint8Array(10))]);
  await waitFor('outcomes of all three', () => a!.snapshotStatus.length === 3, 10_000);
  t.same(
    [...a!.snapshotStatus].sort((x, y) => x.id.localeCompare(y.id) || Number(x.ok) - Number(y.ok)),
    [{ id: 'b', ok: false }, { id: 'b', ok: true }, { id: 'nobody', ok: false }],
  );
  const snapshots = b!.inbox.filter((x) => x.type === 'snapshot');
  t.equal(snapshots.length, 1, 'only the newer one is delivered');
  t.ok(sameMessages(snapshots, [newer]), 'intact');
});
