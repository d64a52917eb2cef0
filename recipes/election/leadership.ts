// What a leader does with its token: heartbeat (renew its key's TTL), proclaim (change its
// value), resign (delete its key); and election.leader for anyone. Each first reads the
// election after a ReadIndex barrier: since no key can appear below a live one, a token whose
// key is the lowest then stays the leader for as long as that key lives, so the write that
// follows needs only to find the same key still there (prevExist / prevIndex), which the log
// decides.
import { MemberError } from '../../server/errors.js';
import { kvDelete, kvSet } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import { candidateKey, candidateOf, encodeCandidate, leaderView, readCandidates } from './keys.js';
import type { Candidate, LeaderView } from './keys.js';
import { notLeader } from './schemas.js';

/** A proclaim that keeps meeting concurrent heartbeats gives up after this many tries. */
const PROCLAIM_ATTEMPTS = 5;

/** The leader after a linearizable barrier, if `token` is it; otherwise 510. */
async function leaderWithToken(member: MemberApi, name: string, token: number): Promise<Candidate> {
  await member.readBarrier();
  const leader = readCandidates(member.store, name)[0];
  if (leader?.token !== token) throw notLeader(name, token, leaderView(leader));
  return leader;
}

/** A write that found the leader's key gone (100) or changed (101) as what it means here. */
function isCode(error: unknown, ...codes: number[]): boolean {
  return error instanceof MemberError && codes.includes(error.code);
}

export async function heartbeat(member: MemberApi, p: { name: string; token: number }): Promise<{ ttl: number }> {
  const leader = await leaderWithToken(member, p.name, p.token);
  try {
    // A refresh renews the TTL with no watch event; the key's name is its token, so it can
    // only find this very candidacy.
    await kvSet(member, { key: leader.key, ttl: leader.ttl, refresh: true, prevExist: true });
  } catch (error) {
    if (isCode(error, 100)) throw notLeader(p.name, p.token, leaderView(readCandidates(member.store, p.name)[0]));
    throw error;
  }
  return { ttl: leader.ttl };
}

export async function proclaim(member: MemberApi, p: { name: string; token: number; value: string }): Promise<{ leader: LeaderView | null }> {
  for (let attempt = 1; ; attempt++) {
    const leader = await leaderWithToken(member, p.name, p.token);
    try {
      // The full TTL again: a proclaim proves the leader alive as a heartbeat does.
      const r = await kvSet(member, {
        key: leader.key, value: encodeCandidate(leader.candidate, p.value, leader.ttl), ttl: leader.ttl, prevIndex: leader.modifiedIndex,
      });
      return { leader: leaderView(candidateOf(r.node)) };
    } catch (error) {
      // 101: a heartbeat refreshed the key in between (a new modifiedIndex); read again.
      if (isCode(error, 101) && attempt < PROCLAIM_ATTEMPTS) continue;
      if (isCode(error, 100, 101)) throw notLeader(p.name, p.token, leaderView(readCandidates(member.store, p.name)[0]));
      throw error;
    }
  }
}

/**
 * Deletes the candidacy `token` (leading or still queued). Idempotent: a candidacy that
 * already lapsed is resigned all the same, and nothing else can have that key's name.
 */
export async function resign(member: MemberApi, p: { name: string; token: number }): Promise<{ resigned: true }> {
  try {
    await kvDelete(member, { key: candidateKey(p.name, p.token) });
  } catch (error) {
    if (!isCode(error, 100)) throw error;
  }
  return { resigned: true };
}

export async function leader(member: MemberApi, p: { name: string }): Promise<{ leader: LeaderView | null }> {
  await member.readBarrier();
  return { leader: leaderView(readCandidates(member.store, p.name)[0]) };
}
