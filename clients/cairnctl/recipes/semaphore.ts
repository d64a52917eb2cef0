// cairnctl commands of the semaphore recipe, in the style of locksmithctl:
//   lock status | acquire | release | set-max N    (--name, default "reboot"; --holder ID)
//   reboot --holder ID -- CMD ARGS...              waits for a slot, then runs the reboot command
// After boot the machine gives its slot back with `cairnctl lock release --holder ID`.
import { spawn } from 'node:child_process';
import type { CairnClient } from '../../client.js';
import {
  acquireSemaphore, releaseSemaphore, semaphoreStatus, semaphoreWaiters, setSemaphoreMax,
} from '../../recipes/semaphore.js';
import type { SemaphoreAcquireResult, SemaphoreState, SemaphoreStatus } from '../../recipes/semaphore.js';
import type { OptionSpec } from '../commands.js';
import type { OutputFormat } from '../parse.js';
import { CliUsageError } from '../recipe-command.js';
import type { OptionValues, RecipeArgs, RecipeCommand } from '../recipe-command.js';
import type { CliIo } from '../run.js';

const nameOption: OptionSpec = { type: 'string', value: 'NAME', help: 'the semaphore (default reboot)' };
const holderOption: OptionSpec = { type: 'string', value: 'ID', help: 'who holds the slot, e.g. the machine id' };
const waitTimeout: OptionSpec = { type: 'string', value: 'DURATION', help: 'give up waiting after this long, e.g. 30m (default: wait until killed)' };

const text = (values: OptionValues, key: string): string | undefined => {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
};

/** 500ms, 30s, 10m, 2h: how long to wait for a slot. */
export function waitDurationMs(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  const unitMs = m === null ? undefined : { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = m === null || unitMs === undefined ? NaN : Math.round(Number(m[1]) * unitMs);
  if (!(ms >= 1 && ms <= 3_600_000)) throw new CliUsageError(`--wait-timeout: "${value}" is not a duration from 1ms to 1h, such as 30s or 10m`);
  return ms;
}

function holderOf(values: OptionValues): string {
  const holder = text(values, 'holder');
  if (holder === undefined || holder === '') throw new CliUsageError('--holder ID is required (who takes or gives back the slot)');
  return holder;
}

/** Positionals of `lock`: the subcommand and, for set-max, the new max. */
function checkLock(args: RecipeArgs): void {
  const [sub, ...rest] = args.positionals;
  const takes: Record<string, number> = { status: 0, acquire: 0, release: 0, 'set-max': 1 };
  if (sub === undefined) throw new CliUsageError('missing subcommand: status, acquire, release or set-max');
  if (takes[sub] === undefined) throw new CliUsageError(`unknown subcommand "${sub}": status, acquire, release or set-max`);
  if (rest.length > (takes[sub] as number)) throw new CliUsageError(`unexpected argument "${rest[takes[sub] as number] ?? ''}"`);
  if (sub === 'set-max' && (rest[0] === undefined || !/^\d{1,7}$/.test(rest[0]))) {
    throw new CliUsageError('set-max needs the new max, a whole number from 0 to 1000000');
  }
  if (sub === 'acquire' || sub === 'release') holderOf(args.values);
  const wt = text(args.values, 'wait-timeout');
  if (wt !== undefined) waitDurationMs(wt);
}

/** locksmithctl status, plus tokens and the queue. */
export function formatSemaphoreStatus(status: SemaphoreStatus, waiters: readonly string[], output: OutputFormat): string[] {
  if (output === 'json') return [JSON.stringify({ ...status, waiters })];
  const { state } = status;
  const lines = [`Available: ${state.semaphore}`, `Max: ${state.max}`];
  if (status.token !== null) lines.push(`Latest token: ${status.token}`);
  lines.push('', 'HOLDER\tTOKEN', ...state.holders.map((h) => `${h}\t${state.tokens[h] ?? '?'}`));
  if (waiters.length > 0) lines.push('', 'WAITING (first in line first)', ...waiters);
  return lines;
}

const slots = (state: SemaphoreState): string =>
  `available ${state.semaphore} of max ${state.max}; holders: ${state.holders.length === 0 ? 'none' : state.holders.join(', ')}`;

async function runLock(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const { values, positionals, globals } = args;
  const name = text(values, 'name');
  const common = name === undefined ? {} : { name };
  const json = (value: unknown): number => { io.out(JSON.stringify(value)); return 0; };
  switch (positionals[0]) {
    case 'status': {
      const [status, waiters] = await Promise.all([semaphoreStatus(client, common), semaphoreWaiters(client, common)]);
      for (const line of formatSemaphoreStatus(status, waiters, globals.output)) io.out(line);
      return 0;
    }
    case 'acquire':
      return (await acquireAndReport(client, args, io, values['wait'] === true)).acquired ? 0 : 1;
    case 'release': {
      const holder = holderOf(values);
      const result = await releaseSemaphore(client, holder, common);
      if (globals.output === 'json') return json(result);
      io.out(`Released ${name ?? 'reboot'} for ${holder} (${slots(result.state)})`);
      return 0;
    }
    case 'set-max': {
      const before = await semaphoreStatus(client, common);
      const result = await setSemaphoreMax(client, Number(positionals[1]), common);
      if (globals.output === 'json') return json(result);
      io.out(`Old: ${before.state.max}`);
      io.out(`New: ${result.state.max}`);
      return 0;
    }
    default:
      throw new Error(`unreachable: lock ${positionals[0] ?? ''}`);
  }
}

/** Takes a slot (waiting if asked) and says so: the token, or why there was none. */
async function acquireAndReport(client: CairnClient, args: RecipeArgs, io: CliIo, wait: boolean): Promise<SemaphoreAcquireResult> {
  const holder = holderOf(args.values);
  const name = text(args.values, 'name');
  const wt = text(args.values, 'wait-timeout');
  const result = await acquireSemaphore(client, {
    holder, wait,
    ...(name === undefined ? {} : { name }),
    ...(wt === undefined ? {} : { timeoutMs: waitDurationMs(wt) }),
    ...(io.signal === undefined ? {} : { signal: io.signal }),
  });
  if (args.globals.output === 'json') {
    io.out(JSON.stringify(result));
  } else if (result.acquired) {
    io.out(`Acquired ${name ?? 'reboot'} for ${holder}, token ${result.token ?? '?'}`);
  } else {
    io.err(`Error: ${name ?? 'reboot'}: no free slot${wait ? ' in time' : ''} (${slots(result.state)})`);
  }
  return result;
}

const lock: RecipeCommand = {
  spec: {
    usage: 'lock <status | acquire | release | set-max N> [--name NAME] [--holder ID] [--wait [--wait-timeout D]]',
    summary: 'show, take, give back or resize a reboot semaphore (locksmithctl style)',
    options: {
      name: nameOption, holder: holderOption,
      wait: { type: 'boolean', help: 'acquire: queue for a slot instead of failing when none is free' },
      'wait-timeout': waitTimeout,
    },
    subcommands: {
      status: 'lock status [--name N]                         available, max, holders with tokens, waiters',
      acquire: 'lock acquire --holder ID [--wait [--wait-timeout D]]  take a slot (idempotent for a holder)',
      release: 'lock release --holder ID                       give a slot back (any holder: operators too)',
      'set-max': 'lock set-max N                                 the number of slots (lowering evicts nobody)',
    },
  },
  check: checkLock,
  run: runLock,
};

/** Runs the reboot command with inherited stdio; resolves with its exit code. */
function spawnReboot(command: string, args: readonly string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

async function runReboot(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const holder = holderOf(args.values);
  const name = text(args.values, 'name') ?? 'reboot';
  const [command, ...rest] = args.tail as [string, ...string[]];
  const granted = await acquireAndReport(client, args, io, true);
  if (!granted.acquired) return 1;
  const env = { CAIRN_SEMAPHORE: name, CAIRN_SEMAPHORE_HOLDER: holder, CAIRN_SEMAPHORE_TOKEN: String(granted.token ?? '') };
  let exit: number;
  try {
    exit = io.exec === undefined ? await spawnReboot(command, rest, env) : await io.exec(command, rest, env).then(() => 0);
  } catch (error) {
    io.err(`Error: could not run ${command}: ${(error as Error).message}`);
    exit = 127;
  }
  if (exit === 0) return 0;
  // The reboot did not happen: holding the slot would block every other machine.
  await releaseSemaphore(client, holder, { name });
  io.err(`Error: ${command} exited with ${exit}; released ${name} for ${holder}`);
  return exit;
}

const reboot: RecipeCommand = {
  spec: {
    usage: 'reboot --holder ID [--name NAME] [--wait-timeout D] -- <command> [args...]',
    summary: 'wait for a reboot slot, then run the reboot command (release after boot with lock release)',
    options: { name: nameOption, holder: holderOption, 'wait-timeout': waitTimeout },
  },
  takesCommand: true,
  check(args) {
    holderOf(args.values);
    if (args.tail.length === 0) throw new CliUsageError('missing <command> after --, e.g. -- systemctl reboot');
    if (args.positionals.length > 0) throw new CliUsageError(`unexpected argument "${args.positionals[0] ?? ''}" (put -- before the command)`);
    const wt = text(args.values, 'wait-timeout');
    if (wt !== undefined) waitDurationMs(wt);
  },
  run: runReboot,
};

export const commands: Readonly<Record<string, RecipeCommand>> = { lock, reboot };
