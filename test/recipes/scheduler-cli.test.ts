// cairnctl's scheduler commands as pure argument checks: job submit's spec from a command or
// JSON, labels, numbers, and the usage errors people get.
import t from 'tap';
import { commands, parseLabels, submitOptions } from '../../clients/cairnctl/recipes/scheduler.js';
import type { RecipeArgs } from '../../clients/cairnctl/recipe-command.js';

const args = (positionals: string[], values: Record<string, string | boolean> = {}, tail: string[] = []): RecipeArgs =>
  ({ positionals, values, tail, globals: { endpoints: [], output: 'simple', timeoutMs: 1000 } });

t.test('job submit builds the spec and options', async (t) => {
  t.same(submitOptions(args(['submit'], { id: 'b1', labels: 'role=web,zone=a', priority: '5', 'max-attempts': '2', 'at-most-once': true }, ['tar', 'czf', 'x'])), {
    spec: { command: ['tar', 'czf', 'x'] },
    options: { job: 'b1', labels: { role: 'web', zone: 'a' }, priority: 5, maxAttempts: 2, delivery: 'at-most-once' },
  });
  t.same(submitOptions(args(['submit'], { spec: '{"a":1}', machine: 'm1' })), { spec: { a: 1 }, options: { machine: 'm1' } });
  t.throws(() => submitOptions(args(['submit'])), /either --spec JSON or a command after --/);
  t.throws(() => submitOptions(args(['submit'], { spec: '{' })), /not JSON/);
  t.throws(() => parseLabels('role'), /not name=value/);
});

t.test('usage errors', async (t) => {
  const check = (name: string, a: RecipeArgs): void => commands[name]?.check?.(a);
  t.throws(() => check('job', args([])), /missing subcommand/);
  t.throws(() => check('job', args(['get'])), /needs one job id/);
  t.throws(() => check('job', args(['list'], { state: 'done' })), /not one of pending/);
  t.throws(() => check('agent', args([])), /--machine ID is required/);
  t.throws(() => check('agent', args([], { machine: 'a', capacity: '0' })), /--capacity/);
  t.throws(() => check('machine', args(['rm'])), /machine list/);
  t.doesNotThrow(() => check('job', args(['submit'], {}, ['true'])));
  t.doesNotThrow(() => check('agent', args([], { machine: 'a', labels: 'x=1', ttl: '5' })));
});
