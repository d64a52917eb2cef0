// The reboot semaphore over a real 3-member cluster. Ten agents loop acquire/release on a
// semaphore of max 2 while the Raft leader is killed mid-run; the store's event history,
// watched from a member that stays up, must show never more than two holders, every grant
// going to the first live waiter (arrival order), and tokens that are the grants' store
// indexes, strictly increasing, exactly the ones the agents were given. Then the README's
// cairnctl flow: reboot waits for a slot, runs the command, and lock release frees it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../clients/cairnctl/run.js';
import type { CliIo } from '../../clients/cairnctl/run.js';
import { connect } from '../../clients/client.js';
import type { CairnClient } from '../../clients/client.js';
import { isCairnError } from '../../clients/errors.js';
import { acquireSemaphore, releaseSemaphore, setSemaphoreMax } from '../../clients/recipes/semaphore.js';
import { Notifications, startCluster, storeIndex, waitFor } from './kv-helpers.js';
import type { KvCluster, KvEvent, WatchStarted } from './kv-helpers.js';

const NAME = 'it';
const PREFIX = `/cairn/semaphore/${NAME}`;
const AGENTS = 10;

interface Grant { holder: string; token: number }

/** What the history shows; `problems` lists every broken invariant. */
interface Verdict { grants: Grant[]; maxHolders: number; problems: string[] }

/** Replays the semaphore's events: live waiters in key order, and each state change. */
function checkHistory(events: readonly KvEvent[]): Verdict {
  const waiters = new Map<string, string>(); // waiter key -> holder
  let holders: string[] = [];
  const grants: Grant[] = [];
  const problems: string[] = [];
  let maxHolders = 0;
  for (const e of events) {
    const key = e.node.key;
    const removal = e.action === 'delete' || e.action === 'compareAndDelete' || e.action === 'expire';
    if (key.startsWith(`${PREFIX}/waiters/`)) {
      if (removal) waiters.delete(key);
      else if (e.action === 'create') waiters.set(key, (JSON.parse(e.node.value ?? '{}') as { holder: string }).holder);
      continue;
    }
    if (key !== `${PREFIX}/state` || removal) continue;
    const state = JSON.parse(e.node.value ?? '{}') as { holders: string[]; max: number; semaphore: number };
    maxHolders = Math.max(maxHolders, state.holders.length);
    if (state.holders.length > 2) problems.push(`index ${e.index}: ${state.holders.length} holders (${state.holders.join(', ')})`);
    if (state.semaphore !== state.max - state.holders.length) problems.push(`index ${e.index}: semaphore ${state.semaphore} with max ${state.max}`);
    for (const added of state.holders.filter((h) => !holders.includes(h))) {
      const head = [...waiters.keys()].sort()[0];
      const headHolder = head === undefined ? undefined : waiters.get(head);
      if (headHolder !== added) problems.push(`index ${e.index}: ${added} granted while ${String(headHolder)} was first in line`);
      grants.push({ holder: added, token: e.index });
    }
    holders = state.holders;
  }
  return { grants, maxHolders, problems };
}

/** One agent: acquire, hold briefly, release, until `stop`; retries what may be retried. */
async function agent(client: CairnClient, holder: string, stop: AbortSignal, got: Grant[]): Promise<void> {
  const retry = (error: unknown): boolean => isCairnError(error) && (error.retryable || error.code === 302 || error.code >= 600);
  while (!stop.aborted) {
    try {
      const r = await acquireSemaphore(client, { name: NAME, holder, timeoutMs: 30_000 });
      if (!r.acquired) continue;
      got.push({ holder, token: r.token as number });
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
      for (let i = 0; i < 50; i++) {
        try {
          await releaseSemaphore(client, holder, { name: NAME });
          break;
        } catch (error) {
          if (isCairnError(error) && error.code === 501) break; // an earlier attempt landed
          if (!retry(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } catch (error) {
      if (!retry(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function watchAll(from: number): Promise<{ events: () => KvEvent[]; sub: string; client: Awaited<ReturnType<KvCluster['connect']>> }> {
  const watcher = kv.followers()[0];
  if (watcher === undefined) throw new Error('no follower to watch from');
  const client = await kv.connect(watcher);
  const notes = new Notifications(client);
  const started = await client.call<WatchStarted>('kv.watch', { key: PREFIX, recursive: true, waitIndex: from });
  return { events: () => notes.results<KvEvent>(started.subscription).filter((r) => 'action' in r), sub: started.subscription, client };
}

// One cluster for the file; the second test runs on the two members left after the kill.
const kv = await startCluster(t, ['--event-history', '200000']);

t.test('max 2, ten agents, leader killed mid-run: at most two holders, FIFO, increasing tokens', async (t) => {
  const endpoints = kv.members.map((m) => m.clientUrl);
  const clients: CairnClient[] = [];
  t.teardown(() => { for (const c of clients) c.close(); });
  for (let i = 0; i < AGENTS; i++) {
    // Rotated so agents start spread over all members; random 0.9999 keeps that order.
    const order = [...endpoints.slice(i % 3), ...endpoints.slice(0, i % 3)];
    clients.push(await connect({ endpoints: order, random: () => 0.9999, requestTimeoutMs: 10_000, maxRetries: 8 }));
  }
  const admin = clients[0] as CairnClient;
  await setSemaphoreMax(admin, 2, { name: NAME });
  const history = await watchAll(1);
  const stop = new AbortController();
  const got: Grant[][] = Array.from({ length: AGENTS }, () => []);
  const total = (): number => got.reduce((n, g) => n + g.length, 0);
  const running = got.map((g, i) => agent(clients[i] as CairnClient, `agent-${i}`, stop.signal, g));
  let servedAgain = false;
  try {
    await waitFor('40 grants before the kill', 30_000, async () => (total() >= 40 ? true : undefined), 20);
    const beforeKill = got.map((g) => g.length);
    t.comment(`killing leader ${kv.leader.name} after ${total()} grants`);
    await kv.cluster.kill(kv.leader);
    await kv.electLeader();
    // Not thrown at once: the history checks below say more about why one was starved.
    servedAgain = await waitFor('every agent served again after the kill', 45_000,
      async () => (got.every((g, i) => g.length >= (beforeKill[i] as number) + 2) ? true : undefined), 50).catch(() => false);
  } finally {
    stop.abort();
    await Promise.all(running);
  }
  const last = await storeIndex(history.client);
  await waitFor('the watch to reach the last index', 10_000, async () => {
    const seen = history.events();
    return seen.length > 0 && (seen.at(-1)?.index ?? 0) >= last ? true : undefined;
  }, 20);
  const verdict = checkHistory(history.events());
  t.ok(servedAgain, `every agent served twice more after the kill (grants per agent: ${got.map((g) => g.length).join(' ')})`);
  t.same(verdict.problems, [], 'never more than two holders; every grant to the first live waiter');
  t.equal(verdict.maxHolders, 2, 'two holders at once did happen');
  const tokens = verdict.grants.map((g) => g.token);
  t.ok(tokens.every((tok, i) => i === 0 || tok > (tokens[i - 1] as number)), 'grant tokens strictly increase');
  const byToken = (a: Grant, b: Grant): number => a.token - b.token;
  t.same(got.flat().sort(byToken), [...verdict.grants].sort(byToken), 'the agents got exactly the granted tokens, each once');
  for (const [i, g] of got.entries()) {
    t.ok(g.every((x, j) => j === 0 || x.token > (g[j - 1] as Grant).token), `agent-${i}: its tokens increase (${g.length} grants)`);
  }
  t.comment(`${total()} grants, ${history.events().length} events`);
});

t.test('the README flow: reboot waits for a slot and runs the command; lock release frees it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-reboot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { CAIRN_ENDPOINTS: kv.members.filter((m) => m.child !== undefined).map((m) => m.clientUrl).join(',') };
  const cli = async (argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env };
    return { code: await runCli(argv, io), out, err };
  };
  const rebootCmd = (file: string): string[] =>
    ['--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(file)}, process.env.CAIRN_SEMAPHORE_TOKEN)`];

  t.same((await cli(['lock', 'status'])).out.slice(0, 2), ['Available: 1', 'Max: 1'], 'an unused semaphore: max 1');
  const first = await cli(['reboot', '--holder', 'm1', ...rebootCmd(join(dir, 'm1'))]);
  t.equal(first.code, 0, first.err.join('\n'));
  const m1Token = Number(await readFile(join(dir, 'm1'), 'utf8'));
  t.same(first.out, [`Acquired reboot for m1, token ${m1Token}`], 'the command got the token');
  t.equal((await cli(['lock', 'acquire', '--holder', 'm2'])).code, 1, 'no free slot for m2 while m1 reboots');

  const second = cli(['reboot', '--holder', 'm2', '--wait-timeout', '60s', ...rebootCmd(join(dir, 'm2'))]);
  const status = await waitFor('m2 queued', 15_000, async () => {
    const s = await cli(['lock', 'status']);
    return s.out.includes('m2') ? s.out : undefined;
  });
  t.same(status, ['Available: 0', 'Max: 1', `Latest token: ${m1Token}`, '', 'HOLDER\tTOKEN', `m1\t${m1Token}`, '', 'WAITING (first in line first)', 'm2']);
  t.same(await cli(['lock', 'release', '--holder', 'm1']), { code: 0, out: ['Released reboot for m1 (available 1 of max 1; holders: none)'], err: [] },
    'm1 is back up and releases');
  const done = await second;
  t.equal(done.code, 0, done.err.join('\n'));
  const m2Token = Number(await readFile(join(dir, 'm2'), 'utf8'));
  t.ok(m2Token > m1Token, `m2's token ${m2Token} is after m1's ${m1Token}`);
  t.same((await cli(['lock', 'release', '--holder', 'm2'])).code, 0);
  t.match((await cli(['lock', 'release', '--holder', 'm2'])).err[0], /^Error: 501: m2 holds nothing/);
});
