// Tuning knobs of one Raft member, with the safe defaults cairn ships (PreVote and
// CheckQuorum on) and validation that names whatever is wrong.
import type { NodeId } from './types.js';

export interface RaftConfig {
  /** This member's id; must be non-empty. */
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized up to 2x). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be less than electionTicks. */
  readonly heartbeatTicks: number;
  /**
   * Source of randomness for election timeouts, in [0, 1). Raft never reaches for
   * Math.random itself: the simulator hands a seeded generator, the member a real one.
   */
  readonly random: () => number;
  /** Campaign in two phases so a partitioned member cannot inflate terms (thesis §9.6). */
  readonly preVote: boolean;
  /**
   * The leader steps down when it has not heard from a quorum for an election timeout, and
   * followers that heard from a leader within that time ignore vote requests (stickiness).
   */
  readonly checkQuorum: boolean;
  /** Largest total entry payload in one append message (at least one entry is always sent). */
  readonly maxSizePerMsgBytes: number;
  /** Most append messages in flight to one follower in the Replicate state. */
  readonly maxInflightMsgs: number;
  /** Most entry bytes in flight to one follower; 0 means no byte limit. */
  readonly maxInflightBytes: number;
  /** Most uncommitted entry bytes the leader accepts before refusing proposals. */
  readonly maxUncommittedBytes: number;
  /** Most committed entry bytes handed to the application in one Ready. */
  readonly maxCommittedBytesPerReady: number;
}

export type RaftOptions = Pick<RaftConfig, 'id' | 'random'> & Partial<RaftConfig>;

export const DEFAULT_CONFIG: Omit<RaftConfig, 'id' | 'random'> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 16 * 1024 * 1024,
};

/** Fills in defaults and checks every field; throws naming the bad field and what to do. */
export function resolveConfig(options: RaftOptions): RaftConfig {
  const config: RaftConfig = { ...DEFAULT_CONFIG, ...options };
  if (typeof config.id !== 'string' || config.id === '') {
    throw new Error('raft config: id must be a non-empty string naming this member');
  }
  const positive: (keyof RaftConfig)[] = [
    'electionTicks', 'heartbeatTicks', 'maxSizePerMsgBytes', 'maxInflightMsgs',
    'maxUncommittedBytes', 'maxCommittedBytesPerReady',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`raft config: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (!Number.isSafeInteger(config.maxInflightBytes) || config.maxInflightBytes < 0) {
    throw new Error('raft config: maxInflightBytes must be 0 (no limit) or a positive integer');
  }
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new Error(
      `raft config: heartbeatTicks (${config.heartbeatTicks}) must be less than ` +
        `electionTicks (${config.electionTicks}); raise electionTicks`,
    );
  }
  if (typeof config.random !== 'function') {
    throw new Error('raft config: random must be a function returning a number in [0, 1)');
  }
  return config;
}
