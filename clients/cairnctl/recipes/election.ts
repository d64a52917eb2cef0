// cairnctl commands of the election recipe: `elect NAME --candidate ID [-- CMD...]` campaigns,
// and once elected runs CMD (or just holds the lead) only while leader: CMD is stopped as soon
// as the leadership handle's signal says the lead can no longer be counted on, before anyone
// else can be elected; `elect --observe NAME` prints the leader and every change; `elect NAME`
// alone prints the leader now.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { CairnClient } from '../../client.js';
import { campaign, electionLeader, observeElection } from '../../recipes/election.js';
import type { ElectionLeader, Leadership } from '../../recipes/election.js';
import type { OutputFormat } from '../parse.js';
import { CliUsageError } from '../recipe-command.js';
import type { RecipeArgs, RecipeCommand } from '../recipe-command.js';
import type { CliIo } from '../run.js';

function ttlOf(args: RecipeArgs): number | undefined {
  const ttl = args.values['ttl'];
  if (typeof ttl !== 'string') return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(ttl) || Number(ttl) > 86_400) throw new CliUsageError(`--ttl must be a whole number of seconds from 1 to 86400, not "${ttl}"`);
  return Number(ttl);
}

function check(args: RecipeArgs): void {
  if (args.positionals.length !== 1) throw new CliUsageError('elect takes exactly one election name');
  const observing = args.values['observe'] === true;
  const candidate = args.values['candidate'];
  if (observing && (candidate !== undefined || args.tail.length > 0)) {
    throw new CliUsageError('--observe only watches: it takes no --candidate and no command');
  }
  if (!observing && candidate === undefined && args.tail.length > 0) throw new CliUsageError('running a command as leader needs --candidate ID');
  ttlOf(args);
}

export function formatLeader(leader: ElectionLeader | null, output: OutputFormat): string {
  if (output === 'json') return JSON.stringify({ leader });
  if (leader === null) return 'no leader';
  const value = leader.value === '' ? '' : ` ${leader.value}`;
  return `${leader.candidate} token=${leader.token}${value}`;
}

/**
 * The command's stop signal: io.signal when the runner gives one; otherwise SIGINT/SIGTERM
 * of this process (handled only while the command runs), so the leader resigns on Ctrl-C.
 */
function stopSignal(io: CliIo): { signal: AbortSignal; dispose(): void } {
  if (io.signal !== undefined) return { signal: io.signal, dispose: () => {} };
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { signal: stop.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

async function observe(client: CairnClient, name: string, io: CliIo, signal: AbortSignal, output: OutputFormat): Promise<number> {
  try {
    for await (const leader of observeElection(client, name, { signal })) io.out(formatLeader(leader, output));
  } catch (error) {
    if (signal.aborted) return 0;
    throw error;
  }
  return 0;
}

const aborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  if (signal.aborted) return resolve();
  signal.addEventListener('abort', () => resolve(), { once: true });
});

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? 1);
    child.once('exit', (code) => resolve(code ?? 1));
    child.once('error', () => resolve(127));
  });
}

/** SIGTERM, then SIGKILL after `graceMs`: the command must be gone before another leader starts. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** Runs the command while leader; the exit code is the command's, or 1 if leadership was lost. */
async function lead(leadership: Leadership, args: RecipeArgs, io: CliIo, stop: AbortSignal): Promise<number> {
  const [command, ...rest] = args.tail;
  const env = {
    ...process.env,
    CAIRN_ELECTION_NAME: leadership.name, CAIRN_ELECTION_CANDIDATE: leadership.candidate, CAIRN_ELECTION_TOKEN: String(leadership.token),
  };
  const child = command === undefined ? undefined : spawn(command, rest, { stdio: 'inherit', env });
  io.err(`elected: ${leadership.candidate} leads ${leadership.name} with token ${leadership.token}${child === undefined ? '' : `; running ${command} (pid ${child.pid ?? '?'})`}`);
  const ended = child === undefined ? new Promise<number>(() => {}) : exited(child);
  const outcome = await Promise.race([
    ended.then((code) => ({ kind: 'exited' as const, code })),
    aborted(leadership.signal).then(() => ({ kind: 'lost' as const, code: 1 })),
    aborted(stop).then(() => ({ kind: 'stopped' as const, code: 0 })),
  ]);
  if (outcome.kind === 'lost') io.err(`leadership lost: ${(leadership.signal.reason as Error).message}`);
  // Half the safety margin: SIGKILL lands while no one else can have been elected yet.
  if (child !== undefined && outcome.kind !== 'exited') await stopChild(child, Math.max(50, (leadership.ttl * 1000) / 20));
  if (outcome.kind !== 'lost') await leadership.resign().catch((e: unknown) => io.err(`resign failed (the key lapses by its TTL): ${(e as Error).message}`));
  return outcome.code;
}

async function run(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const name = args.positionals[0] as string;
  const candidate = args.values['candidate'];
  const output = args.globals.output;
  if (args.values['observe'] !== true && typeof candidate !== 'string') {
    io.out(formatLeader(await electionLeader(client, name), output));
    return 0;
  }
  const stop = stopSignal(io);
  try {
    if (typeof candidate !== 'string') return await observe(client, name, io, stop.signal, output);
    const value = args.values['value'];
    const ttl = ttlOf(args);
    const leadership = await campaign(client, {
      name, candidate, signal: stop.signal, ...(typeof value === 'string' ? { value } : {}), ...(ttl === undefined ? {} : { ttl }),
    }).catch((error: unknown) => {
      if (stop.signal.aborted) return null;
      throw error;
    });
    if (leadership === null) return 0;
    return await lead(leadership, args, io, stop.signal);
  } finally {
    stop.dispose();
  }
}

export const commands: Readonly<Record<string, RecipeCommand>> = {
  elect: {
    spec: {
      usage: 'elect [--candidate ID [--value V] [--ttl S]] [--observe] <name> [-- <command> [args...]]',
      summary: 'campaign for leadership of <name> and run a command only while leader; --observe prints every change of leader',
      options: {
        candidate: { type: 'string', value: 'ID', help: 'campaign as ID; without it, print the leader (or observe)' },
        value: { type: 'string', value: 'V', help: "the leader's value while this candidate leads" },
        ttl: { type: 'string', value: 'SECONDS', help: 'the leadership lapses this long after the last heartbeat (default 10)' },
        observe: { type: 'boolean', help: 'print the leader, then every change of leader or value ("no leader" when none)' },
      },
    },
    takesCommand: true,
    check,
    run,
  },
};
