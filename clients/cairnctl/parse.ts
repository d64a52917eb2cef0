// cairnctl's pure command layer: argv (and the environment) in, a Plan out: help text, a
// usage error, or the one thing to run with which options. No I/O happens here, so every
// command line can be tested without a server.
import { parseArgs } from 'node:util';
import type { CreateParams, DeleteParams, GetParams, SetParams } from '../../core/api/types.js';
import { COMMANDS, GLOBAL_OPTIONS, helpText } from './commands.js';
import type { CommandSpec, OptionSpec } from './commands.js';
import { CliUsageError } from './recipe-command.js';
import { RECIPE_COMMANDS } from './recipes.js';

export type OutputFormat = 'simple' | 'extended' | 'json';
export interface Globals { endpoints: string[]; output: OutputFormat; timeoutMs: number }

/** How a kv command prints its result in simple output. */
export type KvPrint = 'value' | 'get' | 'none' | 'rm' | 'ls' | 'ls-p';
export type KvCall =
  | { method: 'kv.get'; params: GetParams }
  | { method: 'kv.set'; params: SetParams }
  | { method: 'kv.create'; params: CreateParams }
  | { method: 'kv.delete'; params: DeleteParams };

export type Command =
  | { kind: 'kv'; call: KvCall; print: KvPrint }
  | { kind: 'watch'; key: string; recursive: boolean; waitIndex?: number; forever: boolean }
  | { kind: 'exec-watch'; key: string; recursive: boolean; waitIndex?: number; command: string; args: string[] }
  | { kind: 'member-list' }
  | { kind: 'member-add'; name: string; peerUrl: string }
  | { kind: 'member-remove'; id: string }
  | { kind: 'endpoint-health' }
  | { kind: 'endpoint-status' }
  | { kind: 'recipe'; name: string; values: Values; positionals: string[]; tail: string[] };

export type Plan =
  | { kind: 'help'; text: string }
  | { kind: 'usage-error'; message: string; usage: string }
  | { kind: 'run'; globals: Globals; command: Command };

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4001';
const DEFAULT_TIMEOUT_MS = 5_000;

type Values = Record<string, string | boolean | undefined>;
type Builder = (values: Values, positionals: string[], tail: string[]) => Command;

/** Thrown inside this module only; parseCommand turns it into a usage-error Plan. */
class UsageError extends Error {}

export function parseCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Plan {
  const { globals, name, rest } = splitAtCommand(argv);
  const known = name === undefined ? undefined : specOf(name);
  const usage = known !== undefined ? `Usage: cairnctl ${known.usage}` : 'Run cairnctl --help for usage.';
  try {
    if (name === undefined) {
      if (globals.includes('--help') || globals.includes('-h')) return { kind: 'help', text: helpText() };
      throw new UsageError('no command given');
    }
    if (name === 'help') return { kind: 'help', text: helpText(rest.find((a) => !a.startsWith('-'))) };
    const spec = specOf(name);
    if (spec === undefined) throw new UsageError(`unknown command "${name}"`);
    const recipe = RECIPE_COMMANDS[name];
    const split = name === 'exec-watch' || recipe?.takesCommand === true ? rest.indexOf('--') : -1;
    const own = split < 0 ? rest : rest.slice(0, split);
    const { values, positionals } = parseOptions([...globals, ...own], { ...GLOBAL_OPTIONS, ...spec.options }, name);
    if (values['help'] === true) return { kind: 'help', text: helpText(name) };
    const tail = split < 0 ? [] : rest.slice(split + 1);
    if (recipe !== undefined) {
      const globalsParsed = parseGlobals(values, env);
      recipe.check?.({ values, positionals, tail, globals: globalsParsed });
      return { kind: 'run', globals: globalsParsed, command: { kind: 'recipe', name, values, positionals, tail } };
    }
    const builder = BUILDERS[name] as Builder;
    const command = builder(values, positionals, split < 0 ? [] : rest.slice(split + 1));
    return { kind: 'run', globals: parseGlobals(values, env), command };
  } catch (error) {
    if (error instanceof UsageError || error instanceof CliUsageError) return { kind: 'usage-error', message: error.message, usage };
    throw error;
  }
}

/** A built-in command's spec, or a recipe command's. */
function specOf(name: string): CommandSpec | undefined {
  return COMMANDS[name] ?? RECIPE_COMMANDS[name]?.spec;
}

/** Global options may come before the command name; the name is the first other word. */
function splitAtCommand(argv: readonly string[]): { globals: string[]; name?: string; rest: string[] } {
  const takesValue = new Set(Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string')
    .flatMap(([n, o]) => (o.short === undefined ? [`--${n}`] : [`--${n}`, `-${o.short}`])));
  let i = 0;
  while (i < argv.length && (argv[i] as string).startsWith('-') && argv[i] !== '--') {
    i += takesValue.has(argv[i] as string) ? 2 : 1;
  }
  if (i >= argv.length) return { globals: [...argv], rest: [] };
  return { globals: argv.slice(0, i), name: argv[i], rest: argv.slice(i + 1) };
}

function parseOptions(args: string[], options: Record<string, OptionSpec>, name: string): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...options }, strict: true, allowPositionals: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    const hint = name === 'exec-watch' ? ' (put -- before the command to run)' : '';
    throw new UsageError(`${(error as Error).message.split('\n')[0] ?? 'bad options'}${hint}`);
  }
}

function parseGlobals(values: Values, env: Readonly<Record<string, string | undefined>>): Globals {
  const list = str(values, 'endpoints') ?? env['CAIRN_ENDPOINTS'] ?? DEFAULT_ENDPOINT;
  const endpoints = list.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 0) throw new UsageError('--endpoints: give at least one URL');
  for (const endpoint of endpoints) {
    if (!URL.canParse(endpoint) || !/^(https?|wss?):$/.test(new URL(endpoint).protocol)) {
      throw new UsageError(`--endpoints: "${endpoint}" is not a URL such as ${DEFAULT_ENDPOINT}`);
    }
  }
  const output = str(values, 'output') ?? 'simple';
  if (output !== 'simple' && output !== 'extended' && output !== 'json') {
    throw new UsageError(`--output: "${output}" is not simple, extended or json`);
  }
  const timeout = str(values, 'timeout');
  return { endpoints, output, timeoutMs: timeout === undefined ? DEFAULT_TIMEOUT_MS : durationMs(timeout) };
}

/** Go-style durations as etcdctl takes them: 500ms, 5s, 1.5s, 2m. */
export function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (match === null) throw new UsageError(`--timeout: "${text}" is not a duration such as 5s or 500ms`);
  const scale = { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  const ms = Math.round(Number(match[1]) * scale);
  if (ms <= 0) throw new UsageError('--timeout: must be more than 0');
  return ms;
}

const str = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
const flag = (values: Values, name: string): boolean => values[name] === true;

function whole(values: Values, name: string): number | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name}: "${text}" is not a whole number`);
  }
  return Number(text);
}

/** Exactly the named positional arguments, or a usage error naming what is off. */
function args(positionals: string[], ...names: string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).map((n) => `<${n}>`).join(' ')}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length] ?? ''}"`);
  return positionals;
}

/** `params` plus those of `extra` that are set (a false flag is left out, as etcdctl sends). */
function optional<T extends object>(params: T, extra: Record<string, string | number | boolean | undefined>): T {
  const out: Record<string, unknown> = { ...(params as Record<string, unknown>) };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined && value !== false) out[key] = value;
  return out as T;
}

const kv = (call: KvCall, print: KvPrint): Command => ({ kind: 'kv', call, print });
const withTtl = <T extends object>(params: T, values: Values): T => optional(params, { ttl: whole(values, 'ttl') });

function buildWatch(values: Values, positionals: string[]): { key: string; recursive: boolean; waitIndex?: number } {
  const [key] = args(positionals, 'key') as [string];
  const after = whole(values, 'after-index');
  const base = { key, recursive: flag(values, 'recursive') };
  return after === undefined ? base : { ...base, waitIndex: after + 1 };
}

const BUILDERS: Readonly<Record<string, Builder>> = {
  get: (v, p) => {
    const [key] = args(p, 'key') as [string];
    return kv({ method: 'kv.get', params: optional({ key }, { sorted: flag(v, 'sort') }) }, 'get');
  },
  set: (v, p) => {
    const [key, value] = args(p, 'key', 'value') as [string, string];
    const params = optional(withTtl({ key, value }, v), { prevValue: str(v, 'swap-with-value'), prevIndex: whole(v, 'swap-with-index') });
    return kv({ method: 'kv.set', params }, 'value');
  },
  mk: (v, p) => {
    const [key, value] = args(p, 'key', 'value') as [string, string];
    if (flag(v, 'in-order')) return kv({ method: 'kv.create', params: withTtl({ key, value }, v) }, 'value');
    return kv({ method: 'kv.set', params: withTtl({ key, value, prevExist: false }, v) }, 'value');
  },
  mkdir: (v, p) => {
    const [key] = args(p, 'key') as [string];
    return kv({ method: 'kv.set', params: withTtl({ key, dir: true, prevExist: false }, v) }, 'none');
  },
  update: (v, p) => {
    const [key, value] = args(p, 'key', 'value') as [string, string];
    return kv({ method: 'kv.set', params: withTtl({ key, value, prevExist: true }, v) }, 'value');
  },
  rm: (v, p) => {
    const [key] = args(p, 'key') as [string];
    const params = optional({ key }, {
      dir: flag(v, 'dir'), recursive: flag(v, 'recursive'), prevValue: str(v, 'with-value'), prevIndex: whole(v, 'with-index'),
    });
    return kv({ method: 'kv.delete', params }, 'rm');
  },
  rmdir: (_v, p) => {
    const [key] = args(p, 'key') as [string];
    return kv({ method: 'kv.delete', params: { key, dir: true } }, 'none');
  },
  ls: (v, p) => {
    const key = p.length === 0 ? '/' : (args(p, 'key')[0] as string);
    const params = optional({ key }, { recursive: flag(v, 'recursive'), sorted: flag(v, 'sort') });
    return kv({ method: 'kv.get', params }, flag(v, 'p') ? 'ls-p' : 'ls');
  },
  watch: (v, p) => ({ kind: 'watch', ...buildWatch(v, p), forever: flag(v, 'forever') }),
  'exec-watch': (v, p, tail) => {
    // Without "--", the words after the key are the command (when none looks like an option).
    const [key, ...inline] = p;
    const command = tail.length > 0 ? tail : inline;
    if (key === undefined) throw new UsageError('missing <key>');
    if (tail.length > 0 && inline.length > 0) throw new UsageError(`unexpected argument "${inline[0] ?? ''}" before --`);
    if (command.length === 0) throw new UsageError('missing <command> (after --)');
    return { kind: 'exec-watch', ...buildWatch(v, [key]), command: command[0] as string, args: command.slice(1) };
  },
  member: (_v, p) => {
    const [sub, ...rest] = p;
    if (sub === 'list') {
      args(rest);
      return { kind: 'member-list' };
    }
    if (sub === 'add') {
      const [name, peerUrl] = args(rest, 'name', 'peerURL') as [string, string];
      if (!URL.canParse(peerUrl)) throw new UsageError(`"${peerUrl}" is not a URL such as http://127.0.0.1:7001`);
      return { kind: 'member-add', name, peerUrl };
    }
    if (sub === 'remove') return { kind: 'member-remove', id: (args(rest, 'id') as [string])[0] };
    throw new UsageError(sub === undefined ? 'missing subcommand: list, add or remove' : `unknown subcommand "member ${sub}"`);
  },
  endpoint: (_v, p) => {
    const [sub, ...rest] = p;
    if (sub === 'health' || sub === 'status') {
      args(rest);
      return { kind: sub === 'health' ? 'endpoint-health' : 'endpoint-status' };
    }
    throw new UsageError(sub === undefined ? 'missing subcommand: health or status' : `unknown subcommand "endpoint ${sub}"`);
  },
};
