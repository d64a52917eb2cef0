// Commands in log entries (server/command-codec.ts): kv set/create/delete in the binary form,
// everything else as JSON, and both read back exactly; logs written as JSON before still read.
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { decodeCommand, encodeCommand } from '../../server/command-codec.js';
import type { Command } from '../../server/state-machine.js';

/** A small deterministic generator, so a failure names a seed that replays it. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['a', 'Z', '/', ' ', '"', '\\', '\n', 'é', '€', '\u{1F600}', '_', '0', '\u0000'];

function text(random: () => number, max: number): string {
  let s = '';
  const n = Math.floor(random() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(random() * PIECES.length)];
  return s;
}

/** A random kv set, create or delete with a random subset of its params. */
function kvCommand(random: () => number): Command {
  const pick = (): boolean => random() < 0.5;
  const method = (['set', 'create', 'delete'] as const)[Math.floor(random() * 3)]!;
  const params: Record<string, unknown> = { key: `/${text(random, 20)}` };
  if (method !== 'delete' && pick()) params['value'] = text(random, 300);
  if (pick()) params['dir'] = pick();
  if (method !== 'delete' && pick()) params['ttl'] = Math.floor(random() * 2_147_483_647);
  if (method === 'set' && pick()) params['refresh'] = pick();
  if (method === 'set' && pick()) params['prevExist'] = pick();
  if (method !== 'create' && pick()) params['prevValue'] = text(random, 40);
  if (method !== 'create' && pick()) params['prevIndex'] = Math.floor(random() * Number.MAX_SAFE_INTEGER);
  if (method === 'delete' && pick()) params['recursive'] = pick();
  return { requestId: text(random, 21), op: 'kv', at: Math.floor(random() * 2 ** 42), write: { method, params } as never };
}

t.test('kv set, create and delete go in the binary form and read back exactly', async (t) => {
  let failed: string | undefined;
  for (let seed = 1; seed <= 2000 && failed === undefined; seed++) {
    const command = kvCommand(lcg(seed));
    const bytes = encodeCommand(command);
    if (bytes[0] !== 0x01) failed = `seed ${seed}: not binary`;
    else if (!isDeepStrictEqual(decodeCommand(bytes), command)) failed = `seed ${seed}: read back differently`;
    if (failed !== undefined) t.comment(`replay with seed ${seed}: ${JSON.stringify(command)}`);
  }
  t.equal(failed, undefined, '2,000 random writes, each binary and read back exactly');
  const put: Command = { requestId: 'r1', op: 'kv', at: 1_763_800_000_000, write: { method: 'set', params: { key: '/k', value: 'x'.repeat(256) } } };
  const binary = encodeCommand(put).length;
  const json = Buffer.byteLength(JSON.stringify(put));
  t.ok(binary < json, `a put of 256 bytes takes ${binary} bytes, against ${json} as JSON`);
});

t.test('every other command, and a write the binary form cannot carry exactly, goes as JSON', async (t) => {
  const commands: Command[] = [
    { requestId: 'a', op: 'time', at: 5 },
    { requestId: 'b', op: 'leader', at: 6 },
    { requestId: 'c', op: 'publish', member: { id: 'm1', name: 'n', peerUrls: ['http://127.0.0.1:1'], clientUrls: [] } },
    { requestId: 'd', op: 'kv', at: 7, write: { method: 'txn', params: { compare: [], success: [{ set: { key: '/a', value: 'v' } }] } } },
    // A lone surrogate: UTF-8 would turn it into U+FFFD, JSON keeps it.
    { requestId: 'e', op: 'kv', at: 8, write: { method: 'set', params: { key: '/a', value: 'x\ud800' } } },
    { requestId: 'f\udc00', op: 'kv', at: 8, write: { method: 'delete', params: { key: '/a' } } },
    // A param the binary form has no place for, or one of another type.
    { requestId: 'g', op: 'kv', at: 9, write: { method: 'set', params: { key: '/a', value: 'v', extra: 1 } as never } },
    { requestId: 'h', op: 'kv', at: 9, write: { method: 'create', params: { key: '/a', ttl: '5' } as never } },
  ];
  for (const command of commands) {
    const bytes = encodeCommand(command);
    t.equal(bytes[0], 0x7b, `${command.requestId}: JSON`);
    t.same(decodeCommand(bytes), command, `${command.requestId}: read back`);
  }
});

t.test('a kv write logged as JSON before the binary form still reads', async (t) => {
  const command: Command = { requestId: 'old', op: 'kv', at: 3, write: { method: 'set', params: { key: '/a', value: 'v', ttl: 5, prevExist: false } } };
  t.same(decodeCommand(Buffer.from(JSON.stringify(command))), command);
});

t.test('a damaged binary command is refused, naming what is wrong', async (t) => {
  const bytes = encodeCommand({ requestId: 'r', op: 'kv', at: 1, write: { method: 'set', params: { key: '/a', value: 'v', ttl: 3 } } });
  t.throws(() => decodeCommand(bytes.subarray(0, bytes.length - 1)), /ends at byte .*the log is damaged/, 'cut short');
  t.throws(() => decodeCommand(Buffer.concat([bytes, Buffer.from([0])])), /1 stray bytes at its end/, 'a byte too many');
  const method = Buffer.from(bytes);
  method[1] = 9;
  t.throws(() => decodeCommand(method), /unknown method code 9/, 'an unknown method');
  const bits = Buffer.from(bytes);
  bits[2] = 0xff;
  t.throws(() => decodeCommand(bits), /marks fields it does not have/, 'a field bit past the method\'s fields');
  t.throws(() => decodeCommand(Buffer.from('[1]')), /not a cairn command/, 'JSON that is not a command');
});
