// Leader election over a real 3-member cluster, black-box: three `cairnctl elect` candidates
// each running a command only while leader. At every observed instant at most one of them
// holds the lead; kill -9 of the leader's cairnctl (no resign) hands over to the next one only
// after the TTL; tokens increase; Ctrl-C resigns at once; election.observe (raw and through
// `cairnctl elect --observe`) reports null and every change, in order, exactly once; and a
// kill -9 of the Raft leader member leaves the lead holder and the cluster in agreement.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Notifications, startCluster, waitFor } from './kv-helpers.js';
import type { KvResult } from './kv-helpers.js';

const CAIRNCTL = fileURLToPath(new URL('../../clients/cairnctl/main.js', import.meta.url));
const TTL_S = 3;
const NAME = 'it';

interface Leader { candidate: string; value: string; token: number }

/** One `cairnctl elect` process and what its stderr said. */
class Candidate {
  readonly child: ChildProcess;
  token: number | undefined;
  commandPid: number | undefined;
  lost = false;
  killed = false;
  readonly stderr: string[] = [];

  constructor(readonly id: string, endpoints: string, onLine: () => void) {
    const command = [process.execPath, '-e', 'setInterval(() => {}, 1e9)'];
    this.child = spawn(process.execPath, [CAIRNCTL, '--endpoints', endpoints, 'elect', NAME, '--candidate', id, '--ttl', String(TTL_S), '--value', `v-${id}`, '--', ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter((l) => l !== '')) {
        this.stderr.push(line);
        const elected = /^elected: .* with token (\d+); running .* \(pid (\d+)\)/.exec(line);
        if (elected !== null) [this.token, this.commandPid] = [Number(elected[1]), Number(elected[2])];
        if (line.startsWith('leadership lost')) this.lost = true;
      }
      onLine();
    });
  }

  /** Elected, not lost, and its process neither killed nor exited: it believes it leads. */
  get holding(): boolean {
    return this.token !== undefined && !this.lost && !this.killed && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exit = new Promise((resolve) => this.child.once('exit', resolve));
    if (signal === 'SIGKILL') this.killed = true;
    this.child.kill(signal);
    await exit;
  }
}

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('three candidates: one leader at a time, takeover after the ttl, increasing tokens, observe sees every change', async (t) => {
  const kv = await startCluster(t);
  const endpoints = kv.members.map((m) => m.clientUrl).join(',');
  const candidates: Candidate[] = [];
  const processes: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of candidates) {
      await c.kill('SIGKILL');
      if (alive(c.commandPid)) process.kill(c.commandPid as number, 'SIGKILL');
    }
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  let mostHolding = 0;
  const audit = (): void => { mostHolding = Math.max(mostHolding, candidates.filter((c) => c.holding).length); };
  const auditTimer = setInterval(audit, 20);
  t.teardown(() => clearInterval(auditTimer));

  // A raw observer on one member, and cairnctl's on all of them.
  const observer = await kv.connect(kv.members[2]!);
  const seen: Array<{ leader: Leader | null; atMs: number }> = [];
  const notes = new Notifications(observer, (p) => seen.push({ leader: (p.result as { leader: Leader | null }).leader, atMs: Date.now() }));
  const { subscription } = await observer.call<{ subscription: string }>('election.observe', { name: NAME });
  const cliObserver = spawn(process.execPath, [CAIRNCTL, '--endpoints', endpoints, 'elect', '--observe', NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(cliObserver);
  const cliLines: string[] = [];
  cliObserver.stdout?.setEncoding('utf8').on('data', (text: string) => cliLines.push(...text.split('\n').filter((l) => l !== '')));
  await notes.atLeast(subscription, 1);
  await waitFor('cairnctl elect --observe to start', 30_000, async () => (cliLines.length >= 1 ? true : undefined));
  const leaderIs = (id: string): Promise<{ leader: Leader | null; atMs: number }> =>
    waitFor(`observe to report ${id} leading`, 15_000, async () => seen.find((s) => s.leader?.candidate === id), 10);
  // Bounds on waits for a cairnctl process to start and act are generous: on a loaded 2-core
  // CI machine a node process can take seconds to start (they bound the wait, not the speed).
  const queued = async (n: number): Promise<void> => {
    await waitFor(`${n} candidacies`, 30_000, async () => {
      const r = await observer.call<KvResult>('kv.get', { key: `/cairn/election/${NAME}` }).catch(() => undefined);
      return (r?.node.nodes?.length ?? 0) >= n ? true : undefined;
    });
  };

  // Candidates join one after another, so the queue order is known.
  for (const [i, id] of ['c1', 'c2', 'c3'].entries()) {
    candidates.push(new Candidate(id, endpoints, audit));
    if (i === 0) await leaderIs('c1');
    await queued(i + 1);
  }
  const [c1, c2, c3] = candidates as [Candidate, Candidate, Candidate];
  await waitFor('c1 to run its command', 30_000, async () => (c1.commandPid !== undefined ? true : undefined));

  // kill -9 of the leader's process: no resign; its key lapses by its TTL.
  const killedAt = Date.now();
  await c1.kill('SIGKILL');
  const c2Leads = await leaderIs('c2');
  const takeoverMs = c2Leads.atMs - killedAt;
  t.comment(`takeover after kill -9 of the leader's cairnctl: ${takeoverMs} ms (ttl ${TTL_S} s, heartbeats every ${TTL_S * 1000 / 3} ms)`);
  t.ok(takeoverMs >= (TTL_S * 1000 * 2) / 3 - 300, 'not before the key can have expired (ttl minus one heartbeat interval)');
  t.ok(takeoverMs <= TTL_S * 1000 + 3000, 'within the ttl plus expiry and election slack');
  await waitFor('c2 to run its command', 30_000, async () => (c2.commandPid !== undefined ? true : undefined));

  await c2.kill('SIGKILL');
  await leaderIs('c3');
  await waitFor('c3 to run its command', 30_000, async () => (c3.commandPid !== undefined ? true : undefined));
  t.ok(alive(c3.commandPid), "c3's command runs while it leads");

  // Ctrl-C: the command is stopped and the leadership resigned, with no TTL to wait out.
  const stoppedAt = Date.now();
  await c3.kill('SIGINT');
  const nobody = await waitFor('observe to report no leader', 10_000, async () => seen.slice(1).find((s) => s.leader === null), 10);
  t.ok(nobody.atMs - stoppedAt < TTL_S * 1000, `resigned at once (${nobody.atMs - stoppedAt} ms)`);
  t.equal(c3.child.exitCode, 0, 'cairnctl elect exits 0 on Ctrl-C');
  t.equal(alive(c3.commandPid), false, "c3's command was stopped");

  t.equal(mostHolding, 1, 'never two candidates believing they lead at once');
  const tokens = [c1.token, c2.token, c3.token] as number[];
  t.ok(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!, `tokens increase: ${tokens.join(' < ')}`);
  const expected = [null, ...[c1, c2, c3].map((c) => ({ candidate: c.id, value: `v-${c.id}`, token: c.token as number })), null];
  t.same(seen.map((s) => s.leader), expected, 'observe: null, every leader in turn, null');
  await waitFor('cairnctl --observe to print the last change', 5_000, async () => (cliLines.length >= 5 ? true : undefined));
  t.same(cliLines, ['no leader', ...expected.slice(1, 4).map((l) => `${l!.candidate} token=${l!.token} ${l!.value}`), 'no leader']);

  // Extra: kill -9 the Raft leader member while a candidate leads. TTLs are extended on the
  // new Raft leader, so the key does not lapse early; whatever the handle concludes, it must
  // agree with the cluster: a candidate that still believes it leads is the cluster's leader.
  const c4 = new Candidate('c4', endpoints, audit);
  candidates.push(c4);
  await waitFor('c4 to run its command', 30_000, async () => (c4.commandPid !== undefined ? true : undefined));
  const raftLeader = await kv.electLeader();
  await kv.cluster.kill(raftLeader);
  await new Promise((r) => setTimeout(r, TTL_S * 1000 * 2));
  const survivor = await kv.connect(kv.followers()[0]!);
  const after = await waitFor('election.leader on a surviving member', 15_000,
    async () => (await survivor.call<{ leader: Leader | null }>('election.leader', { name: NAME }, 2_000)));
  t.comment(`after kill -9 of the Raft leader: c4 ${c4.lost ? 'lost' : 'kept'} the lead; cluster says ${JSON.stringify(after.leader)}`);
  if (c4.holding) t.equal(after.leader?.token, c4.token, 'c4 believes it leads, and the cluster agrees');
  else t.not(after.leader?.token, c4.token, 'c4 gave up, and the cluster agrees');
  t.equal(mostHolding, 1, 'still never two believing they lead');
});
