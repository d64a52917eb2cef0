// The peer proxy with plain sockets: a dial is attributed to (from, to) by its upgrade head
// and spliced both ways to the member; a one-way cut drops that pair's connections and
// refuses new ones while the other direction and other pairs flow; heal lets it in again;
// partition cuts across groups only; a dial without `x-cairn-from` is never cut.
import t from 'tap';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Test } from 'tap';
import { PeerProxy, fromHeader } from './proxy.js';

const head = (from?: string): string =>
  `GET /raft HTTP/1.1\r\nHost: x\r\n${from === undefined ? '' : `X-Cairn-From: ${encodeURIComponent(from)}\r\n`}\r\n`;

/** An echo server standing in for a member's peer port. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => { s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 };
}

/** Dials `port` as `from`, sends `payload`; resolves with what came back before close or 1 s. */
async function roundTrip(port: number, from: string | undefined, payload: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (): void => { clearTimeout(timer); socket.destroy(); resolve(got); };
    const timer = setTimeout(done, 1000);
    socket.on('data', (d) => { got += d.toString('latin1'); if (got.endsWith(payload)) done(); });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(head(from) + payload);
  });
}

async function setUp(t: Test): Promise<{ proxy: PeerProxy; ports: Record<string, number> }> {
  const proxy = new PeerProxy({ identify: (id) => (id.startsWith('id-') ? id.slice(3) : undefined) });
  const ports: Record<string, number> = {};
  const servers: Server[] = [];
  for (const name of ['a', 'b', 'c']) {
    const echo = await echoServer();
    servers.push(echo.server);
    ports[name] = await proxy.listen(name, 0, echo.port);
  }
  t.teardown(async () => {
    await proxy.close();
    for (const s of servers) s.close();
  });
  return { proxy, ports };
}

t.test('fromHeader reads and decodes the dialer id, case-insensitively', async (t) => {
  t.equal(fromHeader(head('id-ü')), 'id-ü');
  t.equal(fromHeader(head()), undefined);
});

t.test('a dial is spliced through and attributed to its pair', async (t) => {
  const { proxy, ports } = await setUp(t);
  const echoed = await roundTrip(ports.b!, 'id-a', 'hello');
  t.ok(echoed.endsWith('hello'), 'the member got the head and data and answered');
  t.match(echoed, /X-Cairn-From: id-a/, 'the head is forwarded as it came');
  t.same(proxy.members, ['a', 'b', 'c']);
});

t.test('a one-way cut drops and refuses only its pair until healed', async (t) => {
  const { proxy, ports } = await setUp(t);
  const open = connect(ports.b!, '127.0.0.1');
  const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
  open.on('error', () => undefined);
  open.resume();
  open.write(head('id-a'));
  for (let i = 0; i < 100 && proxy.openLinks().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(proxy.openLinks(), [['a', 'b']]);
  proxy.cut('a', 'b');
  await closed;
  t.pass('the existing a→b connection was destroyed');
  t.equal(await roundTrip(ports.b!, 'id-a', 'x'), '', 'a new a→b dial is refused');
  t.ok((await roundTrip(ports.a!, 'id-b', 'y')).endsWith('y'), 'b→a still flows');
  t.ok((await roundTrip(ports.b!, 'id-c', 'z')).endsWith('z'), 'c→b still flows');
  t.ok((await roundTrip(ports.b!, undefined, 'w')).endsWith('w'), 'an unattributed dial is not cut');
  proxy.heal();
  t.ok((await roundTrip(ports.b!, 'id-a', 'x')).endsWith('x'), 'healed: a→b flows again');
});

t.test('partition cuts both ways across groups, not within one', async (t) => {
  const { proxy, ports } = await setUp(t);
  proxy.partition([['a'], ['b', 'c']]);
  t.same(proxy.cutPairs().map((p) => p.join('>')).sort(), ['a>b', 'a>c', 'b>a', 'c>a']);
  t.equal(await roundTrip(ports.a!, 'id-c', 'x'), '');
  t.ok((await roundTrip(ports.c!, 'id-b', 'y')).endsWith('y'));
  t.throws(() => proxy.partition([['a'], ['b']]), /leaves out c/);
});
