// cairnctl's command table: every command's usage line, summary and options, as etcdctl v2
// names them. parse.ts reads its options from here and help.ts prints them, so what is
// accepted and what is documented are the same list.
import { RECIPE_COMMANDS } from './recipes.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The placeholder in help, for string options. */
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** For commands with subcommands (member, endpoint): each one's usage and summary. */
  readonly subcommands?: Readonly<Record<string, string>>;
}

const ttl: OptionSpec = { type: 'string', value: 'SECONDS', help: 'time to live of the key, in seconds' };
const recursive: OptionSpec = { type: 'boolean', help: 'also every key below the key' };
const afterIndex: OptionSpec = { type: 'string', value: 'N', help: 'start after index N (waitIndex N+1)' };
const sort: OptionSpec = { type: 'boolean', help: 'list directory entries in key order' };

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  endpoints: { type: 'string', value: 'URLS', help: 'comma-separated member URLs (env CAIRN_ENDPOINTS; default http://127.0.0.1:4001)' },
  output: { type: 'string', short: 'o', value: 'FORMAT', help: 'simple, extended or json (default simple)' },
  timeout: { type: 'string', value: 'DURATION', help: 'per-request deadline, retries included, e.g. 5s or 500ms (default 5s)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  get: { usage: 'get [--sort] <key>', summary: 'print the value of a key', options: { sort } },
  set: {
    usage: 'set [--ttl S] [--swap-with-value V] [--swap-with-index N] <key> <value>',
    summary: 'set the value of a key (optionally only if it has a value or index)',
    options: {
      ttl,
      'swap-with-value': { type: 'string', value: 'V', help: 'only if the current value is V (compareAndSwap)' },
      'swap-with-index': { type: 'string', value: 'N', help: 'only if the current modifiedIndex is N (compareAndSwap)' },
    },
  },
  mk: {
    usage: 'mk [--ttl S] [--in-order] <key> <value>',
    summary: 'make a key that must not exist yet; with --in-order, a new in-order key under the directory <key>',
    options: { ttl, 'in-order': { type: 'boolean', help: 'create an in-order key under the directory <key> (kv.create)' } },
  },
  mkdir: { usage: 'mkdir [--ttl S] <key>', summary: 'make a directory that must not exist yet', options: { ttl } },
  update: { usage: 'update [--ttl S] <key> <value>', summary: 'update a key that must exist', options: { ttl } },
  rm: {
    usage: 'rm [--dir] [--recursive] [--with-value V] [--with-index N] <key>',
    summary: 'remove a key or a directory',
    options: {
      dir: { type: 'boolean', help: 'remove an empty directory or a key' },
      recursive: { type: 'boolean', help: 'remove a directory and everything below it' },
      'with-value': { type: 'string', value: 'V', help: 'only if the current value is V (compareAndDelete)' },
      'with-index': { type: 'string', value: 'N', help: 'only if the current modifiedIndex is N (compareAndDelete)' },
    },
  },
  rmdir: { usage: 'rmdir <key>', summary: 'remove an empty directory', options: {} },
  ls: {
    usage: 'ls [--recursive] [--sort] [-p] [key]',
    summary: 'list a directory (default /)',
    options: { recursive, sort, p: { type: 'boolean', short: 'p', help: 'append / to directories' } },
  },
  watch: {
    usage: 'watch [--forever] [--after-index N] [--recursive] <key>',
    summary: 'wait for the next change of a key and print it; --forever keeps printing changes',
    options: { forever: { type: 'boolean', help: 'keep watching (until killed)' }, 'after-index': afterIndex, recursive },
  },
  'exec-watch': {
    usage: 'exec-watch [--after-index N] [--recursive] <key> -- <command> [args...]',
    summary: 'run a command on every change of a key, with ETCD_WATCH_{ACTION,KEY,VALUE,MODIFIED_INDEX} set, until killed',
    options: { 'after-index': afterIndex, recursive },
  },
  member: {
    usage: 'member <list | add <name> <peerURL> | remove <id>>',
    summary: 'list, add or remove cluster members',
    options: {},
    subcommands: {
      list: 'member list                    list the members',
      add: 'member add <name> <peerURL>    add a member (then start it with the printed settings)',
      remove: 'member remove <id>             remove a member',
    },
  },
  endpoint: {
    usage: 'endpoint <health | status>',
    summary: 'check each endpoint: GET /health, or cluster.status as that member sees it',
    options: {},
    subcommands: {
      health: 'endpoint health                GET /health on each endpoint',
      status: 'endpoint status                cluster.status on each endpoint',
    },
  },
  help: { usage: 'help [command]', summary: 'show help for a command', options: {} },
};

/** Help for one command, or for cairnctl itself when `name` is undefined. */
export function helpText(name?: string): string {
  const all: Record<string, CommandSpec> = { ...COMMANDS };
  for (const [n, command] of Object.entries(RECIPE_COMMANDS)) all[n] = command.spec;
  const spec = name === undefined ? undefined : all[name];
  if (spec === undefined) {
    const width = Math.max(...Object.keys(all).map((n) => n.length)) + 2;
    const lines = Object.entries(all).map(([n, s]) => `  ${n.padEnd(width)}${s.summary}`);
    return ['Usage: cairnctl [global options] <command> [options] [args]', '', 'Commands:', ...lines, '',
      'Global options:', ...optionLines(GLOBAL_OPTIONS), '', "Run 'cairnctl <command> --help' for a command's options."].join('\n');
  }
  const parts = [`Usage: cairnctl ${spec.usage}`, '', spec.summary];
  if (spec.subcommands !== undefined) parts.push('', ...Object.values(spec.subcommands).map((l) => `  cairnctl ${l}`));
  if (Object.keys(spec.options).length > 0) parts.push('', 'Options:', ...optionLines(spec.options));
  parts.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  return parts.join('\n');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const names = Object.entries(options).map(([name, o]) => {
    const long = name.length === 1 ? `-${name}` : `${o.short === undefined ? '' : `-${o.short}, `}--${name}`;
    return [long + (o.value === undefined ? '' : ` ${o.value}`), o.help] as const;
  });
  const width = Math.max(...names.map(([n]) => n.length)) + 2;
  return names.map(([n, help]) => `  ${n.padEnd(width)}${help}`);
}
