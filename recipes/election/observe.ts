// election.observe: a stream of the election's leader. The first notification is the leader
// now (`{leader: null}` when nobody leads), then one on every change of leader or of its value,
// including `{leader: null}` whenever the last candidacy goes. It recomputes the leader from
// this member's store on every event under the election's directory; the watch hub delivers
// each applied entry in order, so no change is skipped, and queue changes that leave the
// leader as it was send nothing.
import type { MemberApi } from '../../server/member-api.js';
import type { RecipeContext } from '../method.js';
import { electionDir, leaderView, readCandidates } from './keys.js';
import type { LeaderView } from './keys.js';

/** What an observer is told: the leader without `expiration`, which heartbeats move silently. */
function current(member: MemberApi, name: string): LeaderView | null {
  return leaderView(readCandidates(member.store, name)[0], false);
}

const same = (a: LeaderView | null, b: LeaderView | null): boolean =>
  a === b || (a !== null && b !== null && a.token === b.token && a.value === b.value && a.candidate === b.candidate);

export async function observe(ctx: RecipeContext, p: { name: string }): Promise<{ subscription: string }> {
  const { member } = ctx;
  // Start from a linearizable view, so the first notification is not older than the request.
  await member.readBarrier();
  const sub = ctx.subscriptions.open();
  let last = current(member, p.name);
  sub.push({ leader: last });
  const onChange = (): void => {
    const now = current(member, p.name);
    if (same(now, last)) return;
    last = now;
    if (sub.push({ leader: now }) === 'slow') {
      sub.end({ code: 401, message: `election.observe of ${p.name}: the client reads too slowly and fell behind; observe again (the first notification is the leader then)`, data: { cause: 'slow consumer', index: member.store.index } });
    }
  };
  // In the same synchronous step as the read above: nothing applied in between is missed.
  const remove = member.watchHub.add({ key: electionDir(p.name), recursive: true, deliver: onChange, reset: onChange });
  sub.onClose = remove;
  return { subscription: sub.id };
}
