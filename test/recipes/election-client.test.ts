// The client's leadership handle with an injected clock and a scripted member: heartbeats
// every ttl/3, the signal firing exactly at sendTime(last acknowledged heartbeat) + ttl − margin
// (never counting from when a late reply arrived), 510 losing at once, resign, and a campaign
// that waited longer than its TTL still starting from its first heartbeat.
import t from 'tap';
import type { Test } from 'tap';
import { CairnError } from '../../clients/errors.js';
import { campaign } from '../../clients/recipes/election.js';
import type { ElectionClock, Leadership } from '../../clients/recipes/election.js';

class FakeClock implements ElectionClock {
  nowMs = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now(): number { return this.nowMs; }
  setTimer(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, callback });
    return id;
  }
  clearTimer(handle: unknown): void { this.timers.delete(handle as number); }
  /** Moves time forward, running each due timer at its own instant. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].at);
      due[1].callback();
      await flush();
    }
    this.nowMs = end;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

interface Call { method: string; params: Record<string, unknown>; sentAt: number; resolve(v: unknown): void; reject(e: unknown): void }

/** A member whose answers the test gives: every call waits until resolved or rejected. */
class ScriptedMember {
  readonly calls: Call[] = [];
  constructor(private readonly clock: FakeClock) {}
  call<T>(method: string, params: object = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.calls.push({ method, params: params as Record<string, unknown>, sentAt: this.clock.nowMs, resolve: resolve as (v: unknown) => void, reject });
    });
  }
  of(method: string): Call[] { return this.calls.filter((c) => c.method === method); }
  last(method: string): Call {
    const c = this.of(method).at(-1);
    if (c === undefined) throw new Error(`no ${method} call`);
    return c;
  }
}

/** Campaigns with ttl 3 s (margin 250 ms): elected, first heartbeat answered at once. */
async function elected(t: Test, clock = new FakeClock()): Promise<{ clock: FakeClock; member: ScriptedMember; lead: Leadership }> {
  const member = new ScriptedMember(clock);
  const pending = campaign(member, { name: 'e', candidate: 'a', ttl: 3, marginMs: 250, clock });
  await flush();
  member.last('election.campaign').resolve({ leader: true, token: 42, ttl: 3 });
  await flush();
  member.last('election.heartbeat').resolve({ ttl: 3 });
  const lead = await pending;
  if (lead === null) throw new Error('not elected');
  t.teardown(() => { void lead.resign().catch(() => {}); });
  return { clock, member, lead };
}

t.test('heartbeats every ttl/3 while they are answered, and stays leader', async (t) => {
  const { clock, member, lead } = await elected(t);
  for (let i = 1; i <= 6; i++) {
    await clock.advance(1000);
    member.last('election.heartbeat').resolve({ ttl: 3 });
    await flush();
  }
  t.equal(member.of('election.heartbeat').length, 7, 'the first one and one per second');
  t.same(member.last('election.heartbeat').params, { name: 'e', token: 42 });
  t.equal(lead.signal.aborted, false);
});

t.test('unanswered heartbeats: the signal fires at sendTime + ttl − margin, then it resigns', async (t) => {
  const { clock, member, lead } = await elected(t);
  await clock.advance(2749);
  t.equal(lead.signal.aborted, false, 'not at 2749 ms');
  await clock.advance(1);
  t.equal(lead.signal.aborted, true, 'at 2750 ms');
  t.ok(lead.signal.reason instanceof CairnError);
  t.match(lead.signal.reason, { code: 510, message: /no heartbeat acknowledged for 2750 ms/ });
  t.equal(member.of('election.resign').length, 1, 'gives the key up so the next need not wait');
});

t.test('a late reply counts from when its heartbeat was sent, not from when it came', async (t) => {
  const { clock, member, lead } = await elected(t);
  await clock.advance(1000); // heartbeat sent at 1000
  const slow = member.last('election.heartbeat');
  await clock.advance(1500);
  slow.resolve({ ttl: 3 }); // answered at 2500
  await flush();
  t.equal(lead.deadline, 1000 + 3000 - 250);
  await clock.advance(3749 - 2500);
  t.equal(lead.signal.aborted, false);
  await clock.advance(1);
  t.equal(lead.signal.aborted, true);
});

t.test('a 510 loses at once, without resigning', async (t) => {
  const { clock, member, lead } = await elected(t);
  await clock.advance(1000);
  member.last('election.heartbeat').reject(new CairnError(510, 'token 42 is not the leader'));
  await flush();
  t.equal(lead.signal.aborted, true);
  t.equal(member.of('election.resign').length, 0);
  const before = member.calls.length;
  await clock.advance(5000);
  t.equal(member.calls.length, before, 'no more heartbeats');
});

t.test('a failed heartbeat is retried sooner; the deadline still decides', async (t) => {
  const { clock, member, lead } = await elected(t);
  await clock.advance(1000);
  member.last('election.heartbeat').reject(new CairnError(301, 'no leader'));
  await flush();
  await clock.advance(250);
  t.equal(member.of('election.heartbeat').length, 3, 'retried after a quarter of the interval');
  member.last('election.heartbeat').resolve({ ttl: 3 });
  await flush();
  t.equal(lead.deadline, 1250 + 2750);
});

t.test('resign stops heartbeats, fires the signal and deletes the candidacy', async (t) => {
  const { clock, member, lead } = await elected(t);
  const resigned = lead.resign();
  member.last('election.resign').resolve({ resigned: true });
  await resigned;
  t.match(lead.signal.reason, { code: 510, message: /resigned/ });
  t.same(member.last('election.resign').params, { name: 'e', token: 42 });
  const before = member.calls.length;
  await clock.advance(10_000);
  t.equal(member.calls.length, before);
});

t.test('proclaim renews the deadline as a heartbeat does; 510 loses', async (t) => {
  const { clock, member, lead } = await elected(t);
  await clock.advance(500);
  const p = lead.proclaim('v');
  member.last('election.proclaim').resolve({ leader: { candidate: 'a', value: 'v', token: 42 } });
  t.same(await p, { candidate: 'a', value: 'v', token: 42 });
  t.equal(lead.deadline, 500 + 2750);
  const q = lead.proclaim('w');
  member.last('election.proclaim').reject(new CairnError(510, 'not the leader'));
  await t.rejects(q, { code: 510 });
  t.equal(lead.signal.aborted, true);
  await t.rejects(lead.proclaim('x'), { code: 510 }, 'no call once lost');
});

t.test('a campaign that waited longer than its ttl counts from its first heartbeat', async (t) => {
  const clock = new FakeClock();
  const member = new ScriptedMember(clock);
  const pending = campaign(member, { name: 'e', candidate: 'a', ttl: 3, clock });
  await flush();
  await clock.advance(60_000);
  member.last('election.campaign').resolve({ leader: true, token: 7, ttl: 3 });
  await flush();
  member.last('election.heartbeat').resolve({ ttl: 3 });
  const lead = await pending;
  t.teardown(() => { void lead?.resign().catch(() => {}); });
  t.equal(lead?.signal.aborted, false);
  t.equal(lead?.deadline, 60_000 + 3000 - 300, 'the default margin is a tenth of the ttl (at least 250 ms)');
});

t.test('not elected (wait:false, timeoutMs) resolves null', async (t) => {
  const clock = new FakeClock();
  const member = new ScriptedMember(clock);
  const pending = campaign(member, { name: 'e', candidate: 'b', wait: false, clock });
  await flush();
  t.same(member.last('election.campaign').params, { name: 'e', candidate: 'b', ttl: 10, wait: false });
  member.last('election.campaign').resolve({ leader: false, current: { candidate: 'a', value: '', token: 3 } });
  t.equal(await pending, null);
});

t.test('an aborted campaign rejects at once and resigns what the member grants later', async (t) => {
  const clock = new FakeClock();
  const member = new ScriptedMember(clock);
  const abort = new AbortController();
  const pending = campaign(member, { name: 'e', candidate: 'a', clock, signal: abort.signal });
  await flush();
  abort.abort();
  await t.rejects(pending, { code: 600 });
  member.last('election.campaign').resolve({ leader: true, token: 9, ttl: 10 });
  await flush();
  t.same(member.last('election.resign').params, { name: 'e', token: 9 });
  t.equal(member.of('election.heartbeat').length, 0);
});
