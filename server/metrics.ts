// The member's Prometheus metrics (GET /metrics), with prom-client. Counters and histograms
// are fed by hooks in the member and the RPC layer; gauges read the member's state when
// scraped, so they can never go stale. Names follow etcd's where one exists.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Live values the gauges read at scrape time. */
export interface MetricSources {
  term(): number;
  commitIndex(): number;
  appliedIndex(): number;
  storeIndex(): number;
  isLeader(): boolean;
  hasLeader(): boolean;
  connections(): number;
  watchers(): number;
}

// Disk and apply latencies on this kind of machine run from ~0.1 ms to a few hundred ms.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class MemberMetrics {
  readonly registry = new Registry();
  private readonly leaderChanges: Counter;
  private readonly proposalsCommitted: Counter;
  private readonly proposalsFailed: Counter;
  private readonly fsyncSeconds: Histogram;
  private readonly applySeconds: Histogram;
  private readonly requests: Counter<'method' | 'code'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'cairn_process_' });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    };
    gauge('cairn_server_has_leader', '1 when this member knows a leader', () => Number(sources.hasLeader()));
    gauge('cairn_server_is_leader', '1 when this member is the leader', () => Number(sources.isLeader()));
    gauge('cairn_raft_term', 'Current Raft term', sources.term);
    gauge('cairn_raft_commit_index', 'Highest log index known committed', sources.commitIndex);
    gauge('cairn_raft_applied_index', 'Highest log index applied to the store', sources.appliedIndex);
    gauge('cairn_store_index', 'The etcd v2 store index', sources.storeIndex);
    gauge('cairn_client_connections', 'Open client WebSocket connections', sources.connections);
    gauge('cairn_watchers', 'Live watchers (streams and waits)', sources.watchers);
    this.leaderChanges = new Counter({ name: 'cairn_server_leader_changes_seen_total', help: 'Leader changes seen by this member', registers });
    this.proposalsCommitted = new Counter({ name: 'cairn_server_proposals_committed_total', help: 'Proposals made here and applied', registers });
    this.proposalsFailed = new Counter({ name: 'cairn_server_proposals_failed_total', help: 'Proposals made here that failed or timed out', registers });
    this.fsyncSeconds = new Histogram({ name: 'cairn_disk_wal_fsync_duration_seconds', help: 'WAL write + fdatasync latency', buckets: LATENCY_BUCKETS, registers });
    this.applySeconds = new Histogram({ name: 'cairn_server_apply_duration_seconds', help: 'Time to apply one committed command', buckets: LATENCY_BUCKETS, registers });
    this.requests = new Counter({ name: 'cairn_rpc_requests_total', help: 'JSON-RPC requests by method and result code (0 = success)', labelNames: ['method', 'code'], registers });
  }

  leaderChanged(): void { this.leaderChanges.inc(); }
  proposalCommitted(): void { this.proposalsCommitted.inc(); }
  proposalFailed(): void { this.proposalsFailed.inc(); }
  observeFsync(seconds: number): void { this.fsyncSeconds.observe(seconds); }
  observeApply(seconds: number): void { this.applySeconds.observe(seconds); }
  request(method: string, code: number): void { this.requests.inc({ method, code: String(code) }); }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
