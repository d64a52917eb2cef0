// Benchmarks of the pure Raft core, run with `npm run bench`: how fast three in-memory
// members replicate and commit entries (no disk, no network: the core's own cost), and how
// many simulator seeds run per minute. Medians of interleaved rounds; quote ratios, not
// absolute figures, on a shared machine.
import { cpuUsage } from 'node:process';
import { RawNode, seededRandom } from '../core/raft/index.js';
import type { Message } from '../core/raft/index.js';
import { runSeed } from '../test/sim/scenario.js';

const ROUNDS = 5;
const ENTRIES_PER_ROUND = 50_000;
const PAYLOAD_BYTES = 256;
const IN_FLIGHT = 64;
const SIM_SEEDS_PER_ROUND = 40;
const MAX_SETTLE_PASSES = 10_000;

interface Cluster {
  readonly nodes: Map<string, RawNode>;
  committed: number;
}

function newCluster(): Cluster {
  const ids = ['a', 'b', 'c'];
  const random = seededRandom(1);
  const nodes = new Map(ids.map((id) => [id, RawNode.bootstrap({ id, random, electionTicks: 10 }, ids)]));
  return { nodes, committed: 0 };
}

/** Processes Readies and delivers messages until the cluster is quiet (bounded). */
function settle(cluster: Cluster): void {
  for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
    const outbox: Message[] = [];
    for (const [id, node] of cluster.nodes) {
      if (!node.hasReady()) continue;
      const rd = node.ready();
      outbox.push(...rd.messages, ...rd.messagesAfterPersist);
      if (id === 'a') cluster.committed += rd.committedEntries.filter((e) => e.data.byteLength > 0).length;
      node.advance(rd);
    }
    if (outbox.length === 0) return;
    for (const m of outbox) cluster.nodes.get(m.to)!.step(m);
  }
  throw new Error(`bench: cluster did not settle in ${MAX_SETTLE_PASSES} passes`);
}

function electA(cluster: Cluster): RawNode {
  const a = cluster.nodes.get('a')!;
  a.campaign();
  settle(cluster);
  if (a.status().role !== 'leader') throw new Error('bench: a did not become leader');
  return a;
}

/** Entries committed per second and CPU microseconds per entry, one round. */
function replicationRound(): { perSecond: number; cpuMicrosPerEntry: number } {
  const cluster = newCluster();
  const leader = electA(cluster);
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  const cpuStart = cpuUsage();
  const start = performance.now();
  for (let proposed = 0; proposed < ENTRIES_PER_ROUND; proposed += IN_FLIGHT) {
    for (let i = 0; i < IN_FLIGHT; i++) {
      const error = leader.propose(payload);
      if (error !== undefined) throw new Error(`bench: propose failed: ${error.message}`);
    }
    settle(cluster);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuUsage(cpuStart);
  if (cluster.committed < ENTRIES_PER_ROUND) throw new Error(`bench: only ${cluster.committed} entries committed`);
  return { perSecond: cluster.committed / seconds, cpuMicrosPerEntry: (cpu.user + cpu.system) / cluster.committed };
}

function simRound(round: number): number {
  const start = performance.now();
  for (let i = 0; i < SIM_SEEDS_PER_ROUND; i++) runSeed(round * SIM_SEEDS_PER_ROUND + i + 1);
  return SIM_SEEDS_PER_ROUND / ((performance.now() - start) / 60_000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const rates: number[] = [];
  const cpus: number[] = [];
  const seedRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { perSecond, cpuMicrosPerEntry } = replicationRound();
    rates.push(perSecond);
    cpus.push(cpuMicrosPerEntry);
    seedRates.push(simRound(round));
  }
  const fmt = (values: number[], digits: number): string =>
    `median ${median(values).toFixed(digits)} (min ${Math.min(...values).toFixed(digits)}, max ${Math.max(...values).toFixed(digits)})`;
  console.log(`raft core, 3 in-memory members, ${PAYLOAD_BYTES} B entries, ${IN_FLIGHT} per batch, ${ROUNDS} rounds`);
  console.log(`  committed entries/s:      ${fmt(rates, 0)}`);
  console.log(`  CPU µs per entry (3 members): ${fmt(cpus, 2)}`);
  console.log(`simulator: seeds per minute ${fmt(seedRates, 0)} (${SIM_SEEDS_PER_ROUND} seeds per round)`);
}

main();
