// The `cairn` member's flags, as in ../shared/API.md "Running a member": etcd-style names,
// each also read from CAIRN_<FLAG> in upper snake case (a flag on the command line wins).
// Every value is checked here, so the rest of the member works with a typed config.
import { parseArgs } from 'node:util';

export interface MemberFlags {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly URL[];
  readonly advertiseClientUrls: readonly URL[];
  readonly listenPeerUrls: readonly URL[];
  readonly initialAdvertisePeerUrls: readonly URL[];
  /** name → peer URLs of the members a new cluster starts with. */
  readonly initialCluster: ReadonlyMap<string, readonly URL[]>;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  readonly eventHistory: number;
  readonly maxRequestBytes: number;
  readonly maxConnections: number;
  readonly maxInflightPerConnection: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxWatchBufferBytes: number;
}

const FLAG_NAMES = [
  'name', 'data-dir', 'listen-client-urls', 'advertise-client-urls', 'listen-peer-urls',
  'initial-advertise-peer-urls', 'initial-cluster', 'initial-cluster-state', 'initial-cluster-token',
  'heartbeat-interval', 'election-timeout', 'snapshot-count', 'event-history', 'max-request-bytes',
  'max-connections', 'max-inflight-per-connection', 'max-subscriptions-per-connection', 'max-watch-buffer-bytes',
] as const;
type FlagName = (typeof FLAG_NAMES)[number];

export class FlagError extends Error {
  override readonly name = 'FlagError';
  readonly code = 'CAIRN_BAD_FLAG';
}

const envName = (flag: FlagName): string => `CAIRN_${flag.toUpperCase().replaceAll('-', '_')}`;

/** Parses argv and the environment; throws FlagError naming the bad flag and what to do. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv): MemberFlags {
  let parsed: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(FLAG_NAMES.map((f) => [f, { type: 'string' as const }]));
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new FlagError(`${(error as Error).message}; run with flags from API.md "Running a member"`);
  }
  const raw = (flag: FlagName): string | undefined => {
    const value = parsed[flag] ?? env[envName(flag)];
    return typeof value === 'string' ? value : undefined;
  };
  const name = raw('name') ?? 'default';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new FlagError(`--name "${name}" must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  const initialAdvertisePeerUrls = urls('initial-advertise-peer-urls', raw('initial-advertise-peer-urls') ?? 'http://127.0.0.1:7001');
  const initialCluster = parseInitialCluster(raw('initial-cluster') ?? `${name}=${initialAdvertisePeerUrls.map(String).join(',')}`);
  if (!initialCluster.has(name)) {
    throw new FlagError(`--initial-cluster does not list this member's --name "${name}"; add ${name}=<peer url>`);
  }
  const state = raw('initial-cluster-state') ?? 'new';
  if (state !== 'new' && state !== 'existing') {
    throw new FlagError(`--initial-cluster-state must be "new" or "existing", got "${state}"`);
  }
  const heartbeatIntervalMs = positiveInt('heartbeat-interval', raw('heartbeat-interval') ?? '100');
  const electionTimeoutMs = positiveInt('election-timeout', raw('election-timeout') ?? '1000');
  if (electionTimeoutMs < 2 * heartbeatIntervalMs) {
    throw new FlagError(`--election-timeout (${electionTimeoutMs} ms) must be at least twice --heartbeat-interval (${heartbeatIntervalMs} ms)`);
  }
  const listenClientUrls = urls('listen-client-urls', raw('listen-client-urls') ?? 'http://127.0.0.1:4001');
  return {
    name,
    dataDir: raw('data-dir') ?? `${name}.cairn`,
    listenClientUrls,
    advertiseClientUrls: urls('advertise-client-urls', raw('advertise-client-urls') ?? listenClientUrls.map(String).join(',')),
    listenPeerUrls: urls('listen-peer-urls', raw('listen-peer-urls') ?? 'http://127.0.0.1:7001'),
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: raw('initial-cluster-token') ?? 'cairn-cluster',
    heartbeatIntervalMs,
    electionTimeoutMs,
    snapshotCount: positiveInt('snapshot-count', raw('snapshot-count') ?? '10000'),
    eventHistory: positiveInt('event-history', raw('event-history') ?? '1000'),
    maxRequestBytes: positiveInt('max-request-bytes', raw('max-request-bytes') ?? '1572864'),
    maxConnections: positiveInt('max-connections', raw('max-connections') ?? '1024'),
    maxInflightPerConnection: positiveInt('max-inflight-per-connection', raw('max-inflight-per-connection') ?? '1024'),
    maxSubscriptionsPerConnection: positiveInt('max-subscriptions-per-connection', raw('max-subscriptions-per-connection') ?? '4096'),
    maxWatchBufferBytes: positiveInt('max-watch-buffer-bytes', raw('max-watch-buffer-bytes') ?? '16777216'),
  };
}

function positiveInt(flag: FlagName, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new FlagError(`--${flag} must be a positive integer, got "${text}"`);
  }
  return value;
}

function urls(flag: FlagName, text: string): URL[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new FlagError(`--${flag} needs at least one URL`);
  return list.map((item) => {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new FlagError(`--${flag}: "${item}" is not a URL; write it like http://127.0.0.1:4001`);
    }
    if (url.protocol !== 'http:' || url.port === '') {
      throw new FlagError(`--${flag}: "${item}" must be http://host:port (TLS is not supported yet)`);
    }
    return url;
  });
}

function parseInitialCluster(text: string): Map<string, URL[]> {
  const cluster = new Map<string, URL[]>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FlagError(`--initial-cluster: "${part}" must be name=http://host:port`);
    const memberName = part.slice(0, eq);
    cluster.set(memberName, [...(cluster.get(memberName) ?? []), ...urls('initial-cluster', part.slice(eq + 1))]);
  }
  if (cluster.size === 0) throw new FlagError('--initial-cluster lists no member');
  return cluster;
}
