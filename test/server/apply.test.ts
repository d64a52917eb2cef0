// The apply pipeline's waiters: what was pending when the leader changed fails at once
// (proposals 302, reads without an index 301), and nothing that came after it.
import t from 'tap';
import { ApplyPipeline } from '../../server/apply.js';
import { MemberError } from '../../server/errors.js';

const quiet = { log: (): void => {} };
const timeout = (): MemberError => new MemberError(302, 'deadline', true);

t.test('failStale fails only what was waiting at the leader change', async (t) => {
  const apply = new ApplyPipeline('m1', quiet, 10);
  const before = apply.waitForApply('p1', 10_000, timeout);
  const read = apply.waitForRead('r1', 10_000, timeout);
  const readWithIndex = apply.waitForRead('r2', 10_000, timeout);
  apply.completeReads([{ index: 5, context: 'r2' }]); // its index is known: it will complete
  const stale = apply.pendingIds();
  t.same(stale, { proposals: ['p1'], reads: ['r1'] });
  const after = apply.waitForApply('p2', 50, () => new MemberError(302, 'p2 deadline', true));
  apply.failStale(stale, () => new MemberError(302, 'leader changed', true), () => new MemberError(301, 'read again', true));
  await t.rejects(before, { code: 302, message: 'leader changed' });
  await t.rejects(read, { code: 301 });
  await t.rejects(after, { message: 'p2 deadline' }, 'a proposal made after the change waits for its own outcome');
  apply.failAll(new MemberError(300, 'stopping', true));
  await t.rejects(readWithIndex, { code: 300 }, 'the read with a known index was left alone until the stop');
});
