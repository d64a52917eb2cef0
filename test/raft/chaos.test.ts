// A randomized workload over the whole core (beyond etcd's unit tests; in the spirit of
// TigerBeetle's VOPR and hashicorp/raft's fuzzy tests): message loss and delay, isolation,
// crash-restarts, compaction and membership changes, all driven by a seeded generator. The
// harness checks Election Safety and State Machine Safety on every step; after the faults
// stop, a healed cluster must elect a leader and converge (liveness phase).
import t from 'tap';
import { seededRandom } from '../../core/raft/index.js';
import { bytes, cluster } from './harness.js';

// More seeds for a bug hunt: RAFT_CHAOS_SEEDS=500 npx tap dist/test/raft/chaos.test.js
const SEEDS = Number(process.env['RAFT_CHAOS_SEEDS'] ?? 12);

for (let seed = 1; seed <= SEEDS; seed++) {
  // Odd seeds run five members, even seeds three; the last member is demoted and promoted.
  const IDS = seed % 2 === 1 ? ['a', 'b', 'c', 'd', 'e'] : ['a', 'b', 'c'];
  const toggled = IDS.at(-1)!;
  t.test(`seed ${seed}, ${IDS.length} members: safety under faults, then liveness and convergence`, async (t) => {
    const rand = seededRandom(seed * 7919);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const net = cluster(IDS, { seed });
    net.drop(() => rand() < 0.05);
    net.hold(() => rand() < 0.05);
    net.duplicate(() => rand() < 0.03);
    // ReadIndex linearizability: a read must return an index at least the highest commit
    // any member knew of when the read was issued.
    const readFloor = new Map<string, number>();
    const checkedReads = new Map<string, number>(IDS.map((id) => [id, 0]));
    let reads = 0;
    let served = 0;
    let transfers = 0;
    let proposed = 0;
    let confChanges = 0;
    let restarts = 0;
    let compactions = 0;
    for (let step = 0; step < 400; step++) {
      if (step % 50 === 0) {
        net.healLinks();
        if (rand() < 0.6) net.isolate(pick(IDS));
      }
      for (const id of IDS) net.tick(id);
      if (rand() < 0.15) net.release();
      const leader = net.leader();
      if (leader !== undefined) {
        if (rand() < 0.5 && net.node(leader).propose(bytes(`${seed}:${proposed}`)) === undefined) proposed++;
        if (rand() < 0.03 && leader !== toggled) {
          const isLearner = net.confState(leader).learners.includes(toggled);
          const cc = isLearner ? { type: 'addVoter' as const, nodeId: toggled } : { type: 'addLearner' as const, nodeId: toggled };
          if (net.node(leader).proposeConfChange(cc) === undefined) confChanges++;
        }
      }
      if (rand() < 0.1) {
        const id = pick(IDS);
        const ctx = `${id}:${reads++}`;
        if (net.node(id).readIndex(ctx) === undefined) {
          readFloor.set(ctx, Math.max(...IDS.map((x) => net.node(x).status().commit)));
        }
      }
      if (leader !== undefined && rand() < 0.02) {
        const to = pick(net.confState(leader).voters);
        if (net.node(leader).transferLeadership(to) === undefined) transfers++;
      }
      if (rand() < 0.03) {
        const id = pick(IDS);
        const applied = net.store(id).applied;
        if (applied > net.node(id).logView().snapshotIndex) {
          net.compact(id);
          compactions++;
        }
      }
      if (rand() < 0.02) {
        net.restartNode(pick(IDS));
        restarts++;
      }
      if (rand() < 0.01) {
        net.crashAfterSend(net.leader() ?? pick(IDS)); // a leader loses its unwritten entries
        restarts++;
      }
      net.stabilize();
      for (const id of IDS) {
        const states = net.store(id).readStates;
        for (let k = checkedReads.get(id)!; k < states.length; k++) {
          const rs = states[k]!;
          const floor = readFloor.get(rs.context);
          if (floor === undefined) t.fail(`step ${step}: unknown read ${rs.context} at ${id}`);
          else if (rs.index < floor) t.fail(`step ${step}: read ${rs.context} at ${rs.index}, but ${floor} was committed before it was issued`);
          served++;
        }
        checkedReads.set(id, states.length);
      }
    }
    // Liveness phase: no more faults.
    net.heal();
    net.release();
    net.held = [];
    net.tickUntil(() => net.leader() !== undefined, 300);
    net.tickAll(50);
    const leader = net.leader()!;
    t.same(net.leaders(), [leader], 'exactly one leader after healing');
    const ref = net.state(leader);
    for (const id of IDS) {
      t.same(net.state(id), ref, `${id} converged`);
      t.equal(net.node(id).status().commit, net.node(leader).status().commit, `${id} commit`);
    }
    t.ok(ref.length > 0, `${ref.length} of ${proposed} proposals committed; ${confChanges} conf changes, ${compactions} compactions, ${restarts} restarts, ${transfers} transfers, ${served} of ${reads} reads served`);
  });
}
