// Black-box tests of the TypeScript client (clients/index.ts) against a real 3-member cluster:
// sequential writes ride through the kill -9 of the member the client talks to (a follower,
// then the leader) with every acknowledged write readable and only 302 (outcome unknown) as a
// failure; a recursive watch survives the kill of its member and yields each event once, in
// order; an aborted kv.wait; a write refused for want of a quorum that the same client later
// completes; and the typed results of create, txn and a serializable get with minIndex.
import t from 'tap';
import type { Test } from 'tap';
import { connect, isCairnError } from '../../clients/index.js';
import type { CairnClient, ConnectOptions, KvEvent, KvResult } from '../../clients/index.js';
import { CLUSTER_START_MS, httpGet, metricSample, startCluster, waitFor } from './kv-helpers.js';
import type { MemberProcess } from './kv-helpers.js';

const kv = await startCluster(t);

/**
 * A client with every member's URL as an endpoint, `first` tried first (the shuffle's two
 * random draws keep the given order; jitter stays random), closed at teardown.
 */
async function client(t: Test, first?: MemberProcess, options: Partial<ConnectOptions> = {}): Promise<CairnClient> {
  const ordered = first === undefined ? kv.members : [first, ...kv.members.filter((m) => m !== first)];
  let draws = 0;
  const random = first === undefined ? Math.random : (): number => (draws++ < 2 ? 0.999 : Math.random());
  const c = await connect({ endpoints: ordered.map((m) => m.clientUrl), random, ...options });
  t.teardown(() => c.close());
  return c;
}

/**
 * The member a client's connection goes to: cluster.status's memberId, via cluster.members.
 * A member publishes its client URLs through the log once it knows a leader, so right after
 * a start or restart they may not be there yet: ask again, for up to 5 s.
 */
async function connectedMember(c: CairnClient): Promise<MemberProcess> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const [{ memberId }, { members }] = await Promise.all([c.status(), c.members()]);
    const url = members.find((m) => m.id === memberId)?.clientUrls[0];
    const member = kv.members.find((m) => url !== undefined && new URL(m.clientUrl).href === new URL(url).href);
    if (member !== undefined) return member;
    if (Date.now() > deadline) throw new Error(`member ${memberId} (${String(url)}) is not one of the test cluster's`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `members` again at the end of the test if it left them down (when it failed midway). */
function restartAtTeardown(t: Test, ...members: MemberProcess[]): void {
  t.teardown(() => {
    for (const m of members) if (m.child === undefined) kv.cluster.start(m);
  });
}

/** Starts a killed member again and waits until it reports healthy and agrees on the leader. */
async function restart(member: MemberProcess): Promise<void> {
  kv.cluster.start(member);
  await waitFor(`${member.name} healthy again`, CLUSTER_START_MS, async () => ((await httpGet(member, '/health')).status === 200 ? true : undefined), 100);
  await kv.electLeader();
}

const codeOf = (error: unknown): string => (isCairnError(error) ? String(error.code) : `not a CairnError: ${String(error)}`);

interface WriteRun {
  acked: Map<string, KvResult>;
  /** Keys whose write failed with 302: they may or may not exist. */
  unknown: string[];
  /** Failures with any other code (there should be none). */
  other: string[];
  /** Writes that succeeded after the victim's process had exited. */
  afterKill: number;
}

/** `count` sequential sets of distinct keys under `dir`; the victim gets SIGKILL as write `killAt` is sent. */
async function writeThroughKill(c: CairnClient, dir: string, count: number, killAt: number, victim: MemberProcess): Promise<WriteRun> {
  const run: WriteRun = { acked: new Map(), unknown: [], other: [], afterKill: 0 };
  let killed = false;
  let killing: Promise<void> | undefined;
  for (let i = 0; i < count; i++) {
    if (i === killAt) killing = kv.cluster.kill(victim).then(() => { killed = true; });
    const key = `${dir}/k${i}`;
    const startedAfterKill = killed;
    try {
      run.acked.set(key, await c.set(key, `v${i}`));
      if (startedAfterKill) run.afterKill++;
    } catch (error) {
      if (isCairnError(error) && error.code === 302) run.unknown.push(key);
      else run.other.push(`${key}: ${codeOf(error)} ${(error as Error).message}`);
    }
  }
  await killing;
  return run;
}

/** A linearizable recursive read of `dir`: key → value. */
async function contents(c: CairnClient, dir: string): Promise<Map<string, string | undefined>> {
  const listing = await c.get(dir, { recursive: true });
  return new Map((listing.node.nodes ?? []).map((n) => [n.key, n.value]));
}

// The writes' retries are bounded by the call's deadline (10 s), not by the default of 5
// retries, so a write that meets the election after a leader's death waits for the new leader.
const rideThrough: Partial<ConnectOptions> = { maxRetries: 100, retryMaxMs: 250 };

t.test('sequential writes go on when the member the client talks to is killed', async (t) => {
  const cases: [string, string, () => MemberProcess][] = [
    ['a follower', '/failover/follower', () => kv.followers()[0]!],
    ['the leader', '/failover/leader', () => kv.leader],
  ];
  for (const [what, dir, pick] of cases) {
    await t.test(`${what}, killed with SIGKILL midway`, async (t) => {
      await kv.electLeader();
      const victim = pick();
      restartAtTeardown(t, victim);
      const c = await client(t, victim, rideThrough);
      t.equal((await connectedMember(c)).name, victim.name, `the client talks to ${victim.name} (${what})`);
      const run = await writeThroughKill(c, dir, 200, 60, victim);
      t.comment(`${what}: ${run.acked.size} acknowledged, ${run.unknown.length} unknown (${run.unknown.join(' ')}), ${run.afterKill} after the kill`);
      t.same(run.other, [], 'no write failed with a code other than 302');
      t.equal(run.acked.size + run.unknown.length, 200, 'every write resolved or failed with 302');
      t.ok(run.unknown.length <= 5, `only the writes in flight at the kill or the leader change have an unknown outcome (${run.unknown.length})`);
      t.ok(run.afterKill >= 130, `the client failed over: ${run.afterKill} writes succeeded after the member was gone`);
      t.not((await connectedMember(c)).name, victim.name, 'it now talks to another member');

      const stored = await contents(c, dir);
      const missing = [...run.acked].filter(([key, r]) => stored.get(key) !== r.node.value).map(([key]) => key);
      t.same(missing, [], 'every acknowledged write reads back linearizably with its value');
      const extra = [...stored.keys()].filter((key) => !run.acked.has(key) && !run.unknown.includes(key));
      t.same(extra, [], 'nothing else was written');
      t.comment(`unknown writes that took effect: ${run.unknown.filter((k) => stored.has(k)).length} of ${run.unknown.length}`);

      await restart(victim);
      const back = await connect({ endpoints: [victim.clientUrl] });
      t.teardown(() => back.close());
      const lastAcked = Math.max(...[...run.acked.values()].map((r) => r.index));
      const caughtUp = await back.get(dir, { recursive: true, consistency: 'serializable', minIndex: lastAcked });
      t.equal(caughtUp.node.nodes?.length, stored.size, `${victim.name} restarted and caught up with every write`);
    });
  }
});

t.test('a recursive watch survives the kill of its member: every event once, in index order', async (t) => {
  // Killing a follower leaves the writer (on the leader) writing while the watch reconnects,
  // so a resume from the wrong index would lose or repeat events; killing the leader adds an
  // election under both.
  const cases: [string, string, () => [MemberProcess, MemberProcess]][] = [
    ['a follower', '/w/follower', () => [kv.followers()[0]!, kv.leader]],
    ['the leader', '/w/leader', () => [kv.leader, kv.followers()[0]!]],
  ];
  for (const [what, dir, pick] of cases) {
    await t.test(`the watch's member is ${what}`, async (t) => {
      await kv.electLeader();
      const [victim, writerMember] = pick();
      restartAtTeardown(t, victim);
      const watcher = await client(t, victim, rideThrough);
      const writer = await client(t, writerMember, rideThrough);
      t.same([(await connectedMember(watcher)).name, (await connectedMember(writer)).name], [victim.name, writerMember.name],
        `the watch talks to ${victim.name} (${what}), the writer to ${writerMember.name}`);

      const events: KvEvent[] = [];
      const watch = watcher.watch(dir, { recursive: true });
      t.teardown(() => watch.close());
      const consuming = (async (): Promise<void> => {
        for await (const event of watch) events.push(event);
      })();
      const startIndex = await waitFor('the watch to start', 10_000, async () => watch.nextIndex, 10);

      const run = await writeThroughKill(writer, dir, 300, 100, victim);
      t.comment(`writer: ${run.acked.size} acknowledged, ${run.unknown.length} unknown`);
      t.same(run.other, [], 'the writer saw no failure but 302');
      t.ok(run.afterKill >= 180, `writes went on after the kill (${run.afterKill})`);

      // What the store holds is what the watch must have delivered: acknowledged writes and
      // those unknown ones that took effect, each once (each key is written once).
      const listing = await writer.get(dir, { recursive: true });
      const stored = (listing.node.nodes ?? []).map((n) => [n.modifiedIndex, n.key, n.value] as const).sort((a, b) => a[0] - b[0]);
      const lastIndex = stored.at(-1)![0];
      await waitFor(`the watch to reach index ${lastIndex} (at ${events.at(-1)?.index})`, 20_000,
        async () => ((events.at(-1)?.index ?? 0) >= lastIndex ? true : undefined), 20);
      watch.close();
      await consuming;

      t.equal(events.filter((e) => e.action === 'get').length, 0, 'no re-read (action get): the history covered the outage');
      t.same(events.map((e) => [e.index, e.node.key, e.node.value]), stored, 'exactly the stored writes, each once, in index order');
      t.same(events.map((e) => e.action), stored.map(() => 'set'), 'each as a set event');
      const ackedMissing = [...run.acked.values()].filter((r) => !events.some((e) => e.index === r.index && e.node.key === r.node.key));
      t.same(ackedMissing, [], 'no acknowledged write is missing from the stream');
      t.ok(startIndex <= (events[0]?.index ?? 0), `the watch started (from ${startIndex}) before the first write (${events[0]?.index})`);
      await restart(victim);
    });
  }
});

t.test('an aborted wait rejects with AbortError, and the member forgets it', async (t) => {
  await kv.electLeader();
  const member = kv.followers()[0]!;
  const c = await client(t, member);
  t.equal((await connectedMember(c)).name, member.name, `the client talks to ${member.name}`);
  const watchers = async (): Promise<number | undefined> => metricSample((await httpGet(member, '/metrics')).body, 'cairn_watchers');
  // Members keep a few watchers of their own; the baseline is the gauge once two readings
  // 250 ms apart agree (earlier tests' sockets are closed by then).
  let last: number | undefined;
  const before = await waitFor('cairn_watchers to settle', 10_000, async () => {
    const [previous, now] = [last, last = await watchers()];
    return now !== undefined && now === previous ? now : undefined;
  }, 250);

  const controller = new AbortController();
  const pending = c.wait('/abort/nobody-writes-here', { signal: controller.signal });
  pending.catch(() => undefined);
  await waitFor('the wait to be registered at the member', 5_000, async () => ((await watchers()) === before + 1 ? true : undefined), 20);
  controller.abort();
  const error = await pending.then(() => undefined, (e: unknown) => e);
  t.same([(error as Error | undefined)?.name, codeOf(error)], ['AbortError', '600'], 'AbortError, code 600');
  t.equal((await c.set('/abort/other', 'after')).node.value, 'after', 'the client stays usable');
  const now = await waitFor(`cairn_watchers back to ${before}`, 3_000, async () => ((await watchers()) === before ? before : undefined), 50)
    .catch(async () => watchers());
  t.equal(now, before, 'cairn_watchers is back to its value before the wait: the aborted wait was withdrawn');
});

t.test('writes refused for want of a quorum: 301 or 302 with a short deadline; a 301 is retried by the same client', async (t) => {
  await kv.electLeader();
  const survivor = kv.followers()[0]!;
  const down = kv.members.filter((m) => m !== survivor);
  restartAtTeardown(t, ...down);
  const c = await client(t, survivor);
  t.equal((await connectedMember(c)).name, survivor.name, `the client talks to ${survivor.name}`);
  await Promise.all(down.map((m) => kv.cluster.kill(m)));
  await waitFor(`${survivor.name} to report no leader`, 15_000, async () => ((await httpGet(survivor, '/health')).status === 503 ? true : undefined), 100);
  const refusals = async (): Promise<number> =>
    metricSample((await httpGet(survivor, '/metrics')).body, 'cairn_rpc_requests_total', { method: 'kv.set', code: '301' }) ?? 0;
  const refusedBefore = await refusals();

  const started = Date.now();
  const short = c.set('/quorum/short', 'v', { timeoutMs: 1500 }).then(() => undefined, (e: unknown) => e);
  const long = c.set('/quorum/long', 'v', { timeoutMs: 20_000 });
  long.catch(() => undefined);
  const error = await short;
  const took = Date.now() - started;
  t.comment(`the short write failed after ${took} ms: ${codeOf(error)} ${(error as Error | undefined)?.message}`);
  t.ok(isCairnError(error) && (error.code === 301 || error.code === 302), `301 or 302 (${codeOf(error)})`);
  t.equal(isCairnError(error) && error.retryable, true, 'retryable');
  t.ok(took < 3000, `given up on by its 1.5 s deadline (${took} ms)`);

  // The member holds a write while it waits for a leader, then refuses it with 301: once both
  // first attempts are refused, bring the quorum back while the long one is being retried.
  await waitFor('both writes refused with 301 by the member', 15_000, async () => ((await refusals()) >= refusedBefore + 2 ? true : undefined), 100);
  for (const m of down) kv.cluster.start(m);
  const result = await long;
  t.same([result.action, result.node.key, result.node.value], ['set', '/quorum/long', 'v'], 'the long write, refused with 301 once, succeeded on a retry');
  t.comment(`kv.set refused with 301 by ${survivor.name}: ${(await refusals()) - refusedBefore} times`);
  await Promise.all(down.map(async (m) => waitFor(`${m.name} healthy`, CLUSTER_START_MS, async () => ((await httpGet(m, '/health')).status === 200 ? true : undefined), 100)));
  const after = await c.set('/quorum/after', 'v2');
  t.same([after.action, after.node.value], ['set', 'v2'], 'the same client writes once the quorum is back');
  t.equal((await c.get('/quorum/after')).node.value, 'v2', 'and reads it linearizably');
  const shortWrite = await c.get('/quorum/short').then(() => 'exists', (e: unknown) => codeOf(e));
  t.equal(shortWrite, '100', 'the short write, refused with 301 at the member, never took effect');
  await kv.electLeader();
});

t.test('typed results: create, txn branches, a serializable get with minIndex on a follower', async (t) => {
  await kv.electLeader();
  const c = await client(t);
  const first = await c.create('/queue', 'job1');
  const second = await c.create('/queue', 'job2');
  const inOrder = (r: KvResult): string => `/queue/${String(r.index).padStart(20, '0')}`;
  t.same([first.action, first.node.key, first.node.value, first.node.createdIndex], ['create', inOrder(first), 'job1', first.index],
    'create: an in-order key, the directory plus its index in 20 digits');
  t.same([second.node.key, second.node.key > first.node.key], [inOrder(second), true], 'the next one sorts after it');
  const queue = await c.get('/queue', { sorted: true });
  t.same(queue.node.nodes?.map((n) => [n.key, n.value]), [[first.node.key, 'job1'], [second.node.key, 'job2']], 'listed in order');

  const base = await c.set('/txn/a', 'x');
  const hit = await c.txn({
    compare: [{ key: '/txn/a', value: 'x' }, { key: '/txn/b', exists: false }],
    success: [{ set: { key: '/txn/b', value: 'from-success' } }, { get: { key: '/txn/a' } }],
    failure: [{ set: { key: '/txn/b', value: 'from-failure' } }],
  });
  t.same([hit.succeeded, hit.results.map((r) => [r.action, r.node.key, r.node.value])],
    [true, [['set', '/txn/b', 'from-success'], ['get', '/txn/a', 'x']]], 'compares hold: the success branch, results in op order');
  t.equal(hit.index, hit.results[0]!.node.modifiedIndex, 'index: the store index after the txn');
  const miss = await c.txn({
    compare: [{ key: '/txn/a', index: base.index + 1000 }],
    success: [{ delete: { key: '/txn/a' } }],
    failure: [{ get: { key: '/txn/b' } }],
  });
  t.same([miss.succeeded, miss.results.map((r) => [r.action, r.node.key, r.node.value])],
    [false, [['get', '/txn/b', 'from-success']]], 'a failed compare: the failure branch only');
  t.equal((await c.get('/txn/a')).node.value, 'x', 'the success branch did not run');

  const follower = kv.followers()[1]!;
  const only = await connect({ endpoints: [follower.clientUrl] });
  t.teardown(() => only.close());
  const status = await only.status();
  t.not(status.memberId, status.leaderId, 'the follower-only client talks to a follower');
  for (let i = 0; i < 20; i++) {
    const written = await only.set('/ryw/k', `v${i}`);
    const read = await only.get('/ryw/k', { consistency: 'serializable', minIndex: written.index });
    if (read.node.value !== `v${i}` || read.node.modifiedIndex !== written.index || read.index < written.index) {
      t.fail(`write ${i} at ${written.index} read back as ${JSON.stringify(read)}`);
      return;
    }
  }
  t.pass('20 writes through a follower, each read back at once from it with minIndex');
  const ahead = (await only.status()).index + 1;
  const later = only.get('/ryw/later', { consistency: 'serializable', minIndex: ahead });
  // Awaited below; a handler now so a refusal that comes before the write is reported by the
  // assertion rather than as an unhandled rejection.
  later.catch(() => undefined);
  const write = await c.set('/ryw/later', 'made after the read was sent');
  const read = await later;
  t.same([write.index, read.node.value], [ahead, 'made after the read was sent'], 'a read with a future minIndex answers with that write');
});
