// cairnctl's pure command layer: every command's argv becomes the expected plan, and bad
// usage becomes a usage error (exit code 2) that says what is wrong.
import t from 'tap';
import { parseCommand } from '../../clients/cairnctl/parse.js';
import type { Command, Plan } from '../../clients/cairnctl/parse.js';
import { runCli } from '../../clients/cairnctl/run.js';

const env = {};
const command = (argv: string[], e: Record<string, string> = env): Command => {
  const plan = parseCommand(argv, e);
  if (plan.kind !== 'run') throw new Error(`expected a command for ${argv.join(' ')}, got ${JSON.stringify(plan)}`);
  return plan.command;
};
const kvCall = (argv: string[]): unknown => {
  const c = command(argv);
  return c.kind === 'kv' ? [c.call.method, c.call.params, c.print] : c;
};

t.test('kv commands map to kv methods with etcdctl v2 flags', async (t) => {
  t.same(kvCall(['get', '/a']), ['kv.get', { key: '/a' }, 'get']);
  t.same(kvCall(['get', '--sort', '/d']), ['kv.get', { key: '/d', sorted: true }, 'get']);
  t.same(kvCall(['set', '/a', 'v']), ['kv.set', { key: '/a', value: 'v' }, 'value']);
  t.same(kvCall(['set', '--ttl', '30', '/a', '']), ['kv.set', { key: '/a', value: '', ttl: 30 }, 'value'], 'an empty value is a value');
  t.same(kvCall(['set', '/a', 'v', '--swap-with-value', 'old', '--swap-with-index', '7']),
    ['kv.set', { key: '/a', value: 'v', prevValue: 'old', prevIndex: 7 }, 'value']);
  t.same(kvCall(['mk', '/a', 'v']), ['kv.set', { key: '/a', value: 'v', prevExist: false }, 'value']);
  t.same(kvCall(['mk', '--in-order', '--ttl', '5', '/q', 'job']), ['kv.create', { key: '/q', value: 'job', ttl: 5 }, 'value']);
  t.same(kvCall(['mkdir', '/d']), ['kv.set', { key: '/d', dir: true, prevExist: false }, 'none']);
  t.same(kvCall(['mkdir', '/d', '--ttl', '9']), ['kv.set', { key: '/d', dir: true, prevExist: false, ttl: 9 }, 'none']);
  t.same(kvCall(['update', '/a', 'v', '--ttl', '1']), ['kv.set', { key: '/a', value: 'v', prevExist: true, ttl: 1 }, 'value']);
  t.same(kvCall(['rm', '/a']), ['kv.delete', { key: '/a' }, 'rm']);
  t.same(kvCall(['rm', '--recursive', '--dir', '/d']), ['kv.delete', { key: '/d', dir: true, recursive: true }, 'rm']);
  t.same(kvCall(['rm', '/a', '--with-value', 'x', '--with-index', '3']), ['kv.delete', { key: '/a', prevValue: 'x', prevIndex: 3 }, 'rm']);
  t.same(kvCall(['rmdir', '/d']), ['kv.delete', { key: '/d', dir: true }, 'none']);
  t.same(kvCall(['ls']), ['kv.get', { key: '/' }, 'ls']);
  t.same(kvCall(['ls', '-p', '--recursive', '--sort', '/d']), ['kv.get', { key: '/d', recursive: true, sorted: true }, 'ls-p']);
});

t.test('watch, exec-watch, member and endpoint', async (t) => {
  t.same(command(['watch', '/k']), { kind: 'watch', key: '/k', recursive: false, forever: false });
  t.same(command(['watch', '--forever', '--recursive', '--after-index', '41', '/k']),
    { kind: 'watch', key: '/k', recursive: true, waitIndex: 42, forever: true }, '--after-index N is waitIndex N+1');
  t.same(command(['exec-watch', '--recursive', '/k', '--', 'sh', '-c', 'echo $ETCD_WATCH_KEY --x']),
    { kind: 'exec-watch', key: '/k', recursive: true, command: 'sh', args: ['-c', 'echo $ETCD_WATCH_KEY --x'] }, 'nothing after -- is parsed');
  t.same(command(['exec-watch', '/k', './notify.sh']), { kind: 'exec-watch', key: '/k', recursive: false, command: './notify.sh', args: [] });
  t.same(command(['member', 'list']), { kind: 'member-list' });
  t.same(command(['member', 'add', 'n4', 'http://10.0.0.4:7001']), { kind: 'member-add', name: 'n4', peerUrl: 'http://10.0.0.4:7001' });
  t.same(command(['member', 'remove', 'abc']), { kind: 'member-remove', id: 'abc' });
  t.same(command(['endpoint', 'health']), { kind: 'endpoint-health' });
  t.same(command(['endpoint', 'status']), { kind: 'endpoint-status' });
});

t.test('global options: before or after the command, from the environment, defaults', async (t) => {
  const globals = (argv: string[], e: Record<string, string> = env): unknown => (parseCommand(argv, e) as Extract<Plan, { kind: 'run' }>).globals;
  t.same(globals(['get', '/a']), { endpoints: ['http://127.0.0.1:4001'], output: 'simple', timeoutMs: 5000 });
  t.same(globals(['--endpoints', 'http://a:1,http://b:2', '-o', 'json', 'get', '/a', '--timeout', '1.5s']),
    { endpoints: ['http://a:1', 'http://b:2'], output: 'json', timeoutMs: 1500 });
  t.same(globals(['get', '/a'], { CAIRN_ENDPOINTS: 'http://c:3' }), { endpoints: ['http://c:3'], output: 'simple', timeoutMs: 5000 });
  t.same(globals(['get', '--endpoints=http://d:4', '/a'], { CAIRN_ENDPOINTS: 'http://c:3' }),
    { endpoints: ['http://d:4'], output: 'simple', timeoutMs: 5000 }, 'the flag wins over the environment');
  t.same(globals(['--timeout', '250ms', 'ls']), { endpoints: ['http://127.0.0.1:4001'], output: 'simple', timeoutMs: 250 });
});

t.test('help: cairnctl --help, help <cmd>, <cmd> --help', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const plan = parseCommand(argv, env);
    t.equal(plan.kind, 'help', argv.join(' '));
    t.match(plan.kind === 'help' ? plan.text : '', /Commands:[\s\S]*exec-watch/);
  }
  for (const argv of [['set', '--help'], ['help', 'set'], ['--help', 'set']]) {
    const plan = parseCommand(argv, env);
    t.match(plan, { kind: 'help', text: /Usage: cairnctl set .*--swap-with-index/ }, argv.join(' '));
  }
  t.match(parseCommand(['member', '--help'], env), { kind: 'help', text: /member add <name> <peerURL>/ });
});

t.test('bad usage is a usage error naming the problem', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['get'], /missing <key>/],
    [['get', '/a', '/b'], /unexpected argument "\/b"/],
    [['set', '/a'], /missing <value>/],
    [['set', '/a', 'v', '--ttl', 'soon'], /--ttl: "soon" is not a whole number/],
    [['set', '/a', 'v', '--ttl', '-1'], /--ttl/],
    [['set', '/a', 'v', '--swap-with-index', '1.5'], /--swap-with-index/],
    [['get', '--nope', '/a'], /nope/],
    [['ls', '-o', 'yaml'], /--output: "yaml"/],
    [['ls', '--timeout', '5'], /--timeout: "5" is not a duration/],
    [['ls', '--endpoints', 'localhost'], /--endpoints: "localhost" is not a URL/],
    [['ls', '--endpoints', ','], /at least one URL/],
    [['watch', '--after-index', 'x', '/k'], /--after-index/],
    [['exec-watch', '/k'], /missing <command>/],
    [['exec-watch', '/k', 'sh', '-c', 'x'], /put -- before the command/],
    [['exec-watch', '--', 'sh'], /missing <key>/],
    [['member'], /missing subcommand/],
    [['member', 'add', 'n4'], /missing <peerURL>/],
    [['member', 'add', 'n4', 'nope'], /not a URL/],
    [['member', 'rename', 'x'], /unknown subcommand "member rename"/],
    [['endpoint', 'health', 'x'], /unexpected argument "x"/],
    [['endpoint'], /missing subcommand/],
  ];
  for (const [argv, message] of cases) {
    t.match(parseCommand(argv, env), { kind: 'usage-error', message }, `cairnctl ${argv.join(' ')}`);
  }
});

t.test('runCli: usage errors exit 2 with "Error: …" and the usage on stderr; help exits 0', async (t) => {
  const run = async (argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out, err };
  };
  const bad = await run(['set', '/a']);
  t.equal(bad.code, 2);
  t.same(bad.out, []);
  t.match(bad.err, ['Error: missing <value>', /^Usage: cairnctl set /]);
  const help = await run(['rm', '--help']);
  t.equal(help.code, 0);
  t.match(help.out.join('\n'), /--with-index N/);
});
