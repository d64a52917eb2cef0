// The scheduler recipe over a real 3-member cluster with three real agents (`cairnctl agent`
// processes): thirty jobs with labels and capacities run; kill -9 of one agent gives its
// jobs to the others after its ttl, and its late completion is refused with 520; kill -9 of
// the cluster leader mid-run assigns no attempt twice (checked on the store's own event
// stream of /cairn/jobs, read from before the first submit without a gap).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { connect } from '../../clients/index.js';
import type { CairnClient, KvEvent } from '../../clients/index.js';
import { completeJob, listJobs, listMachines, submitJob } from '../../clients/recipes/scheduler.js';
import type { SchedulerJob } from '../../clients/recipes/scheduler.js';
import { startCluster, waitFor } from './kv-helpers.js';

const CAIRNCTL = fileURLToPath(new URL('../../clients/cairnctl/main.js', import.meta.url));
const TTL_S = 3;

interface AgentProcess { machine: string; child: ChildProcess; logs: string[] }

t.test('agents run thirty jobs; agent and leader failures assign no attempt twice', async (t) => {
  const kv = await startCluster(t, ['--event-history', '50000']);
  const endpoints = kv.members.map((m) => m.clientUrl);
  const agents: AgentProcess[] = [];
  const startAgent = (machine: string, labels: string, capacity: number): AgentProcess => {
    const child = spawn(process.execPath, [CAIRNCTL, '--endpoints', endpoints.join(','), 'agent', '--machine', machine,
      '--labels', labels, '--capacity', String(capacity), '--ttl', String(TTL_S)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const agent = { machine, child, logs: [] as string[] };
    child.stderr?.on('data', (b: Buffer) => { agent.logs.push(b.toString()); });
    agents.push(agent);
    return agent;
  };
  const client: CairnClient = await connect({ endpoints, requestTimeoutMs: 10_000 });
  const stopWatch = new AbortController();
  t.teardown(() => {
    stopWatch.abort();
    client.close();
    for (const a of agents) {
      if (!t.passing()) t.comment(`agent ${a.machine}:\n${a.logs.join('').split('\n').slice(-30).join('\n')}`);
      a.child.kill('SIGKILL');
    }
  });

  // Every change of every job, from before the first submit, resumed across failover.
  const startIndex = (await client.status()).index + 1;
  const events: KvEvent[] = [];
  const watching = (async () => {
    for await (const e of client.watch('/cairn/jobs', { recursive: true, waitIndex: startIndex, signal: stopWatch.signal })) events.push(e);
  })().catch(() => undefined);

  const a1 = startAgent('a1', 'role=work,zone=1', 4);
  startAgent('a2', 'role=work,zone=2', 4);
  startAgent('a3', 'role=work,zone=3,disk=ssd', 3);
  await waitFor('three alive machines', 15_000, async () => ((await listMachines(client)).filter((m) => m.alive).length === 3 ? true : undefined), 100);

  for (let i = 0; i < 30; i++) {
    const labels: Record<string, string> = i % 6 === 0 ? { disk: 'ssd' } : { role: 'work' };
    await submitJob(client, { command: ['sleep', '1.2'] }, { job: `j${String(i).padStart(2, '0')}`, labels, priority: i % 3 });
  }
  t.match((await listJobs(client)).length, 30);

  // a1 is running something: kill -9 it, and the cluster leader a moment later.
  const a1Running = await waitFor('a job running on a1', 15_000, async () => {
    const running = await listJobs(client, { machine: 'a1', state: 'running' });
    return running.length > 0 ? running : undefined;
  }, 50);
  a1.child.kill('SIGKILL');
  await kv.cluster.kill(kv.leader);

  const done = await waitFor('all thirty jobs finished', 75_000, async () => {
    const jobs = await listJobs(client);
    return jobs.length === 30 && jobs.every((j) => j.state === 'succeeded' || j.state === 'failed') ? jobs : undefined;
  }, 250);
  t.same(done.filter((j) => j.state !== 'succeeded').map((j) => `${j.job} ${j.state}`), [], 'every job succeeded');

  // a1's jobs ran again elsewhere, as attempt 2, after its ttl.
  const byId = new Map(done.map((j) => [j.job, j]));
  for (const lost of a1Running) {
    const now = byId.get(lost.job) as SchedulerJob;
    t.ok(now.attempt > lost.attempt && now.machine !== 'a1', `${lost.job} ran again elsewhere (attempt ${now.attempt} on ${now.machine ?? '?'})`);
    // A revived a1 reporting its old attempt is refused.
    await t.rejects(completeJob(client, { job: lost.job, machine: 'a1', attempt: lost.attempt, status: 'succeeded' }), { code: 520 });
  }
  const ssd = done.filter((j) => j.labels['disk'] === 'ssd');
  t.ok(ssd.length === 5 && ssd.every((j) => j.machine === 'a3'), 'label matching: disk=ssd jobs ran on a3');

  // No (job, attempt) was assigned twice, and none started twice.
  const finalIndex = Math.max(...done.map((j) => j.modifiedIndex));
  await waitFor('the watch to reach the last job write', 15_000, async () => (events.some((e) => e.index >= finalIndex) ? true : undefined), 50);
  const assigned = new Map<string, number>();
  const started = new Map<string, number>();
  for (const e of events) {
    if (e.node.value === undefined) continue;
    const job = JSON.parse(e.node.value) as SchedulerJob;
    const prev = e.prevNode?.value === undefined ? undefined : JSON.parse(e.prevNode.value) as SchedulerJob;
    const key = `${job.job}#${job.attempt}`;
    if (job.state === 'assigned' && prev?.state !== 'assigned') assigned.set(key, (assigned.get(key) ?? 0) + 1);
    if (job.state === 'running' && prev?.state !== 'running') started.set(key, (started.get(key) ?? 0) + 1);
  }
  t.same([...assigned].filter(([, n]) => n > 1), [], 'no attempt assigned twice');
  t.same([...started].filter(([, n]) => n > 1), [], 'no attempt started twice');
  t.ok(assigned.size >= 30 + a1Running.length, `${assigned.size} attempts assigned`);
  t.ok(events.some((e) => e.action === 'get') === false, 'the watch never had to re-read');
  stopWatch.abort();
  await watching;
});
