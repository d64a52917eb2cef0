// cairnctl commands of the discovery recipe: `service register` (keeps the registration
// alive until the command is stopped), `service list` (one service's instances, or the
// service names) and `service watch` (the instance list after every change).
import type { CairnClient } from '../../client.js';
import {
  listServiceInstances, listServices, registerService, SERVICE_STATUSES, watchService,
} from '../../recipes/discovery.js';
import type { ServiceInstance, ServiceInstanceStatus } from '../../recipes/discovery.js';
import type { OutputFormat } from '../parse.js';
import { CliUsageError } from '../recipe-command.js';
import type { RecipeArgs, RecipeCommand } from '../recipe-command.js';
import type { CliIo } from '../run.js';

const SUBCOMMANDS = ['register', 'list', 'watch'] as const;

/** The status option, checked against the recipe's list. */
function statusOf(args: RecipeArgs): ServiceInstanceStatus | undefined {
  const status = args.values['status'];
  if (typeof status !== 'string') return undefined;
  if (!(SERVICE_STATUSES as readonly string[]).includes(status)) {
    throw new CliUsageError(`--status must be one of ${SERVICE_STATUSES.join(', ')}, not "${status}"`);
  }
  return status as ServiceInstanceStatus;
}

function ttlOf(args: RecipeArgs): number | undefined {
  const ttl = args.values['ttl'];
  if (typeof ttl !== 'string') return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(ttl)) throw new CliUsageError(`--ttl must be a whole number of seconds from 1 to 86400, not "${ttl}"`);
  return Number(ttl);
}

/** `--meta zone=a,rack=7` → {zone: 'a', rack: '7'}. */
export function parseServiceMeta(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text === '') return undefined;
  const meta: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--meta takes key=value pairs separated by commas, e.g. zone=a,rack=7; "${pair}" has no key=`);
    meta[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return meta;
}

function check(args: RecipeArgs): void {
  const [sub, ...rest] = args.positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new CliUsageError(`service takes a subcommand: ${SUBCOMMANDS.join(', ')}`);
  }
  const wanted = { register: [3, 3], list: [0, 1], watch: [1, 1] }[sub as (typeof SUBCOMMANDS)[number]];
  if (rest.length < wanted[0] || rest.length > wanted[1]) {
    const shape = { register: '<service> <instance> <endpoint>', list: '[<service>]', watch: '<service>' }[sub as (typeof SUBCOMMANDS)[number]];
    throw new CliUsageError(`service ${sub} takes ${shape}`);
  }
  statusOf(args);
  ttlOf(args);
  parseServiceMeta(args.values['meta'] as string | undefined);
}

/** One instance as a line: name, endpoint, status, then its meta as k=v. */
export function formatServiceInstance(i: ServiceInstance): string {
  const meta = Object.entries(i.meta).map(([k, v]) => `${k}=${v}`).join(',');
  return [i.instance, i.endpoint, i.status, ...(meta === '' ? [] : [meta])].join(' ');
}

function printInstances(io: CliIo, output: OutputFormat, result: { instances: ServiceInstance[]; index: number }): void {
  if (output === 'json') return io.out(JSON.stringify(result));
  if (output === 'extended') io.out(`index: ${result.index}`);
  for (const i of result.instances) io.out(formatServiceInstance(i));
}

/** Resolves when the command should stop (io.signal aborts); never without one (killed instead). */
const stopped = (io: CliIo): Promise<void> => new Promise((resolve) => {
  if (io.signal === undefined) return;
  if (io.signal.aborted) return resolve();
  io.signal.addEventListener('abort', () => resolve(), { once: true });
});

async function register(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const [, service, instance, endpoint] = args.positionals as [string, string, string, string];
  const status = statusOf(args);
  const ttl = ttlOf(args);
  const meta = parseServiceMeta(args.values['meta'] as string | undefined);
  const json = args.globals.output === 'json';
  const registration = await registerService(client, {
    service, instance, endpoint,
    ...(status === undefined ? {} : { status }), ...(ttl === undefined ? {} : { ttl }), ...(meta === undefined ? {} : { meta }),
    onRegistered: (i) => io.out(json ? JSON.stringify({ registered: i }) : `registered ${formatServiceInstance(i)} (registeredIndex ${i.registeredIndex})`),
    onError: (e) => io.err(`service register: ${(e as Error).message} (retrying)`),
  });
  await stopped(io);
  await registration.deregister();
  io.out(json ? JSON.stringify({ deregistered: registration.instance }) : `deregistered ${instance} of ${service}`);
  return 0;
}

async function list(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const service = args.positionals[1];
  if (service === undefined) {
    const names = await listServices(client);
    if (args.globals.output === 'json') io.out(JSON.stringify({ services: names }));
    else for (const n of names) io.out(n);
    return 0;
  }
  printInstances(io, args.globals.output, await listServiceInstances(client, service, statusOf(args)));
  return 0;
}

async function watch(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number> {
  const service = args.positionals[1] as string;
  const updates = watchService(client, service, io.signal === undefined ? {} : { signal: io.signal });
  for await (const update of updates) {
    if (args.globals.output === 'json') io.out(JSON.stringify(update));
    else {
      io.out(`# index ${update.index}: ${update.instances.length} instance${update.instances.length === 1 ? '' : 's'}`);
      for (const i of update.instances) io.out(formatServiceInstance(i));
    }
  }
  return 0;
}

const service: RecipeCommand = {
  spec: {
    usage: 'service <register <service> <instance> <endpoint> | list [<service>] | watch <service>>',
    summary: 'register a service instance and keep it alive, list instances or services, watch a service',
    options: {
      meta: { type: 'string', value: 'K=V,...', help: 'register: metadata as comma-separated key=value pairs' },
      status: { type: 'string', value: 'STATUS', help: 'register: initial status; list: only instances in it (passing, warning, critical, maintenance)' },
      ttl: { type: 'string', value: 'SECONDS', help: 'register: seconds the registration outlives its last heartbeat (default 10)' },
    },
    subcommands: {
      register: 'service register <service> <instance> <endpoint>   register and heartbeat until stopped, then deregister',
      list: 'service list [<service>]                          the instances of a service, or every service name',
      watch: 'service watch <service>                           print the instance list now and after every change',
    },
  },
  check,
  run: async (client, args, io) => {
    const sub = args.positionals[0];
    if (sub === 'register') return register(client, args, io);
    if (sub === 'list') return list(client, args, io);
    return watch(client, args, io);
  },
};

export const commands: Readonly<Record<string, RecipeCommand>> = { service };
