// cairnctl's thin runner: carries out a Plan from parse.ts with the client library and
// prints what format.ts makes of the result. Output, environment and the command runner
// of exec-watch are passed in, so tests can run it in-process against a mock member.
import { spawn } from 'node:child_process';
import { connect } from '../client.js';
import type { CairnClient } from '../client.js';
import { expectKvResult } from '../validate.js';
import {
  formatError, formatHealth, formatKv, formatMemberAdded, formatMemberRemoved, formatMembers,
  formatResponse, formatStatus, watchEnv,
} from './format.js';
import type { HealthReport, Output, StatusReport } from './format.js';
import { parseCommand } from './parse.js';
import { RECIPE_COMMANDS } from './recipes.js';
import type { Command, Globals } from './parse.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Ends watch and exec-watch (which otherwise run until killed) with exit code 0. */
  signal?: AbortSignal;
  /** Runs exec-watch's command once; the default spawns it with inherited stdio. */
  exec?(command: string, args: readonly string[], env: Record<string, string>): Promise<void>;
}

/** Runs one cairnctl command line; resolves with the exit code (0, 1 failure, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const plan = parseCommand(argv, io.env);
  switch (plan.kind) {
    case 'help':
      io.out(plan.text);
      return 0;
    case 'usage-error':
      io.err(`Error: ${plan.message}`);
      io.err(plan.usage);
      return 2;
    case 'run':
      try {
        return await execute(plan.globals, plan.command, io);
      } catch (error) {
        io.err(formatError(error));
        return 1;
      }
  }
}

function emit(io: CliIo, output: Output): number {
  for (const line of output.stdout) io.out(line);
  for (const line of output.stderr) io.err(line);
  return output.exitCode;
}

async function execute(globals: Globals, command: Command, io: CliIo): Promise<number> {
  if (command.kind === 'endpoint-health') return emit(io, formatHealth(await checkHealth(globals), globals.output));
  if (command.kind === 'endpoint-status') return emit(io, formatStatus(await statusEach(globals), globals.output));
  const client = await connectTo(globals.endpoints, globals);
  try {
    return await withClient(client, globals, command, io);
  } finally {
    client.close();
  }
}

const connectTo = (endpoints: string[], globals: Globals, maxRetries?: number): Promise<CairnClient> =>
  connect({
    endpoints,
    requestTimeoutMs: globals.timeoutMs,
    connectTimeoutMs: Math.min(globals.timeoutMs, 2_000),
    ...(maxRetries === undefined ? {} : { maxRetries }),
  });

async function withClient(client: CairnClient, globals: Globals, command: Command, io: CliIo): Promise<number> {
  const print = (lines: string[]): number => emit(io, { stdout: lines, stderr: [], exitCode: 0 });
  switch (command.kind) {
    case 'kv': {
      const { method, params } = command.call;
      const result = expectKvResult(method, await client.call(method, params));
      return emit(io, formatKv(result, command.print, globals.output));
    }
    case 'watch':
    case 'exec-watch':
      return watchLoop(client, globals, command, io);
    case 'member-list':
      return print(formatMembers(await client.members(), globals.output));
    case 'member-add': {
      const result = await client.addMember([command.peerUrl], command.name);
      return print(formatMemberAdded(result, command.name, globals.output));
    }
    case 'member-remove':
      return print(formatMemberRemoved(command.id, await client.removeMember(command.id), globals.output));
    case 'recipe': {
      const recipe = RECIPE_COMMANDS[command.name];
      if (recipe === undefined) throw new Error(`unreachable: no recipe command ${command.name}`);
      return recipe.run(client, { values: command.values, positionals: command.positionals, tail: command.tail, globals }, io);
    }
    default:
      throw new Error(`unreachable: ${command.kind}`);
  }
}

type WatchCommand = Extract<Command, { kind: 'watch' | 'exec-watch' }>;

/** watch prints the next change (all of them with --forever); exec-watch runs a command. */
async function watchLoop(client: CairnClient, globals: Globals, command: WatchCommand, io: CliIo): Promise<number> {
  const options = {
    recursive: command.recursive,
    ...(command.waitIndex === undefined ? {} : { waitIndex: command.waitIndex }),
    ...(io.signal === undefined ? {} : { signal: io.signal }),
  };
  const watch = client.watch(command.key, options);
  try {
    for await (const event of watch) {
      if (command.kind === 'watch') {
        for (const line of formatResponse(event, globals.output)) io.out(line);
        if (!command.forever) return 0;
      } else {
        await (io.exec ?? spawnCommand)(command.command, command.args, watchEnv(event));
      }
    }
  } catch (error) {
    if (io.signal?.aborted === true) return 0;
    throw error;
  }
  return 0;
}

/** Runs the command to completion, so events are handled one at a time and in order. */
function spawnCommand(command: string, args: readonly string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

async function checkHealth(globals: Globals): Promise<HealthReport[]> {
  return Promise.all(globals.endpoints.map(async (endpoint): Promise<HealthReport> => {
    const startedMs = Date.now();
    try {
      const response = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(globals.timeoutMs) });
      const body = (await response.json()) as { health?: unknown };
      const healthy = response.ok && String(body.health) === 'true';
      const report = { endpoint, healthy, tookMs: Date.now() - startedMs };
      return healthy ? report : { ...report, error: `HTTP ${response.status} ${JSON.stringify(body)}` };
    } catch (error) {
      return { endpoint, healthy: false, tookMs: Date.now() - startedMs, error: (error as Error).message };
    }
  }));
}

/** cluster.status as each endpoint's own member answers it (no failover to another). */
async function statusEach(globals: Globals): Promise<StatusReport[]> {
  return Promise.all(globals.endpoints.map(async (endpoint): Promise<StatusReport> => {
    let client: CairnClient | undefined;
    try {
      client = await connectTo([endpoint], globals, 0);
      return { endpoint, status: await client.status() };
    } catch (error) {
      return { endpoint, error };
    } finally {
      client?.close();
    }
  }));
}
