// One simulation run from a seed: pick the cluster's shape and tuning, bootstrap it, run the
// chaos phase (random faults, in some seeds leader-churn episodes, plus workload), then the
// liveness phase, and report what the checker found and which coverage marks were hit.
// Everything here is a pure function of the seed; a failing seed replays exactly.
import { LeaderChurn } from './churn.js';
import type { ChurnOptions } from './churn.js';
import { Cluster } from './cluster.js';
import type { ClusterOptions } from './cluster.js';
import type { Violation } from './checker.js';
import { Faults } from './faults.js';
import type { FaultOptions } from './faults.js';
import { runLiveness } from './liveness.js';
import type { LivenessOptions } from './liveness.js';
import { Rng } from './rng.js';
import { Trace } from './trace.js';
import type { TraceSink } from './trace.js';
import { Workload } from './workload.js';
import type { WorkloadOptions } from './workload.js';

export interface ScenarioParams {
  readonly size: number;
  readonly chaosMs: number;
  /** Probability that a disk sync is cut short by a power loss during the chaos phase. */
  readonly powerLossRate: number;
  readonly cluster: ClusterOptions;
  readonly faults: FaultOptions;
  readonly churn: ChurnOptions;
  readonly workload: WorkloadOptions;
  readonly liveness: LivenessOptions;
}

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly steps: number;
  readonly virtualMs: number;
  /** How often each coverage mark was hit (see coverage.ts). */
  readonly coverage: Readonly<Record<string, number>>;
  /** Digest of the whole trace: equal digests mean identical runs. */
  readonly traceDigest: string;
  /** The last trace lines, for failure reports. */
  readonly traceTail: readonly string[];
  readonly summary: string;
}

/** Share of seeds that run leader-churn episodes (churn.ts) besides the random faults. */
const CHURN_SHARE = 0.4;

/** Seeded choice of everything that shapes a run. */
export function chooseParams(seed: number): ScenarioParams {
  const rng = new Rng(seed ^ 0x5eed);
  const electionTicks = rng.int(4, 15);
  // Disks from fast to slower than the network: a slow leader disk is what lets followers
  // acknowledge an entry before the leader's own copy is durable.
  const minSyncMs = rng.pick([0, 1, 2, 5, 10]);
  return {
    size: rng.pick([3, 5]),
    chaosMs: rng.int(3000, 8000),
    powerLossRate: rng.pick([0, 0.005, 0.02, 0.06]),
    cluster: {
      seed,
      tickMs: 10,
      readyDelayMs: rng.int(0, 2),
      maxSteps: 3_000_000,
      member: {
        electionTicks,
        heartbeatTicks: rng.int(1, 3),
        maxReadiesInFlight: rng.pick([1, 1, 2, 3]),
        snapshotEvery: rng.int(5, 30),
        maxSizePerMsgBytes: rng.pick([16, 64, 1024 * 1024]),
        maxInflightMsgs: rng.pick([1, 4, 256]),
      },
      disk: { minSyncMs, maxSyncMs: minSyncMs + rng.pick([0, 2, 8, 30]), stallRate: 0.02, stallMs: rng.int(20, 150) },
    },
    faults: { minGapMs: 50, maxGapMs: rng.int(200, 800) },
    workload: {
      writeGapMs: [5, rng.int(20, 80)],
      readGapMs: [20, rng.int(100, 400)],
      membershipGapMs: [200, rng.int(600, 2000)],
      maxVoters: 5,
      minVoters: 3,
    },
    liveness: { timeoutMs: 30_000, pollMs: 50, probeRetryMs: 1000 },
    // Drawn last so that adding it left every earlier choice of every seed as it was.
    churn: { maxEpisodes: rng.chance(CHURN_SHARE) ? rng.int(2, 6) : 0, gapMs: [100, 600], phaseTimeoutMs: 1500 },
  };
}

export interface RunOptions {
  /** Receives every trace line as it happens (--verbose). */
  readonly sink?: TraceSink;
  /** Overrides for tests of the simulator itself. */
  readonly params?: ScenarioParams;
}

export function runSeed(seed: number, options: RunOptions = {}): SimResult {
  const params = options.params ?? chooseParams(seed);
  const trace = new Trace(options.sink);
  const cluster = new Cluster(params.cluster, trace);
  const rng = new Rng(seed ^ 0xc4a05);
  const workload = new Workload(cluster, rng.fork(), params.workload);
  try {
    bootstrap(cluster, params.size);
    cluster.powerLossRate = params.powerLossRate;
    const faultRng = rng.fork();
    const churn = new LeaderChurn(cluster, rng.fork(), params.churn);
    new Faults(cluster, faultRng, params.faults, () => churn.busy()).start(params.chaosMs);
    churn.start(params.chaosMs);
    workload.start(params.chaosMs);
    cluster.runUntil(params.chaosMs);
    if (cluster.checker.ok()) runLiveness(cluster, params.liveness);
  } catch (err) {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    cluster.checker.fail('Exception', [], text.split('\n').slice(0, 6).join('\n'));
  }
  const { proposed, reads, confChanges } = workload.stats;
  const net = cluster.network.stats;
  return {
    seed,
    violations: cluster.checker.violations,
    coverage: cluster.coverage.snapshot(),
    steps: cluster.checker.step,
    virtualMs: cluster.now,
    traceDigest: trace.digestHex(),
    traceTail: trace.tail(),
    summary: `${params.size} members, chaos ${params.chaosMs}ms, ${describeTuning(params)}, ${cluster.checker.step} steps, ` +
      `${proposed} writes, ${reads} reads, ${confChanges} conf changes, ` +
      `${net.sent} msgs (${net.dropped} dropped, ${net.duplicated} duplicated), max commit ${cluster.checker.maxCommitted}`,
  };
}

function describeTuning(params: ScenarioParams): string {
  const m = params.cluster.member;
  return `election ${m.electionTicks} heartbeat ${m.heartbeatTicks} ticks, inflight ${m.maxInflightMsgs} msgs, ` +
    `${m.maxSizePerMsgBytes} B/msg, ${m.maxReadiesInFlight} readies, snapshot every ${m.snapshotEvery}`;
}

/** Creates n1..nN as the initial voters, each starting as a step at time 0. */
function bootstrap(cluster: Cluster, size: number): void {
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  for (const id of ids) {
    cluster.addMember(id, ids);
    cluster.queue.after(0, () => cluster.start(id));
  }
}
