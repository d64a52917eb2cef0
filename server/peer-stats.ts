// The member's Raft I/O figures behind etcd's /v2/stats/self and /v2/stats/leader: when this
// member started, since when it knows the current leader, how many append requests it sent
// and received, and (on the leader) each follower's round-trip latency and reply counts.
// It watches messages as the member hands them to the transport and receives them; the Raft
// core stays a pure state machine without clocks.
import type { Message } from '../core/raft/index.js';

/** Sends waiting for their reply, per follower; beyond this the oldest are forgotten. */
const MAX_PENDING = 256;

export interface LatencyJson {
  current: number; average: number; standardDeviation: number; minimum: number; maximum: number;
}

/** One follower as etcd's /v2/stats/leader shows it (latencies in milliseconds). */
export interface FollowerStatsJson {
  latency: LatencyJson;
  counts: { fail: number; success: number };
}

/** What the v2 stats handlers read (MemberApi.peerStats). */
export interface PeerStatsView {
  /** When this member started (ms since the epoch). */
  readonly startedAtMs: number;
  /** When this member learned of the current leader, or undefined before any leader. */
  readonly leaderSinceMs: number | undefined;
  /** Append messages received from a leader (heartbeats are not counted, as in etcd). */
  readonly recvAppendRequests: number;
  /** Append messages this member sent as leader (heartbeats are not counted, as in etcd). */
  readonly sendAppendRequests: number;
  /** The given followers, since this member last became leader (zeros for one not yet sent to). */
  followers(ids: readonly string[]): Record<string, FollowerStatsJson>;
}

/** One follower's round trips: sends awaiting replies, and etcd's running latency figures. */
class FollowerTracker {
  /** Heartbeat send times, oldest first: replies come back in order on one connection. */
  private heartbeats: number[] = [];
  /** Append send times by the index a successful reply will carry (the last index sent). */
  private readonly appends = new Map<number, number>();
  private samples = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private readonly latency: LatencyJson = { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 };
  private success = 0;
  private fail = 0;

  sentHeartbeat(at: number): void {
    this.heartbeats.push(at);
    if (this.heartbeats.length > MAX_PENDING) this.heartbeats.shift();
  }

  sentAppend(lastIndex: number, at: number): void {
    // A resend of the same range replaces the older send: its reply is the one now awaited.
    this.appends.delete(lastIndex);
    this.appends.set(lastIndex, at);
    if (this.appends.size > MAX_PENDING) this.appends.delete(this.appends.keys().next().value!);
  }

  heartbeatReply(at: number): void {
    this.success += 1;
    const sentAt = this.heartbeats.shift();
    if (sentAt !== undefined) this.sample(at - sentAt);
  }

  appendReply(index: number, rejected: boolean, at: number): void {
    const sentAt = this.appends.get(index);
    // Sends up to this index are answered (or superseded): stop waiting for them.
    for (const key of [...this.appends.keys()]) if (key <= index) this.appends.delete(key);
    if (rejected) {
      this.fail += 1;
      return;
    }
    this.success += 1;
    if (sentAt !== undefined) this.sample(at - sentAt);
  }

  /** A send to this follower failed: what was in flight will get no reply. */
  failed(): void {
    this.fail += 1;
    this.heartbeats = [];
    this.appends.clear();
  }

  /** etcd's FollowerStats.Succ: running mean and population standard deviation. */
  private sample(ms: number): void {
    this.samples += 1;
    this.sum += ms;
    this.sumOfSquares += ms * ms;
    const average = this.sum / this.samples;
    const l = this.latency;
    l.current = ms;
    l.minimum = this.samples === 1 ? ms : Math.min(l.minimum, ms);
    l.maximum = Math.max(l.maximum, ms);
    l.average = average;
    l.standardDeviation = Math.sqrt(Math.max(0, this.sumOfSquares / this.samples - average * average));
  }

  toJSON(): FollowerStatsJson {
    return { latency: { ...this.latency }, counts: { fail: this.fail, success: this.success } };
  }
}

export class PeerStats implements PeerStatsView {
  readonly startedAtMs: number;
  leaderSinceMs: number | undefined;
  recvAppendRequests = 0;
  sendAppendRequests = 0;
  private trackers = new Map<string, FollowerTracker>();

  /** `now` is the wall clock in ms; `monotonic` times round trips (performance.now by default). */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    this.startedAtMs = now();
  }

  /** A new leader is known; when it is this member, follower figures start afresh. */
  leaderChanged(isSelf: boolean): void {
    this.leaderSinceMs = this.now();
    if (isSelf) this.trackers = new Map();
  }

  /** Messages handed to the transport. */
  sent(messages: readonly Message[]): void {
    const at = this.monotonic();
    for (const m of messages) {
      if (m.type === 'append') {
        this.sendAppendRequests += 1;
        this.tracker(m.to).sentAppend(m.prevLogIndex + m.entries.length, at);
      } else if (m.type === 'heartbeat') {
        this.tracker(m.to).sentHeartbeat(at);
      }
    }
  }

  /** Messages received from peers. */
  received(messages: readonly Message[]): void {
    const at = this.monotonic();
    for (const m of messages) {
      if (m.type === 'append') this.recvAppendRequests += 1;
      else if (m.type === 'heartbeatResponse') this.trackers.get(m.from)?.heartbeatReply(at);
      else if (m.type === 'appendResponse') this.trackers.get(m.from)?.appendReply(m.index, m.reject, at);
    }
  }

  /** The transport could not deliver to this peer (dropped, or its connection is down). */
  unreachable(peerId: string): void {
    this.trackers.get(peerId)?.failed();
  }

  followers(ids: readonly string[]): Record<string, FollowerStatsJson> {
    const out: Record<string, FollowerStatsJson> = {};
    for (const id of [...ids].sort()) out[id] = (this.trackers.get(id) ?? new FollowerTracker()).toJSON();
    return out;
  }

  private tracker(id: string): FollowerTracker {
    let tracker = this.trackers.get(id);
    if (tracker === undefined) this.trackers.set(id, (tracker = new FollowerTracker()));
    return tracker;
  }
}
