// What the client-facing layers (JSON-RPC, and later the v2 HTTP API and the recipes) need
// from a member. Member implements it; tests can hand in a fake.
import type { ConfChange } from '../core/raft/index.js';
import type { Store } from '../core/store/index.js';
import type { ApplyResult } from './apply.js';
import type { MemberStatus } from './member-status.js';
import type { MemberMetrics } from './metrics.js';
import type { PeerStatsView } from './peer-stats.js';
import type { KvWrite, MemberInfo } from './state-machine.js';
import type { WatchHub } from './watch-hub.js';

export interface MemberApi {
  readonly memberId: string;
  readonly clusterToken: string;
  /** The applied store; replaced when a snapshot is installed, so never keep a reference. */
  readonly store: Store;
  readonly watchHub: WatchHub;
  readonly metrics: MemberMetrics | undefined;
  /** Raft I/O figures for /v2/stats/self and /v2/stats/leader (store counters: store.stats). */
  readonly peerStats: PeerStatsView;
  connectionCount: number;
  status(): MemberStatus;
  members(): MemberInfo[];
  voters(): readonly string[];
  proposeKv(write: KvWrite): Promise<ApplyResult>;
  proposeConfChange(change: ConfChange, requestId: string): Promise<ApplyResult>;
  /** Resolves once everything committed before the call is applied here (linearizable read). */
  readBarrier(): Promise<number>;
  waitForStoreIndex(index: number, timeoutMs: number): Promise<boolean>;
  transferLeader(id: string): void;
  /** Whether this member has applied what it knows to be committed (for GET /health). */
  caughtUp(): boolean;
}
