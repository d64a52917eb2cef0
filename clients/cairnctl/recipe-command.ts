// How a recipe adds commands to cairnctl (lock, reboot, elect, agent, job, machine, service):
// a spec for parsing and help, a pure check of the arguments, and a runner that gets a
// connected client. Each recipe's commands live in clients/cairnctl/recipes/<recipe>.ts.
import type { CairnClient } from '../client.js';
import type { CommandSpec } from './commands.js';
import type { Globals } from './parse.js';
import type { CliIo } from './run.js';

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface RecipeArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** The words after `--` (the command to run), when the spec takes one. */
  readonly tail: readonly string[];
  readonly globals: Globals;
}

export interface RecipeCommand {
  readonly spec: CommandSpec;
  /** Everything after `--` is a command to run (reboot, elect, agent …). */
  readonly takesCommand?: boolean;
  /** Checks the arguments without I/O; throws CliUsageError for a usage error (exit 2). */
  check?(args: RecipeArgs): void;
  /** Runs it; resolves with the exit code. Long-running commands end when io.signal aborts. */
  run(client: CairnClient, args: RecipeArgs, io: CliIo): Promise<number>;
}

/** A usage error from a recipe command: cairnctl prints it with the usage line, exit 2. */
export class CliUsageError extends Error {}
