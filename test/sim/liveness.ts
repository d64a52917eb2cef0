// The liveness phase: faults stop, the network heals, every crashed member comes back, and
// within a bounded virtual time the cluster must settle: one leader every live voter
// follows, every member of its configuration committed and applied up to the leader's last
// index, and a write proposed now committed. Not settling is a violation like any other.
import type { Cluster } from './cluster.js';
import { CALM_NETWORK } from './network.js';

export interface LivenessOptions {
  readonly timeoutMs: number;
  /** How often the settle condition is evaluated (it reads every member's status). */
  readonly pollMs: number;
  /** How often the probe write is re-proposed while it has not been applied. */
  readonly probeRetryMs: number;
}

export function runLiveness(cluster: Cluster, options: LivenessOptions): void {
  const start = cluster.now;
  // Every action is queued as an event so that it counts as a step like any other.
  cluster.queue.after(0, () => {
    cluster.powerLossRate = 0;
    cluster.network.heal();
    cluster.network.conditions = CALM_NETWORK;
    cluster.record('liveness phase: faults stop, network healed');
    retireRemoved(cluster);
  });
  for (const id of cluster.ids()) cluster.queue.after(0, () => cluster.start(id));
  const probes: string[] = [];
  let lastProbe = -Infinity;
  let why: string | undefined = 'not checked yet';
  const deadline = start + options.timeoutMs;
  while (cluster.checker.ok() && cluster.now < deadline) {
    if (!probes.some((p) => cluster.wasApplied(p)) && cluster.now - lastProbe >= options.probeRetryMs) {
      cluster.queue.after(0, () => proposeProbe(cluster, `live${probes.length + 1}`, probes));
      lastProbe = cluster.now;
    }
    cluster.runUntil(Math.min(deadline, cluster.now + options.pollMs));
    cluster.queue.after(0, () => retireRemoved(cluster));
    why = probes.some((p) => cluster.wasApplied(p))
      ? unsettled(cluster)
      : `the liveness write has not been applied (${describeLeaders(cluster)})`;
    if (why === undefined) break;
  }
  if (why !== undefined && cluster.checker.ok()) {
    cluster.checker.fail('Liveness', [], `not settled ${options.timeoutMs}ms after faults stopped: ${why}`);
  }
  if (why === undefined) cluster.record(`settled after ${cluster.now - start}ms`);
}

/** Proposes the liveness write on the leader, if there is one, and remembers it if taken. */
function proposeProbe(cluster: Cluster, data: string, probes: string[]): void {
  const leader = cluster.leader();
  if (leader === undefined) return;
  cluster.watch(data);
  if (cluster.propose(leader.id, data) === undefined) probes.push(data);
}

/** An operator shuts down members whose removal has committed. */
function retireRemoved(cluster: Cluster): void {
  for (const id of cluster.ids()) {
    if (cluster.removed.has(id)) cluster.retire(id);
  }
}

/** The leaders' view of replication, for the failure message. */
function describeLeaders(cluster: Cluster): string {
  const leaders = cluster.leaders();
  if (leaders.length === 0) return 'no leader';
  return leaders.map((m) => {
    const st = m.node!.status();
    const progress = Object.entries(st.progress ?? {})
      .map(([id, pr]) => `${id}:${pr.state}/${pr.match}/${pr.next}`).join(' ');
    return `leader ${m.id} term ${st.term} commit ${st.commit} last ${st.lastIndex} ` +
      `voters ${st.confState.voters.join(',')} learners ${st.confState.learners.join(',') || '-'} progress ${progress}`;
  }).join('; ');
}

/** Why the cluster has not settled, or undefined once it has. */
export function unsettled(cluster: Cluster): string | undefined {
  const leaders = cluster.leaders();
  if (leaders.length !== 1) return `${leaders.length} leaders (${leaders.map((m) => m.id).join(',') || 'none'})`;
  const leader = leaders[0]!;
  const st = leader.node!.status();
  const { voters, learners } = st.confState;
  for (const id of [...voters, ...learners]) {
    const member = cluster.members.get(id);
    const status = member?.node?.status();
    if (member === undefined || status === undefined) return `${id} (in ${leader.id}'s configuration) is not up`;
    if (voters.includes(id) && (status.leader !== leader.id || status.term !== st.term)) {
      return `${id} follows ${status.leader || 'nobody'} in term ${status.term}, not ${leader.id} in term ${st.term}`;
    }
    if (status.commit !== st.lastIndex || member.sm.appliedIndex !== st.lastIndex) {
      const pr = st.progress?.[id];
      const view = pr === undefined ? 'no progress' : `progress ${pr.state} match ${pr.match} next ${pr.next}`;
      return `${id} has commit ${status.commit}, applied ${member.sm.appliedIndex}; ` +
        `leader ${leader.id} last index ${st.lastIndex}, first index ${st.firstIndex}, ${view}`;
    }
  }
  return undefined;
}
