// Each fault kind for a few seconds on three real members (kill -9 and restart; SIGSTOP and
// SIGCONT; partitions and one-way cuts through the peer proxy): the faults are injected, the
// run finds no violation (final state, and linearizability by test/linearizability's
// checker), something succeeded, and every member is stopped afterwards. The kill run also
// runs the recipe workload (--recipes): semaphore, election and jobs stay safe.
import t from 'tap';
import { runJepsen } from './runner.js';
import type { FaultKind } from './schedule.js';

const cases: Array<[FaultKind, number, boolean]> = [['kill', 1, true], ['pause', 4, false], ['partition', 3, false]];

for (const [fault, seed, recipes] of cases) {
  t.test(`${fault}: no violation${recipes ? ' (with recipes)' : ''}`, { timeout: 60_000 }, async (t) => {
    const result = await runJepsen({ nodes: 3, durationMs: 8_000, faults: [fault], seed, tailMs: 1_500, checkBudgetMs: 3_000, recipes });
    t.comment(result.summary);
    t.ok(result.faults.length >= 2, 'faults were injected');
    t.same(result.violations, [], 'no violation');
    t.ok(result.availability > 0, 'some operation succeeded');
    t.ok(result.ops.some((op) => op.input.kind !== 'get' && op.output.status === 'ok'), 'some write was acknowledged');
    t.ok(result.linearizability.ok, 'linearizable');
    if (recipes) {
      const r = result.recipes;
      t.ok(r !== undefined && r.semaphore.grants > 0 && r.election.grants > 0 && r.jobs.grants > 0, 'every recipe granted something');
      t.match(result.summary, /recipes safe: yes/, 'recipes safe');
    }
  });
}
