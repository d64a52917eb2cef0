// etcd 3.4's /v2/stats/self, /v2/stats/leader and /v2/stats/store on the client port, in
// etcd's JSON shapes. The figures come from the member's Raft I/O bookkeeping
// (server/peer-stats.ts), the store's operation counters (core/store/stats.ts) and the
// watch hub. Differences from etcd: the self stats omit the packet and bandwidth rates, and
// a follower with no reply yet shows latency zeros (etcd shows its 1<<63 sentinel minimum).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberApi } from '../member-api.js';
import { allowMethod, writeJson, writeMessageError } from './http.js';

export type StatsKind = 'self' | 'leader' | 'store';

/** Go's zero time.Time as encoding/json writes it: what etcd shows before any leader is known. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export function serveStats(member: MemberApi, req: IncomingMessage, res: ServerResponse, kind: StatsKind): void {
  if (!allowMethod(req, res, 'GET')) return;
  switch (kind) {
    case 'self': return writeJson(res, 200, selfStats(member, Date.now()));
    case 'leader': return serveLeaderStats(member, res);
    case 'store': return writeJson(res, 200, { ...member.store.stats.toJSON(), watchers: member.watchHub.size });
  }
}

/** etcd's serverStats JSON, field for field (without the omitempty rates). */
export function selfStats(member: MemberApi, nowMs: number): Record<string, unknown> {
  const status = member.status();
  const stats = member.peerStats;
  const since = status.leaderId === '' ? undefined : stats.leaderSinceMs;
  return {
    name: status.name,
    id: status.memberId,
    state: status.leaderId === status.memberId ? 'StateLeader' : 'StateFollower',
    startTime: new Date(stats.startedAtMs).toISOString(),
    leaderInfo: {
      leader: status.leaderId,
      uptime: since === undefined ? '0s' : goDuration(nowMs - since),
      startTime: since === undefined ? GO_ZERO_TIME : new Date(since).toISOString(),
    },
    recvAppendRequestCnt: stats.recvAppendRequests,
    sendAppendRequestCnt: stats.sendAppendRequests,
  };
}

/** 403 on a follower, as etcd: only the leader measures its followers. */
function serveLeaderStats(member: MemberApi, res: ServerResponse): void {
  const { leaderId, memberId } = member.status();
  if (leaderId !== memberId) return writeMessageError(res, 403, 'not current leader');
  const ids = new Set([...member.members().map((m) => m.id), ...member.voters()]);
  ids.delete(memberId);
  writeJson(res, 200, { leader: memberId, followers: member.peerStats.followers([...ids]) });
}

/** Go's time.Duration.String for a duration in ms (kept to the nanosecond): "1m14.88s", "350ms", "0s". */
export function goDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  if (ns < 1e9) {
    // Below a second Go picks the largest unit that keeps the integer part non-zero.
    const [unit, scale] = ns < 1e3 ? ['ns', 1] as const : ns < 1e6 ? ['µs', 1e3] as const : ['ms', 1e6] as const;
    return `${sign}${decimal(ns, scale)}${unit}`;
  }
  const hours = Math.floor(ns / 3.6e12);
  ns -= hours * 3.6e12;
  const minutes = Math.floor(ns / 6e10);
  ns -= minutes * 6e10;
  const h = hours > 0 ? `${hours}h` : '';
  const m = hours > 0 || minutes > 0 ? `${minutes}m` : '';
  return `${sign}${h}${m}${decimal(ns, 1e9)}s`;
}

/** n / scale with the fraction's trailing zeros dropped ("1.5", "74.88", "3"). */
function decimal(n: number, scale: number): string {
  const whole = Math.floor(n / scale);
  const fraction = n - whole * scale;
  if (fraction === 0) return String(whole);
  const digits = String(fraction).padStart(String(scale).length - 1, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}
