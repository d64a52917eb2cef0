// cairnctl lock/reboot and the semaphore client helpers against a scripted member: argument
// checks, what each command prints and exits with, reboot's environment and its release when
// the reboot command fails, and a release whose outcome was unknown settled by a read.
import t from 'tap';
import type { Test } from 'tap';
import { parseCommand } from '../../clients/cairnctl/parse.js';
import { runCli } from '../../clients/cairnctl/run.js';
import type { CliIo } from '../../clients/cairnctl/run.js';
import { connect } from '../../clients/client.js';
import { releaseSemaphore } from '../../clients/recipes/semaphore.js';
import { MockServer } from '../clients/mock-server.js';

interface Run { code: number; out: string[]; err: string[] }

async function cli(argv: string[], server: MockServer, extra: Partial<CliIo> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { CAIRN_ENDPOINTS: server.url }, ...extra };
  return { code: await runCli(argv, io), out, err };
}

async function member(t: Test): Promise<MockServer> {
  const server = await MockServer.start();
  t.teardown(() => server.close());
  return server;
}

const state = (holders: string[], max = 1): Record<string, unknown> => ({
  semaphore: max - holders.length, max, holders, tokens: Object.fromEntries(holders.map((h, i) => [h, 10 + i])), token: holders.length === 0 ? null : 9 + holders.length,
});

t.test('usage errors name what is missing', async (t) => {
  const cases: [string[], RegExp][] = [
    [['lock'], /missing subcommand/],
    [['lock', 'grab'], /unknown subcommand "grab"/],
    [['lock', 'acquire'], /--holder ID is required/],
    [['lock', 'release', '--holder', ''], /--holder ID is required/],
    [['lock', 'set-max'], /set-max needs the new max/],
    [['lock', 'set-max', '-1'], /set-max needs the new max|Unknown option/],
    [['lock', 'status', 'extra'], /unexpected argument "extra"/],
    [['lock', 'acquire', '--holder', 'a', '--wait', '--wait-timeout', '5x'], /--wait-timeout: "5x"/],
    [['reboot', '--holder', 'a'], /missing <command> after --/],
    [['reboot', '--', 'true'], /--holder ID is required/],
  ];
  for (const [argv, message] of cases) {
    const plan = parseCommand(argv, {});
    t.equal(plan.kind, 'usage-error', argv.join(' '));
    if (plan.kind === 'usage-error') t.match(plan.message, message);
  }
  const plan = parseCommand(['reboot', '--holder', 'm1', '--', 'systemctl', 'reboot', '--force'], {});
  t.match(plan, { kind: 'run', command: { kind: 'recipe', name: 'reboot', tail: ['systemctl', 'reboot', '--force'] } });
});

t.test('lock status prints slots, holders with tokens and the queue', async (t) => {
  const m = await member(t);
  m.on('semaphore.status', () => ({ result: { state: state(['a', 'b'], 2), token: 11 } }));
  m.on('kv.get', () => ({ result: { action: 'get', index: 20, node: { key: '/cairn/semaphore/reboot/waiters', dir: true, createdIndex: 3, modifiedIndex: 3, nodes: [
    { key: '/cairn/semaphore/reboot/waiters/00000000000000000015', value: '{"holder":"c","request":"x"}', createdIndex: 15, modifiedIndex: 15 },
  ] } } }));
  t.same(await cli(['lock', 'status'], m), {
    code: 0, err: [],
    out: ['Available: 0', 'Max: 2', 'Latest token: 11', '', 'HOLDER\tTOKEN', 'a\t10', 'b\t11', '', 'WAITING (first in line first)', 'c'],
  });
  const json = await cli(['-o', 'json', 'lock', 'status', '--name', 'db'], m);
  t.match(JSON.parse(json.out[0] ?? ''), { token: 11, waiters: ['c'], state: { holders: ['a', 'b'] } });
  t.match(m.calls('semaphore.status').at(-1)?.params, { name: 'db' });
});

t.test('lock acquire: exit 0 with the token, 1 when no slot is free', async (t) => {
  const m = await member(t);
  m.on('semaphore.acquire', (r) => (r.params['holder'] === 'a'
    ? { result: { acquired: true, token: 10, state: state(['a']) } }
    : { result: { acquired: false, state: state(['a']) } }));
  t.same(await cli(['lock', 'acquire', '--holder', 'a'], m), { code: 0, out: ['Acquired reboot for a, token 10'], err: [] });
  t.same(m.calls('semaphore.acquire')[0]?.params, { holder: 'a', wait: false }, 'no --wait: answer at once');
  const b = await cli(['lock', 'acquire', '--holder', 'b', '--wait', '--wait-timeout', '2s'], m);
  t.same(b, { code: 1, out: [], err: ['Error: reboot: no free slot in time (available 0 of max 1; holders: a)'] });
  t.same(m.calls('semaphore.acquire')[1]?.params, { holder: 'b', wait: true, timeoutMs: 2000 });
});

t.test('lock release and set-max', async (t) => {
  const m = await member(t);
  m.on('semaphore.release', (r) => (r.params['holder'] === 'a'
    ? { result: { released: true, state: state([]) } }
    : { error: { code: 501, message: 'b holds nothing of semaphore reboot (holders: none); nothing to release' } }));
  t.same(await cli(['lock', 'release', '--holder', 'a'], m), { code: 0, out: ['Released reboot for a (available 1 of max 1; holders: none)'], err: [] });
  t.same(await cli(['lock', 'release', '--holder', 'b'], m),
    { code: 1, out: [], err: ['Error: 501: b holds nothing of semaphore reboot (holders: none); nothing to release'] });
  m.on('semaphore.status', () => ({ result: { state: state([]), token: null } }));
  m.on('semaphore.setMax', () => ({ result: { state: state([], 3) } }));
  t.same(await cli(['lock', 'set-max', '3'], m), { code: 0, out: ['Old: 1', 'New: 3'], err: [] });
  t.same(m.calls('semaphore.setMax')[0]?.params, { max: 3 });
});

t.test('reboot waits, runs the command with the token, and keeps the slot', async (t) => {
  const m = await member(t);
  m.on('semaphore.acquire', () => ({ result: { acquired: true, token: 42, state: state(['m1']) } }));
  const ran: unknown[] = [];
  const run = await cli(['reboot', '--holder', 'm1', '--', 'systemctl', 'reboot'], m, {
    exec: async (command, args, env) => { ran.push({ command, args, env }); },
  });
  t.same(run, { code: 0, out: ['Acquired reboot for m1, token 42'], err: [] });
  t.same(ran, [{ command: 'systemctl', args: ['reboot'], env: { CAIRN_SEMAPHORE: 'reboot', CAIRN_SEMAPHORE_HOLDER: 'm1', CAIRN_SEMAPHORE_TOKEN: '42' } }]);
  t.same(m.calls('semaphore.acquire')[0]?.params, { holder: 'm1', wait: true });
  t.equal(m.calls('semaphore.release').length, 0, 'the slot is released after boot, not now');
});

t.test('reboot whose command fails gives the slot back', async (t) => {
  const m = await member(t);
  m.on('semaphore.acquire', () => ({ result: { acquired: true, token: 42, state: state(['m1']) } }));
  m.on('semaphore.release', () => ({ result: { released: true, state: state([]) } }));
  const run = await cli(['reboot', '--holder', 'm1', '--name', 'db', '--', 'false'], m, {
    exec: async () => { throw new Error('spawn false ENOENT'); },
  });
  t.equal(run.code, 127);
  t.same(run.err, ['Error: could not run false: spawn false ENOENT', 'Error: false exited with 127; released db for m1']);
  t.same(m.calls('semaphore.release')[0]?.params, { name: 'db', holder: 'm1' });
});

t.test('releaseSemaphore settles an unknown outcome by reading the state', async (t) => {
  const m = await member(t);
  const client = await connect({ endpoints: [m.url], retryBaseMs: 1, maxRetries: 0 });
  t.teardown(() => client.close());
  m.on('semaphore.release', () => 'drop');
  m.on('semaphore.status', () => ({ result: { state: state([]), token: 10 } }));
  const result = await releaseSemaphore(client, 'a');
  t.same(result, { released: true, state: state([]) }, 'a no longer holds: the lost release landed');
  m.on('semaphore.status', () => ({ result: { state: state(['a']), token: 10 } }));
  await t.rejects(releaseSemaphore(client, 'a'), { code: 302 }, 'still holding after every attempt: the 302 surfaces');
  t.equal(m.calls('semaphore.release').length, 4, 'one release, then three more tries');
});
