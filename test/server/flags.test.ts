// Flag parsing: defaults from ../shared/API.md, environment fallbacks, and clear errors.
import t from 'tap';
import { parseFlags } from '../../server/flags.js';

t.test('defaults run a one-member cluster on loopback', async (t) => {
  const f = parseFlags([], {});
  t.equal(f.name, 'default');
  t.equal(f.dataDir, 'default.cairn');
  t.equal(f.listenClientUrls[0]!.port, '4001');
  t.equal(f.listenPeerUrls[0]!.port, '7001');
  t.same([...f.initialCluster.keys()], ['default']);
  t.equal(f.initialClusterState, 'new');
  t.equal(f.heartbeatIntervalMs, 100);
  t.equal(f.electionTimeoutMs, 1000);
  t.equal(f.snapshotCount, 10000);
  t.equal(f.maxRequestBytes, 1572864);
});

t.test('CAIRN_* environment variables fill in, flags win', async (t) => {
  const f = parseFlags(['--name', 'b'], { CAIRN_NAME: 'a', CAIRN_DATA_DIR: '/tmp/x', CAIRN_INITIAL_CLUSTER: 'b=http://127.0.0.1:7002' });
  t.equal(f.name, 'b');
  t.equal(f.dataDir, '/tmp/x');
});

t.test('bad values are refused naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--heartbeat-interval', 'fast'], /--heartbeat-interval/],
    [['--election-timeout', '100', '--heartbeat-interval', '100'], /--election-timeout/],
    [['--initial-cluster-state', 'old'], /--initial-cluster-state/],
    [['--listen-client-urls', 'nope'], /--listen-client-urls/],
    [['--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:7001'], /does not list/],
    [['--bogus', '1'], /bogus/],
  ];
  for (const [argv, message] of cases) {
    t.throws(() => parseFlags(argv, {}), { name: 'FlagError', code: 'CAIRN_BAD_FLAG', message }, argv.join(' '));
  }
});
