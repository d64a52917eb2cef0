// The frames a member sends its peers, and the frames the Node client library sends a member,
// carry an all-zero masking key (core/net/unmasked.ts), so neither side XORs the payload.
// Checked on the wire: a raw listener on the server's TCP socket reads the first frame's key.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { WebSocketServer } from 'ws';
import { Connection } from '../../clients/connection.js';
import { PeerConnection } from '../../core/transport/peer.js';

/** The masking key of the first client frame in `bytes`, or undefined when it is not masked. */
function maskingKey(bytes: Buffer): Buffer | undefined {
  if ((bytes[1]! & 0x80) === 0) return undefined;
  const length = bytes[1]! & 0x7f;
  const at = length === 127 ? 10 : length === 126 ? 4 : 2;
  return bytes.subarray(at, at + 4);
}

/** A WebSocket server that hands back the first bytes a client sends after the upgrade. */
async function firstFrameServer(t: Test): Promise<{ url: string; firstFrame: Promise<Buffer> }> {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  let deliver: (bytes: Buffer) => void = () => undefined;
  const firstFrame = new Promise<Buffer>((resolve) => { deliver = resolve; });
  http.on('upgrade', (req, socket, head) => {
    socket.once('data', (bytes: Buffer) => deliver(bytes));
    wss.handleUpgrade(req, socket, head, () => undefined);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => {
    for (const client of wss.clients) client.terminate();
    http.closeAllConnections();
    http.close();
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, firstFrame };
}

const within = <T>(promise: Promise<T>, what: string): Promise<T> => Promise.race([
  promise,
  new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`${what}: nothing within 5 s`)), 5000).unref()),
]);

t.test('a peer connection sends frames with a zero masking key', async (t) => {
  const server = await firstFrameServer(t);
  const peer = new PeerConnection('b', server.url.replace(/^http/, 'ws'), { clusterId: 'c', clusterToken: 't', memberId: 'a' }, {
    maxQueueBytes: 1 << 20, snapshotChunkBytes: 1 << 16, maxFrameBytes: 1 << 20, reconnectMinMs: 50, reconnectMaxMs: 100,
  }, { unreachable: () => undefined, connectionLost: () => undefined, connected: () => undefined, snapshotStatus: () => undefined, log: () => undefined });
  t.teardown(() => peer.close(0));
  peer.enqueue(new Uint8Array(300).fill(7));
  peer.start();
  const bytes = await within(server.firstFrame, 'the peer frame');
  t.same(maskingKey(bytes), Buffer.alloc(4), 'masked with the key 0, as the protocol allows');
  t.ok(bytes.subarray(-300).every((b) => b === 7), 'the payload goes out as it is');
});

t.test('the client library sends frames with a zero masking key', async (t) => {
  const server = await firstFrameServer(t);
  const connection = await within(Connection.open(server.url, { connectTimeoutMs: 5000, maxPayloadBytes: 1 << 20, keepaliveMs: 0 }), 'the connection');
  t.teardown(() => connection.close());
  connection.request('kv.get', { key: '/unmasked' }).catch(() => undefined);
  const bytes = await within(server.firstFrame, 'the request frame');
  t.same(maskingKey(bytes), Buffer.alloc(4), 'masked with the key 0');
  t.match(bytes.toString('utf8', 6), /"method":"kv\.get"/, 'the request is readable as sent');
});
