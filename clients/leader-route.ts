// Sends a client's writes and linearizable reads straight to the Raft leader's member, when
// that member is one of the client's endpoints. Every member accepts every call and forwards
// to the leader what needs it, so this is a shortcut and never a requirement: when the
// leader is unknown, is not among the endpoints, or its socket is not open, calls go to the
// client's ordinary connection as before. The shortcut saves a hop, and under load it also
// saves the cluster work: writes arriving at one member join the log in large groups, while
// writes arriving at three members out of step make many small Raft rounds (BENCHMARKS.md).
import { Connection, rpcUrl } from './connection.js';
import type { ConnectionOptions } from './connection.js';

/** How old the view of who leads may get while calls keep using it. */
export const LEADER_REFRESH_MS = 3_000;
/** After a lost leader connection or a failed look, how soon to look again. */
export const LEADER_RETRY_MS = 500;

/** Calls the leader answers without forwarding: writes, and reads that need its word. */
export function wantsLeader(method: string, params: object): boolean {
  // cluster.* calls are about the member asked, or rare; waits and streams are long-lived
  // and are best spread over the members.
  if (method.startsWith('cluster.') || method === 'kv.wait') return false;
  if (method === 'kv.get') return (params as { consistency?: unknown }).consistency !== 'serializable';
  return true;
}

/** The endpoint among `endpoints` that serves the leader's clients, if one does. */
export function leaderEndpoint(members: unknown, endpoints: readonly string[]): string | undefined {
  const list = (members as { members?: unknown } | null)?.members;
  if (!Array.isArray(list)) return undefined;
  const leader = list.find((m: unknown) => (m as { isLeader?: unknown } | null)?.isLeader === true) as
    { clientUrls?: unknown } | undefined;
  if (!Array.isArray(leader?.clientUrls)) return undefined;
  const wanted = new Set(leader.clientUrls.filter((u): u is string => typeof u === 'string' && URL.canParse(u)).map(sameSocket));
  return endpoints.find((endpoint) => wanted.has(sameSocket(endpoint)));
}

/** Two URLs name the same member's API when they open the same WebSocket URL. */
function sameSocket(url: string): string {
  return rpcUrl(url).href;
}

export class LeaderRoute {
  private leader: Connection | undefined;
  private looking = false;
  private lookedAt = -Infinity;
  private closed = false;

  /**
   * `ordinary` is the client's connection to any member, if open: the leader is asked for
   * there. `closing` aborts a connect in progress when the client closes.
   */
  constructor(
    private readonly endpoints: readonly string[],
    private readonly options: ConnectionOptions,
    private readonly ordinary: () => Connection | undefined,
    private readonly closing: AbortSignal,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The open connection to the leader's member, or undefined (use the ordinary one). Starts
   * a look in the background when the view is older than LEADER_REFRESH_MS; never waits.
   */
  connection(): Connection | undefined {
    if (this.now() - this.lookedAt >= LEADER_REFRESH_MS) this.look();
    return this.leader?.isOpen === true ? this.leader : undefined;
  }

  /** A routed call failed in a way that hints the leader moved: look again soon. */
  suspect(): void {
    this.lookedAt = Math.min(this.lookedAt, this.now() - LEADER_REFRESH_MS + LEADER_RETRY_MS);
  }

  close(): void {
    this.closed = true;
    this.leader?.close();
    this.leader = undefined;
  }

  private look(): void {
    if (this.looking || this.closed) return;
    const via = this.ordinary();
    if (via === undefined) return;
    this.looking = true;
    this.lookedAt = this.now();
    this.follow(via).catch(() => this.suspect()).finally(() => {
      this.looking = false;
    });
  }

  /** Asks `via` who leads and keeps a connection to that member (none if it is `via`). */
  private async follow(via: Connection): Promise<void> {
    const members = await via.request('cluster.members', {}, AbortSignal.timeout(this.options.connectTimeoutMs));
    const endpoint = leaderEndpoint(members, this.endpoints);
    if (this.leader?.isOpen === true && this.leader.endpoint === endpoint) return;
    this.leader?.close();
    this.leader = undefined;
    // The ordinary connection already reaches the leader: one socket is enough.
    if (endpoint === undefined || sameSocket(endpoint) === sameSocket(via.endpoint) || this.closed) return;
    const connection = await Connection.open(endpoint, this.options, this.closing);
    if (this.closed) {
      connection.close();
      return;
    }
    this.leader = connection;
    connection.onClose(() => {
      if (this.leader !== connection) return;
      this.leader = undefined;
      this.suspect();
    });
  }
}
