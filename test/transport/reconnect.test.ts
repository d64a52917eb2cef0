// A peer that goes away is reported unreachable, its messages are dropped rather than
// queued, and once it is back on the same port the connection comes back by itself in
// both directions. stop() is bounded even with a peer that never answers.
import t from 'tap';
import { heartbeat, startCluster, startMember, startStalledPeer, waitFor } from './helpers.js';

t.test('reconnects after the peer restarts on the same port', async (t) => {
  const [a, b] = await startCluster(t, ['a', 'b']);
  a!.transport.send([heartbeat('a', 'b', 1)]);
  await waitFor('first heartbeat', () => b!.inbox.length === 1);
  const port = b!.port;
  await b!.transport.stop();
  await waitFor('a notices b is gone', () => a!.unreachable.includes('b'));
  t.match(a!.logs.join('\n'), /connection to b lost/);
  // While b is down: sends are dropped (not queued) and reported.
  const reportsBefore = a!.unreachable.length;
  a!.transport.send([heartbeat('a', 'b', 2)]);
  await waitFor('the dropped send is reported', () => a!.unreachable.length > reportsBefore);
  t.ok(a!.transport.stats().peers['b']!.queuedBytes === 0, 'nothing queued for a peer that is down');

  const b2 = await startMember(t, 'b', { listen: { host: '127.0.0.1', port } });
  b2.transport.addPeer('a', a!.url);
  let context = 100;
  await waitFor('a reaches the restarted b', () => {
    a!.transport.send([heartbeat('a', 'b', ++context)]);
    return b2.inbox.length > 0;
  });
  const first = b2.inbox[0];
  t.ok(first?.type === 'heartbeat' && first.context > 100, 'only messages sent after the restart arrive');
  b2.transport.send([heartbeat('b', 'a', 1)]);
  await waitFor('and b reaches a', () => a!.inbox.length === 1);
  t.ok(a!.transport.stats().peers['b']!.connects >= 2, 'a dialed b again');
  t.match(a!.logs.join('\n'), /connected to b at .* again/);
});

t.test('redials keep backing off while the peer is down, and log once', async (t) => {
  const a = await startMember(t, 'a', { reconnectMinMs: 5, reconnectMaxMs: 40 });
  const gone = await startMember(t, 'gone');
  const url = gone.url;
  await gone.transport.stop();
  a.transport.addPeer('gone', url);
  await waitFor('several failed dials', () => a.transport.stats().peers['gone']!.state === 'backoff' && a.unreachable.length >= 5, 3000);
  const lines = a.logs.filter((l) => /cannot reach gone/.test(l));
  t.equal(lines.length, 1, `one log line for repeated identical failures: ${lines[0]}`);
});

t.test('stop() is bounded even when a peer never completes the close handshake', async (t) => {
  const stalled = await startStalledPeer(t);
  const a = await startMember(t, 'a');
  a.transport.addPeer('s', stalled.url);
  await waitFor('connected to the stalled peer', () => a.transport.stats().peers['s']?.state === 'open');
  const started = Date.now();
  await a.transport.stop();
  const took = Date.now() - started;
  t.ok(took < 2000, `stop() took ${took} ms`);
  await a.transport.stop(); // a second stop is harmless
  a.transport.send([heartbeat('a', 's', 1)]); // and so is a send after stop
  t.same(a.unreachable, [], 'no callbacks after stop');
});
