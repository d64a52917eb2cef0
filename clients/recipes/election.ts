// Client-side helpers of the leader election (API.md "Leader election"), built on
// CairnClient.call/subscribe: campaign() blocks until elected and returns a Leadership that
// heartbeats by itself every ttl/3 and whose `signal` aborts as soon as the last acknowledged
// heartbeat is too old to be sure of the lead: when now − sendTime(last acknowledged
// heartbeat) ≥ ttl − margin on this process's monotonic clock. The member renews the key's
// TTL only after it received the heartbeat, i.e. after its send time, and the store never
// expires a key early (even across a Raft leader change), so the signal fires before the
// cluster can elect anyone else. electionLeader() reads the leader; observeElection() yields
// every change, resubscribing after a lost connection.
import type { CampaignParams } from '../../recipes/election/campaign.js';
import type { CairnClient } from '../client.js';
import { CairnError, badReplyError, isCairnError } from '../errors.js';
import type { CallOptions } from '../types.js';
import { abortReason } from '../retry.js';
import { expectObject } from '../validate.js';

type Caller = Pick<CairnClient, 'call'>;

/** The election's leader, as election.leader answers (observe omits `expiration`). */
export interface ElectionLeader {
  candidate: string;
  value: string;
  /** The fencing token: the createdIndex of the leader's key, strictly increasing per election. */
  token: number;
  expiration?: string;
}

/** Time as the leadership handle reads it; inject a fake one in tests. */
export interface ElectionClock {
  /** Milliseconds on a monotonic clock (never the wall clock: it may jump). */
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const MONOTONIC_CLOCK: ElectionClock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * election.campaign's params (name, candidate, value?, ttl? in seconds, default 10; wait?:
 * false answers at once, null if someone else leads, leaving no candidacy behind; timeoutMs?:
 * how long the member waits to elect us before answering not elected) and the handle's own.
 */
export interface CampaignOptions extends CampaignParams {
  /**
   * Aborting it gives up the campaign. The member keeps the candidacy while this client's
   * connection lives (JSON-RPC has no cancel), and it is resigned as soon as it is granted.
   */
  signal?: AbortSignal;
  /** Safety margin before the TTL (default a tenth of it, at least 250 ms). */
  marginMs?: number;
  clock?: ElectionClock;
}

const DEFAULT_TTL = 10;
/** How long a blocking call may take past the member's own timeoutMs before the client gives up. */
const REPLY_MARGIN_MS = 10_000;

/**
 * Campaigns for `name` and resolves once elected, with a Leadership whose first heartbeat has
 * been answered (or whose signal already fired); resolves null when not elected (wait:false
 * or timeoutMs). A lost connection fails the campaign with 302: the member withdraws a
 * candidacy whose client went, but a leadership granted just before lapses only by its TTL.
 */
export async function campaign(client: Caller, o: CampaignOptions): Promise<Leadership | null> {
  const ttl = o.ttl ?? DEFAULT_TTL;
  const clock = o.clock ?? MONOTONIC_CLOCK;
  const params = {
    name: o.name, candidate: o.candidate, ttl,
    ...(o.value === undefined ? {} : { value: o.value }),
    ...(o.wait === undefined ? {} : { wait: o.wait }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  };
  // Sent before the key exists: the key's TTL always runs from a later instant than this.
  const sentAt = clock.now();
  const timeoutMs = o.timeoutMs === undefined ? Infinity : o.timeoutMs + REPLY_MARGIN_MS;
  const call = client.call('election.campaign', params, { timeoutMs });
  const reply = expectObject<{ leader?: unknown; token?: unknown }>('election.campaign', await abandonable(call, o.signal, (late) => {
    // JSON-RPC cannot cancel a request, so the member still waits for us: give up what it grants.
    const r = late as { leader?: unknown; token?: unknown } | null;
    if (r?.leader === true) void client.call('election.resign', { name: o.name, token: r.token }, { idempotent: true }).catch(() => {});
  }));
  if (reply.leader !== true) return null;
  if (!Number.isSafeInteger(reply.token)) throw badReplyError('election.campaign', 'no whole-number "token"');
  const leadership = new Leadership(client, {
    name: o.name, candidate: o.candidate, token: reply.token as number, ttl, sentAt, clock,
    marginMs: o.marginMs ?? Math.max(250, (ttl * 1000) / 10),
  });
  await leadership.ready;
  return leadership;
}

/** `call`, unless `signal` aborts first: then it rejects, and `late` gets the reply when it comes. */
function abandonable<T>(call: Promise<T>, signal: AbortSignal | undefined, late: (reply: T) => void): Promise<T> {
  if (signal === undefined) return call;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortReason(signal, 'election.campaign'));
      call.then(late, () => {});
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface LeadershipInit {
  name: string;
  candidate: string;
  token: number;
  ttl: number;
  /** When the request that made (or last renewed) the key was sent, on `clock`. */
  sentAt: number;
  marginMs: number;
  clock: ElectionClock;
}

/** A held leadership: heartbeats until resigned or lost; `signal` aborts when it is lost. */
export class Leadership {
  readonly name: string;
  readonly candidate: string;
  readonly token: number;
  readonly ttl: number;
  /** Resolves once the first heartbeat was answered or the leadership was lost. */
  readonly ready: Promise<void>;
  private readonly lost = new AbortController();
  private readonly clock: ElectionClock;
  private readonly marginMs: number;
  private lastAckSentAt: number;
  private deadlineTimer: unknown;
  private beatTimer: unknown;

  constructor(private readonly caller: Caller, init: LeadershipInit) {
    ({ name: this.name, candidate: this.candidate, token: this.token, ttl: this.ttl, clock: this.clock, marginMs: this.marginMs } = init);
    this.lastAckSentAt = init.sentAt;
    // The deadline is armed after the first heartbeat: a campaign that waited long has a
    // send time too old to count on, but the key was kept alive meanwhile by its member.
    this.ready = this.beat(true);
  }

  /** Aborts when leadership is lost or given up; its reason is a CairnError saying why. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** The instant (on the clock) at which the leadership counts as lost without a newer heartbeat. */
  get deadline(): number {
    return this.lastAckSentAt + this.ttl * 1000 - this.marginMs;
  }

  /** Sets the leader's value; throws (and the signal fires) with 510 if no longer leading. */
  async proclaim(value: string, options: CallOptions = {}): Promise<ElectionLeader | null> {
    this.signal.throwIfAborted();
    const sentAt = this.clock.now();
    try {
      const r = expectObject<{ leader: ElectionLeader | null }>('election.proclaim',
        await this.caller.call('election.proclaim', { name: this.name, token: this.token, value }, options));
      // The member renewed the TTL with it, as a heartbeat does.
      this.acknowledged(sentAt);
      return r.leader;
    } catch (error) {
      if (isCairnError(error) && error.code === 510) this.lose(error, false);
      throw error;
    }
  }

  /** Stops heartbeating and deletes the candidacy, so the next candidate takes over at once. */
  async resign(options: CallOptions = {}): Promise<void> {
    this.lose(new CairnError(510, `election ${this.name}: resigned (token ${this.token})`, undefined, false), false);
    await this.caller.call('election.resign', { name: this.name, token: this.token }, { ...options, idempotent: true });
  }

  private async beat(first = false): Promise<void> {
    if (this.signal.aborted) return;
    const sentAt = this.clock.now();
    let nextMs = (this.ttl * 1000) / 3;
    try {
      await this.caller.call('election.heartbeat', { name: this.name, token: this.token }, {
        // Renewing twice is harmless, so a lost reply may be retried; past the deadline it is moot.
        idempotent: true, signal: this.signal, ...(first ? {} : { timeoutMs: Math.max(1, this.deadline - sentAt) }),
      });
      this.acknowledged(sentAt);
    } catch (error) {
      if (this.signal.aborted) return;
      if (isCairnError(error) && error.code === 510) return this.lose(error, false);
      // No answer (no quorum, a lost member): try again sooner, until the deadline decides.
      nextMs = Math.max(100, nextMs / 4);
    }
    if (first) this.armDeadline();
    if (!this.signal.aborted) this.beatTimer = this.clock.setTimer(() => void this.beat(), nextMs);
  }

  private acknowledged(sentAt: number): void {
    if (sentAt < this.lastAckSentAt || this.signal.aborted) return;
    this.lastAckSentAt = sentAt;
    this.armDeadline();
  }

  private armDeadline(): void {
    this.clock.clearTimer(this.deadlineTimer);
    const leftMs = this.deadline - this.clock.now();
    if (leftMs <= 0) return this.expired();
    this.deadlineTimer = this.clock.setTimer(() => this.armDeadline(), leftMs);
  }

  private expired(): void {
    const ageMs = Math.round(this.clock.now() - this.lastAckSentAt);
    const why = `election ${this.name}: no heartbeat acknowledged for ${ageMs} ms (ttl ${this.ttl} s minus a ${this.marginMs} ms margin); another candidate may be elected soon, stop acting as leader`;
    this.lose(new CairnError(510, why, undefined, false), true);
  }

  /** Stops everything and fires the signal; after a deadline, also gives the key up early. */
  private lose(reason: CairnError, resign: boolean): void {
    if (this.signal.aborted) return;
    this.clock.clearTimer(this.deadlineTimer);
    this.clock.clearTimer(this.beatTimer);
    this.lost.abort(reason);
    if (resign) {
      // Best effort: the next candidate need not wait out the TTL if the cluster hears us.
      this.caller.call('election.resign', { name: this.name, token: this.token }, { idempotent: true }).catch(() => {});
    }
  }
}

/** The current leader of `name` (linearizable), or null when nobody leads. */
export async function electionLeader(client: Caller, name: string, options: CallOptions = {}): Promise<ElectionLeader | null> {
  const r = expectObject<{ leader?: ElectionLeader | null }>('election.leader', await client.call('election.leader', { name }, { ...options, idempotent: true }));
  return r.leader ?? null;
}

/** Stream ends after which observing again loses nothing but what the first notification sums up. */
const RESUBSCRIBE_CODES: ReadonlySet<number> = new Set([401, 602, 604]);

/**
 * Every leader of `name` in order: the current one first (null when nobody leads), then each
 * change of leader or value. After a lost connection it observes again through another member;
 * the changes made meanwhile are summed up by the leader then (repeats are skipped).
 */
export async function* observeElection(
  client: Pick<CairnClient, 'subscribe'>, name: string, options: { signal?: AbortSignal } = {},
): AsyncGenerator<ElectionLeader | null> {
  let last: string | undefined;
  for (;;) {
    const sub = await client.subscribe<{ leader?: ElectionLeader | null }>('election.observe', { name }, options);
    try {
      for await (const notice of sub) {
        const leader = notice.leader ?? null;
        const seen = JSON.stringify(leader);
        if (seen === last) continue;
        last = seen;
        yield leader;
      }
      return;
    } catch (error) {
      if (!isCairnError(error) || !RESUBSCRIBE_CODES.has(error.code) || options.signal?.aborted === true) throw error;
    } finally {
      sub.close();
    }
  }
}
