// election.campaign: queue a candidacy (an in-order TTL key), keep it alive while the client
// waits, and answer once it is the lowest key, i.e. the leader. Each candidate watches only its
// predecessor (and its own key), so a leader's departure wakes one waiter, not the herd. The
// candidacy is withdrawn when the client's connection closes, when timeoutMs passes, and with
// wait:false when someone else leads, so no candidacy is ever left behind by a caller that is
// no longer waiting for it.
import { MemberError } from '../../server/errors.js';
import { kvCreate } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import { keepAlive } from '../keepalive.js';
import type { RecipeContext } from '../method.js';
import { DEFAULT_TTL_SECONDS, electionDir, encodeCandidate, leaderView, readCandidates } from './keys.js';
import type { LeaderView } from './keys.js';

export interface CampaignParams {
  name: string;
  candidate: string;
  value?: string;
  ttl?: number;
  wait?: boolean;
  timeoutMs?: number;
}

export type CampaignResult = { leader: true; token: number; ttl: number } | { leader: false; current: LeaderView | null };

type TurnOutcome = { elected: true } | { elected: false; current: LeaderView | null };

interface TurnOptions {
  readonly wait: boolean;
  readonly timeoutMs: number | undefined;
  /** The client is gone, or the member stopped keeping the key alive. */
  readonly stop: readonly AbortSignal[];
}

export async function campaign(ctx: RecipeContext, p: CampaignParams): Promise<CampaignResult> {
  const ttl = p.ttl ?? DEFAULT_TTL_SECONDS;
  const created = await kvCreate(ctx.member, { key: electionDir(p.name), value: encodeCandidate(p.candidate, p.value ?? '', ttl), ttl });
  const token = created.node.createdIndex;
  // The key lives as long as the client waits for it; if this member dies, its TTL ends it.
  const kept = keepAlive(ctx.member, created.node.key, ttl, token, ctx.closed);
  try {
    const turn = await waitForTurn(ctx.member, p.name, token, {
      wait: p.wait !== false, timeoutMs: p.timeoutMs, stop: [ctx.closed, kept.lost],
    });
    if (turn.elected) {
      // From here the client's election.heartbeat keeps it alive, wherever it reconnects.
      kept.release();
      return { leader: true, token, ttl };
    }
    await kept.withdraw();
    return { leader: false, current: turn.current };
  } catch (error) {
    await kept.withdraw().catch(() => { /* the TTL removes it */ });
    throw error;
  }
}

function lapsed(name: string, token: number): MemberError {
  return new MemberError(510, `election ${name}: the candidacy with token ${token} lapsed before it was elected (its key was deleted or expired); campaign again`, true, {
    cause: 'candidacy lapsed',
  });
}

function clientGone(name: string): MemberError {
  return new MemberError(-32000, `election ${name}: the client's connection closed; the candidacy was withdrawn`, false);
}

/**
 * Resolves once `token` is the lowest live candidacy (elected), or, not elected, when wait is
 * false or timeoutMs passes. Each check reads this member's store and re-arms the watchers in
 * the same synchronous step, and the watch hub delivers in step with apply, so no deletion
 * of a predecessor can fall between a check and the watch that follows it.
 */
function waitForTurn(member: MemberApi, name: string, token: number, o: TurnOptions): Promise<TurnOutcome> {
  return new Promise<TurnOutcome>((resolve, reject) => {
    let removers: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const unwatch = (): void => {
      for (const remove of removers) remove();
      removers = [];
    };
    const finish = (): void => {
      done = true;
      unwatch();
      if (timer !== undefined) clearTimeout(timer);
      for (const s of o.stop) s.removeEventListener('abort', onStop);
    };
    const settle = (outcome: TurnOutcome): void => { finish(); resolve(outcome); };
    const fail = (error: MemberError): void => { finish(); reject(error); };
    const check = (): void => {
      // One event may reach both watchers; only the first check after it counts.
      if (done) return;
      // The client went first: its withdrawal may be what removed the key.
      if (o.stop[0]?.aborted === true) return fail(clientGone(name));
      unwatch();
      const queue = readCandidates(member.store, name);
      const mine = queue.findIndex((c) => c.token === token);
      if (mine < 0) return fail(lapsed(name, token));
      if (mine === 0) return settle({ elected: true });
      if (!o.wait) return settle({ elected: false, current: leaderView(queue[0]) });
      // Wake on any change to the predecessor (its deletion or expiry) or to our own key.
      for (const key of [queue[mine - 1]!.key, queue[mine]!.key]) {
        removers.push(member.watchHub.add({ key, recursive: false, deliver: check, reset: check }));
      }
    };
    const onStop = (): void => check();
    for (const s of o.stop) s.addEventListener('abort', onStop, { once: true });
    if (o.timeoutMs !== undefined) {
      timer = setTimeout(() => settle({ elected: false, current: leaderView(readCandidates(member.store, name)[0]) }), o.timeoutMs);
    }
    check();
  });
}
