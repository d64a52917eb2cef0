// How a member comes up: the Raft node from the data dir (bootstrap a new cluster, or restart
// from the WAL and the newest snapshot), and, for a member joining a running cluster, the
// cluster id asked of the members listed in --initial-cluster.
import { access } from 'node:fs/promises';
import { RawNode } from '../core/raft/index.js';
import type { PersistedState, Snapshot } from '../core/raft/index.js';
import type { ApplyPipeline } from './apply.js';
import type { MemberFlags } from './flags.js';
import { memberIdFor } from './identity.js';
import type { Logger } from './log.js';
import type { MemberInfo } from './state-machine.js';

/**
 * The Raft node: a new cluster's member bootstraps the initial membership; anyone else
 * restarts from what the WAL and the newest snapshot hold (nothing, for a joining member).
 */
export function createRawNode(
  flags: MemberFlags, logger: Logger, identity: { memberId: string; clusterId: string }, created: boolean,
  initial: readonly MemberInfo[], apply: ApplyPipeline, state: PersistedState, snapshot: Snapshot | undefined,
): RawNode {
  const { memberId, clusterId } = identity;
  const raftOptions = {
    id: memberId, random: Math.random, heartbeatTicks: 1,
    electionTicks: Math.max(2, Math.round(flags.electionTimeoutMs / flags.heartbeatIntervalMs)),
  };
  if (created && flags.initialClusterState === 'new') {
    for (const m of initial) apply.stateMachine.addMember(m);
    logger.log('info', `bootstrapping member ${memberId} of new cluster ${clusterId} with ${initial.length} member(s)`);
    return RawNode.bootstrap(raftOptions, initial.map((m) => m.id));
  }
  if (snapshot !== undefined) apply.restore(snapshot);
  // Peers to talk to before the log (or a snapshot) says who the members are: a joining
  // member knows them only from --initial-cluster.
  const sm = apply.stateMachine;
  for (const m of initial) if (!sm.members.has(m.id) && !sm.removed.has(m.id)) sm.addMember(m);
  logger.log('info', created
    ? `joining existing cluster as ${memberId}; waiting for the leader to send the log`
    : `restarted member ${memberId} at term ${state.hardState.term}, commit ${state.hardState.commit}, ` +
      `${state.entries.length} entries after snapshot ${snapshot?.metadata.index ?? 0}`);
  return RawNode.restart(raftOptions, state);
}

const DISCOVERY_TIMEOUT_MS = 30_000;

export async function pathExists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * A member joining an existing cluster adopts that cluster's id, asked of the other members
 * listed in --initial-cluster (as etcd's joining members do), for up to 30 s.
 */
export async function discoverClusterId(flags: MemberFlags, selfId: string, logger: Logger): Promise<string> {
  const token = flags.initialClusterToken;
  const peers = [...flags.initialCluster.values()].flat().filter((u) => memberIdFor([u], token) !== selfId);
  if (peers.length === 0) throw new Error('--initial-cluster-state existing needs --initial-cluster to list the running members');
  const deadline = Date.now() + DISCOVERY_TIMEOUT_MS;
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    for (const peer of peers) {
      const url = new URL(`/cluster?token=${encodeURIComponent(token)}`, peer);
      const reply = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => (r.ok ? r.json() : undefined), () => undefined);
      const clusterId = (reply as { clusterId?: unknown } | undefined)?.clusterId;
      if (typeof clusterId === 'string' && clusterId !== '') return clusterId;
    }
    if (attempt === 0) logger.log('info', `asking ${peers.join(', ')} for the cluster id to join`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no member listed in --initial-cluster answered with the cluster id within ${DISCOVERY_TIMEOUT_MS} ms; are they running, with the same --initial-cluster-token?`);
}
