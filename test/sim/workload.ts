// The clients and the operator of the chaos phase: writes proposed through random members
// (retried when the error says so), linearizable reads, and membership changes that keep
// the cluster at 3-5 voters: add a fresh member as learner, promote it once caught up,
// remove a voter or learner (sometimes the leader itself).
import type { MaybeRaftError, NodeId } from '../../core/raft/index.js';
import type { Cluster } from './cluster.js';
import type { Rng } from './rng.js';

export interface WorkloadOptions {
  readonly writeGapMs: readonly [number, number];
  readonly readGapMs: readonly [number, number];
  readonly membershipGapMs: readonly [number, number];
  readonly maxVoters: number;
  readonly minVoters: number;
}

const MAX_ATTEMPTS = 3;
const RETRY_MS = 50;

export class Workload {
  private writes = 0;
  /** Counters for the run summary. */
  readonly stats = { proposed: 0, rejected: 0, reads: 0, confChanges: 0 };

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: Rng,
    private readonly options: WorkloadOptions,
  ) {}

  /** Schedules client and operator activity until virtual time `endMs`. */
  start(endMs: number): void {
    this.every(this.options.writeGapMs, endMs, () => this.write(`w${++this.writes}`, 1));
    this.every(this.options.readGapMs, endMs, () => this.read());
    this.every(this.options.membershipGapMs, endMs, () => this.changeMembership());
  }

  /** Runs `action` at seeded gaps until `endMs`. */
  private every(gap: readonly [number, number], endMs: number, action: () => void): void {
    const delay = this.rng.int(gap[0], gap[1]);
    if (this.cluster.now + delay >= endMs) return;
    this.cluster.queue.after(delay, () => {
      action();
      this.every(gap, endMs, action);
    });
  }

  private randomUpMember(): NodeId | undefined {
    const up = this.cluster.upMembers();
    return up.length === 0 ? undefined : this.rng.pick(up).id;
  }

  /** A client write; a retryable error (no leader yet, transfer under way) is retried. */
  private write(data: string, attempt: number): void {
    const id = this.randomUpMember();
    if (id === undefined) return;
    this.stats.proposed++;
    const err = this.cluster.propose(id, data);
    if (err === undefined) return;
    this.stats.rejected++;
    if (err.retryable && attempt < MAX_ATTEMPTS) {
      this.cluster.queue.after(RETRY_MS, () => this.write(data, attempt + 1));
    }
  }

  private read(): void {
    const id = this.randomUpMember();
    if (id === undefined) return;
    this.stats.reads++;
    this.cluster.readIndex(id);
  }

  /** One operator decision, made on the current leader's view of the configuration. */
  private changeMembership(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const status = leader.node!.status();
    const { voters, learners } = status.confState;
    const learner = learners[0];
    if (learner !== undefined) {
      const match = status.progress?.[learner]?.match ?? 0;
      if (match >= status.commit && voters.length < this.options.maxVoters) {
        this.confChange(leader.id, 'addVoter', learner);
      } else if (this.rng.chance(0.15)) {
        this.confChange(leader.id, 'removeNode', learner);
      }
      return;
    }
    const canAdd = voters.length < this.options.maxVoters;
    const canRemove = voters.length > this.options.minVoters;
    if (canAdd && (!canRemove || this.rng.chance(0.5))) this.addLearner(leader.id);
    else if (canRemove) this.confChange(leader.id, 'removeNode', this.rng.pick(voters));
  }

  /** Adds a brand-new member: it starts empty and learns everything from the leader. */
  private addLearner(leaderId: NodeId): void {
    // Ids are never reused: a removed member's id stays retired with it.
    const id = `n${this.cluster.members.size + 1}`;
    if (this.confChange(leaderId, 'addLearner', id) !== undefined) return;
    this.cluster.addMember(id);
    this.cluster.start(id);
  }

  private confChange(leaderId: NodeId, type: 'addVoter' | 'addLearner' | 'removeNode', nodeId: NodeId): MaybeRaftError {
    this.stats.confChanges++;
    return this.cluster.proposeConfChange(leaderId, { type, nodeId });
  }
}
