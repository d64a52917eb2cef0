// The handshake rules on their own (checkHandshake, peer URLs, options), then over real
// sockets: a wrong cluster token, another cluster, an unknown member or a misrouted dial is
// refused with a 4xx and a logged reason on both sides, and no message gets through; a
// member added later with addPeer is let in.
import t from 'tap';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { PeerTransport } from '../../core/transport/index.js';
import { checkHandshake, dialHeaders, peerSocketUrl } from '../../core/transport/handshake.js';
import { CLUSTER, HOST, heartbeat, startCluster, startMember, waitFor } from './helpers.js';

const self = { ...CLUSTER, memberId: 'a' };
const isPeer = (id: string): boolean => id === 'b' || id === 'ü';

t.test('checkHandshake accepts a peer and refuses each mismatch with a status and reason', async (t) => {
  const good = dialHeaders({ ...CLUSTER, memberId: 'b' }, 'a');
  t.same(checkHandshake('/raft', good, self, isPeer), { ok: true, from: 'b' });
  t.same(checkHandshake('/raft', dialHeaders({ ...CLUSTER, memberId: 'ü' }, 'a'), self, isPeer), { ok: true, from: 'ü' }, 'non-ASCII id');
  const cases: Array<[string, string, Record<string, string>, number, RegExp]> = [
    ['wrong path', '/other', good, 404, /no such path/],
    ['wrong wire version', '/raft', { ...good, 'x-cairn-wire': '2' }, 400, /wire version/],
    ['wrong token', '/raft', { ...good, 'x-cairn-token': 'guess' }, 401, /wrong cluster token/],
    ['no token', '/raft', { ...good, 'x-cairn-token': '' }, 401, /wrong cluster token/],
    ['other cluster', '/raft', { ...good, 'x-cairn-cluster': 'prod' }, 403, /cluster "prod" is not/],
    ['misrouted', '/raft', { ...good, 'x-cairn-to': 'c' }, 403, /dialed member "c" but this is "a"/],
    ['unknown member', '/raft', { ...good, 'x-cairn-from': 'z' }, 403, /"z" is not a peer of "a"/],
    ['itself', '/raft', { ...good, 'x-cairn-from': 'a' }, 403, /dialed itself/],
    ['no member id', '/raft', { ...good, 'x-cairn-from': '' }, 403, /no member id/],
  ];
  for (const [what, path, headers, status, reason] of cases) {
    const verdict = checkHandshake(path, headers, self, isPeer);
    t.equal(verdict.ok, false, what);
    if (!verdict.ok) {
      t.equal(verdict.status, status, `${what}: ${status}`);
      t.match(verdict.reason, reason, `${what}: reason`);
    }
  }
});

t.test('peer URLs become ws URLs on /raft; bad options are refused at construction', async (t) => {
  t.equal(peerSocketUrl('http://127.0.0.1:7002'), 'ws://127.0.0.1:7002/raft');
  t.equal(peerSocketUrl('https://h:1/'), 'wss://h:1/raft');
  t.throws(() => peerSocketUrl('ftp://h:1'), { code: 'TRANSPORT_CONFIG' });
  t.throws(() => peerSocketUrl('not a url'), { code: 'TRANSPORT_CONFIG' });
  const base = { ...CLUSTER, memberId: 'a', listen: { host: HOST, port: 0 }, peers: new Map<string, string>(), onMessages: () => undefined };
  t.throws(() => new PeerTransport({ ...base, clusterToken: '' }), { code: 'TRANSPORT_CONFIG', message: /clusterToken/ });
  t.throws(() => new PeerTransport({ ...base, memberId: '' }), { code: 'TRANSPORT_CONFIG' });
  t.throws(() => new PeerTransport({ ...base, maxQueueBytes: 0 }), { code: 'TRANSPORT_CONFIG' });
  t.throws(() => new PeerTransport({ ...base, maxFrameBytes: 4096, snapshotChunkBytes: 8192 }), { code: 'TRANSPORT_CONFIG' });
  t.throws(() => new PeerTransport({ ...base, reconnectMinMs: 500, reconnectMaxMs: 100 }), { code: 'TRANSPORT_CONFIG' });
  t.throws(() => new PeerTransport({ ...base, peers: new Map([['b', 'gopher://x']]) }), { code: 'TRANSPORT_CONFIG' });
});

/** Dials `url` with a raw ws client; resolves with the refusal status and reason header. */
function dialRaw(url: string, headers: Record<string, string>): Promise<{ status: number; reason: string } | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.on('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-cairn-reason']) });
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

t.test('the listener refuses strangers over a real socket and logs why', async (t) => {
  const [a] = await startCluster(t, ['a', 'b']);
  const url = `ws://${HOST}:${a!.port}/raft`;
  const ok = dialHeaders({ ...CLUSTER, memberId: 'b' }, 'a');
  t.equal(await dialRaw(url, ok), 'open', 'the right credentials open');
  t.same(await dialRaw(url, { ...ok, 'x-cairn-token': 'nope' }), { status: 401, reason: 'wrong cluster token' });
  const stranger = await dialRaw(url, dialHeaders({ ...CLUSTER, memberId: 'z' }, 'a'));
  t.match(stranger, { status: 403, reason: /"z" is not a peer/ });
  t.match(await dialRaw(`ws://${HOST}:${a!.port}/elsewhere`, ok), { status: 404 });
  t.ok(a!.logs.some((l) => /refused a peer connection .*\(401\): wrong cluster token/.test(l)), 'the listener logged the token refusal');
  t.ok(a!.logs.some((l) => /\(403\): member "z" is not a peer/.test(l)), 'and the stranger');
  const plain = await fetch(`http://${HOST}:${a!.port}/`);
  t.equal(plain.status, 426, 'a plain HTTP request gets 426 Upgrade Required');
  await plain.text();
  const info = await fetch(`http://${HOST}:${a!.port}/cluster?token=${CLUSTER.clusterToken}`);
  t.same(await info.json(), { clusterId: CLUSTER.clusterId }, 'GET /cluster with the token tells the cluster id');
  const denied = await fetch(`http://${HOST}:${a!.port}/cluster?token=guess`);
  t.equal(denied.status, 403, 'and refuses a wrong token');
  await denied.text();
});

t.test('members with a wrong token, another cluster or unknown ids exchange nothing', async (t) => {
  const a = await startMember(t, 'a');
  const intruders = [
    await startMember(t, 'b', { clusterToken: 'wrong' }),
    await startMember(t, 'c', { clusterId: 'other-cluster' }),
    await startMember(t, 'z'), // right credentials, but a does not know z
  ];
  a.transport.addPeer('b', intruders[0]!.url);
  a.transport.addPeer('c', intruders[1]!.url);
  for (const m of intruders) m.transport.addPeer('a', a.url);
  await waitFor('three refusals logged by the dialers', () => intruders.every((m) => m.logs.some((l) => /refused the handshake/.test(l))));
  t.match(intruders[0]!.logs.join('\n'), /cannot reach a: refused the handshake \(401\): wrong cluster token/);
  t.match(intruders[1]!.logs.join('\n'), /refused the handshake \(403\): cluster "other-cluster" is not/);
  t.match(intruders[2]!.logs.join('\n'), /refused the handshake \(403\): member "z" is not a peer of "a"/);
  for (const m of intruders) m.transport.send([heartbeat(m.id, 'a', 1)]);
  await waitFor('the intruders see a as unreachable', () => intruders.every((m) => m.unreachable.includes('a')));
  t.same(a.inbox, [], 'nothing delivered to a');
  // a refuses to dial b and c as well (they refuse a's token or cluster).
  await waitFor('a logs its own refused dials', () => a.logs.filter((l) => /cannot reach/.test(l)).length >= 2);
  t.ok(intruders.every((m) => m.inbox.length === 0), 'nothing delivered to the intruders');
});

t.test('a member refused as unknown is let in once added with addPeer', async (t) => {
  const a = await startMember(t, 'a');
  const d = await startMember(t, 'd');
  d.transport.addPeer('a', a.url);
  await waitFor('d refused', () => d.logs.some((l) => /not a peer of "a"/.test(l)));
  a.transport.addPeer('d', d.url); // the conf change that adds d has been applied
  let context = 0;
  await waitFor('a heartbeat from d arrives', () => {
    d.transport.send([heartbeat('d', 'a', ++context)]);
    return a.inbox.length > 0;
  });
  t.equal(a.inbox[0]?.from, 'd');
  t.ok(d.logs.some((l) => /connected to a at ws:\/\/127.0.0.1:\d+\/raft again/.test(l)), 'd logged the recovery');
});

t.test('a malformed request target on the peer port gets an answer, not a crash', async (t) => {
  const a = await startMember(t, 'a');
  const answer = await new Promise<string>((resolve) => {
    const socket = connect(a.port, HOST);
    let text = '';
    socket.on('data', (d) => (text += String(d)));
    socket.on('close', () => resolve(text));
    socket.write('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  t.match(answer, /^HTTP\/1\.1 426 /);
});
