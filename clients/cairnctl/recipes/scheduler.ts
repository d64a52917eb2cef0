// cairnctl commands of the scheduler recipe:
//   agent --machine ID [--labels k=v,…] [--capacity N] [--ttl S]   run jobs for this machine
//   job submit [--id ID] [--labels k=v,…] [--machine M] [--priority N] [--max-attempts N]
//              [--at-most-once] (--spec JSON | -- CMD ARGS…)
//   job get ID | job list [--state S] [--machine M] | job cancel ID
//   machine list
import type { CairnClient } from '../../client.js';
import {
  cancelJob, getJob, listJobs, listMachines, runAgent, submitJob,
} from '../../recipes/scheduler.js';
import type { JobState, MachineInfo, SchedulerJob, SubmitJobOptions } from '../../recipes/scheduler.js';
import type { OutputFormat } from '../parse.js';
import { CliUsageError } from '../recipe-command.js';
import type { OptionValues, RecipeArgs, RecipeCommand } from '../recipe-command.js';
import type { CliIo } from '../run.js';

const text = (values: OptionValues, key: string): string | undefined => {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
};

/** "role=db,zone=a" → {role: "db", zone: "a"}. */
export function parseLabels(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of value.split(',').filter((p) => p !== '')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--labels: "${pair}" is not name=value (e.g. --labels role=db,zone=a)`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

function integer(values: OptionValues, key: string, min: number, max: number): number | undefined {
  const v = text(values, key);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new CliUsageError(`--${key}: "${v}" is not a whole number from ${min} to ${max}`);
  return Number(v);
}

const STATES = ['pending', 'assigned', 'running', 'succeeded', 'failed', 'canceled', 'lost'];

/** The job.submit options a `job submit` line asks for. */
export function submitOptions(args: RecipeArgs): { spec: unknown; options: SubmitJobOptions } {
  const { values, tail } = args;
  const specText = text(values, 'spec');
  if ((specText === undefined) === (tail.length === 0)) throw new CliUsageError('give the job either --spec JSON or a command after --');
  let spec: unknown = { command: [...tail] };
  if (specText !== undefined) {
    try { spec = JSON.parse(specText); } catch { throw new CliUsageError(`--spec: not JSON: ${specText}`); }
  }
  const options: SubmitJobOptions = {};
  const id = text(values, 'id');
  const labels = parseLabels(text(values, 'labels'));
  const machine = text(values, 'machine');
  const priority = integer(values, 'priority', -1_000_000, 1_000_000);
  const maxAttempts = integer(values, 'max-attempts', 1, 100);
  if (id !== undefined) options.job = id;
  if (labels !== undefined) options.labels = labels;
  if (machine !== undefined) options.machine = machine;
  if (priority !== undefined) options.priority = priority;
  if (maxAttempts !== undefined) options.maxAttempts = maxAttempts;
  if (values['at-most-once'] === true) options.delivery = 'at-most-once';
  return { spec, options };
}

function checkJob(args: RecipeArgs): void {
  const [sub, ...rest] = args.positionals;
  const takes: Record<string, number> = { submit: 0, get: 1, cancel: 1, list: 0 };
  if (sub === undefined || takes[sub] === undefined) throw new CliUsageError(`${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}: submit, get, list or cancel`);
  if (rest.length !== takes[sub]) throw new CliUsageError(takes[sub] === 1 ? `job ${sub} needs one job id` : `unexpected argument "${rest[0] ?? ''}"`);
  if (sub === 'submit') submitOptions(args);
  else if (args.tail.length > 0) throw new CliUsageError(`job ${sub} takes no command after --`);
  const state = text(args.values, 'state');
  if (state !== undefined && !STATES.includes(state)) throw new CliUsageError(`--state: "${state}" is not one of ${STATES.join(', ')}`);
}

export function formatJobs(jobs: readonly SchedulerJob[], output: OutputFormat): string[] {
  if (output === 'json') return jobs.map((j) => JSON.stringify(j));
  const lines = ['JOB\tSTATE\tATTEMPT\tMACHINE\tPRIORITY\tREASON'];
  for (const j of jobs) lines.push([j.job, j.state, j.attempt, j.machine ?? '-', j.priority, j.reason ?? ''].join('\t'));
  return lines;
}

export function formatJob(job: SchedulerJob, output: OutputFormat): string[] {
  if (output !== 'extended') return output === 'json' ? [JSON.stringify(job)] : formatJobs([job], output);
  return [JSON.stringify(job, null, 2)];
}

export function formatMachines(machines: readonly MachineInfo[], output: OutputFormat): string[] {
  if (output === 'json') return [JSON.stringify({ machines })];
  const labels = (l: Record<string, string>): string => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',') || '-';
  return ['MACHINE\tALIVE\tJOBS\tCAPACITY\tLABELS', ...machines.map((m) => [m.machine, m.alive, m.jobs, m.capacity, labels(m.labels)].join('\t'))];
}

async function runJob(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const { positionals, values, globals } = args;
  const print = (lines: string[]): number => { for (const l of lines) io.out(l); return 0; };
  switch (positionals[0]) {
    case 'submit': {
      const { spec, options } = submitOptions(args);
      return print(formatJob(await submitJob(client, spec, options), globals.output));
    }
    case 'get': return print(formatJob(await getJob(client, positionals[1] as string), globals.output));
    case 'cancel': return print(formatJob(await cancelJob(client, positionals[1] as string), globals.output));
    default: {
      const state = text(values, 'state') as JobState | undefined;
      const machine = text(values, 'machine');
      return print(formatJobs(await listJobs(client, { ...(state === undefined ? {} : { state }), ...(machine === undefined ? {} : { machine }) }), globals.output));
    }
  }
}

function checkAgent(args: RecipeArgs): void {
  if ((text(args.values, 'machine') ?? '') === '') throw new CliUsageError('--machine ID is required (the machine this agent runs jobs for)');
  parseLabels(text(args.values, 'labels'));
  integer(args.values, 'capacity', 1, 10_000);
  integer(args.values, 'ttl', 1, 3600);
  if (args.positionals.length > 0) throw new CliUsageError(`unexpected argument "${args.positionals[0] ?? ''}"`);
}

async function runAgentCommand(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const stop = new AbortController();
  // cairnctl's main aborts io.signal on SIGINT/SIGTERM; without one (in-process callers)
  // the agent listens for those signals itself.
  const onSignal = (): void => stop.abort();
  const ownSignals = io.signal === undefined;
  io.signal?.addEventListener('abort', onSignal, { once: true });
  if (ownSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    const labels = parseLabels(text(args.values, 'labels'));
    const capacity = integer(args.values, 'capacity', 1, 10_000);
    const ttl = integer(args.values, 'ttl', 1, 3600);
    await runAgent(client, {
      machine: text(args.values, 'machine') as string, signal: stop.signal, log: (line) => io.err(line),
      ...(labels === undefined ? {} : { labels }), ...(capacity === undefined ? {} : { capacity }), ...(ttl === undefined ? {} : { ttl }),
    });
    return 0;
  } finally {
    io.signal?.removeEventListener('abort', onSignal);
    if (ownSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

export const commands: Readonly<Record<string, RecipeCommand>> = {
  agent: {
    spec: {
      usage: 'agent --machine ID [--labels k=v,…] [--capacity N] [--ttl S]',
      summary: 'register a machine and run the jobs the scheduler gives it ({"command": [...]} specs) until stopped',
      options: {
        machine: { type: 'string', value: 'ID', help: 'this machine\'s id' },
        labels: { type: 'string', value: 'K=V,…', help: 'labels jobs can require, e.g. role=db,zone=a' },
        capacity: { type: 'string', value: 'N', help: 'jobs run at once (default 1)' },
        ttl: { type: 'string', value: 'SECONDS', help: 'the machine counts as lost this long after its last heartbeat (default 10)' },
      },
    },
    check: checkAgent,
    run: runAgentCommand,
  },
  job: {
    spec: {
      usage: 'job submit|get|list|cancel …',
      summary: 'submit, inspect, list or cancel scheduled jobs',
      subcommands: {
        submit: 'job submit [--id ID] [--labels K=V,…] [--machine M] [--priority N] [--max-attempts N] [--at-most-once] (--spec JSON | -- CMD ARGS…)',
        get: 'job get ID',
        list: 'job list [--state STATE] [--machine M]',
        cancel: 'job cancel ID',
      },
      options: {
        id: { type: 'string', value: 'ID', help: 'the job id (submitting the same id again is idempotent)' },
        labels: { type: 'string', value: 'K=V,…', help: 'labels the machine must have' },
        machine: { type: 'string', value: 'M', help: 'submit: pin to this machine; list: only jobs on it' },
        priority: { type: 'string', value: 'N', help: 'higher runs first (default 0)' },
        'max-attempts': { type: 'string', value: 'N', help: 'attempts before the job fails (default 3)' },
        'at-most-once': { type: 'boolean', help: 'never run the job again once it started (default at-least-once)' },
        spec: { type: 'string', value: 'JSON', help: 'the job spec as JSON (instead of a command after --)' },
        state: { type: 'string', value: 'STATE', help: `list: only jobs in this state (${STATES.join(', ')})` },
      },
    },
    takesCommand: true,
    check: checkJob,
    run: runJob,
  },
  machine: {
    spec: { usage: 'machine list', summary: 'list machines with their labels, capacity and jobs', subcommands: { list: 'machine list' }, options: {} },
    check: (args) => {
      if (args.positionals[0] !== 'list' || args.positionals.length > 1) throw new CliUsageError('the only subcommand is: machine list');
    },
    run: async (client, args, io) => {
      for (const line of formatMachines(await listMachines(client), args.globals.output)) io.out(line);
      return 0;
    },
  },
};
