// Unit tests for Progress (core/raft/progress.ts), the leader's view of one follower
// (etcd tracker/progress_test.go and raft_test.go: TestProgressUpdate, TestProgressMaybeDecr,
// TestProgressIsPaused, TestProgressBecomeProbe, TestProgressBecomeReplicate,
// TestProgressBecomeSnapshot, TestProgressFlowControl).
import t from 'tap';
import { Progress } from '../../core/raft/progress.js';
import type { ProgressState } from '../../core/raft/progress.js';

function progress(state: ProgressState, match: number, next: number, maxMsgs = 256, maxBytes = 0): Progress {
  const p = new Progress(match, next, false, maxMsgs, maxBytes);
  if (state === 'replicate') {
    p.becomeReplicate();
    p.next = next;
  } else if (state === 'snapshot') {
    p.becomeSnapshot(next - 1);
  }
  return p;
}

t.test('the invariant 0 <= match < next is enforced', async (t) => {
  t.throws(() => new Progress(5, 5, false, 1, 0), /invariant/);
  t.throws(() => new Progress(-1, 1, false, 1, 0), /invariant/);
  t.doesNotThrow(() => new Progress(0, 1, false, 1, 0));
});

t.test('a new progress starts in probe, not paused', async (t) => {
  const p = new Progress(0, 1, false, 4, 0);
  t.equal(p.state, 'probe');
  t.equal(p.isPaused(), false);
});

t.test('maybeUpdate raises match and next, never lowers them (TestProgressUpdate)', async (t) => {
  const cases: [number, number, boolean][] = [
    // [update index, want match, want updated]
    [2, 3, false], // below match: no change
    [3, 3, false], // equal to match: no change
    [4, 4, true],
    [6, 6, true],
  ];
  for (const [index, wantMatch, wantUpdated] of cases) {
    const p = new Progress(3, 5, false, 4, 0);
    t.equal(p.maybeUpdate(index), wantUpdated, `update(${index}) result`);
    t.equal(p.match, wantMatch, `update(${index}) match`);
    t.equal(p.next, Math.max(5, index + 1), `update(${index}) next`);
  }
});

t.test('maybeDecrTo in replicate: only a rejection above match counts; next falls back to match+1 (TestProgressMaybeDecr)', async (t) => {
  let p = progress('replicate', 5, 10);
  t.equal(p.maybeDecrTo(5, 5), false, 'rejection at match is stale');
  t.equal(p.next, 10);
  t.equal(p.maybeDecrTo(4, 4), false, 'rejection below match is stale');
  t.equal(p.next, 10);
  p = progress('replicate', 5, 10);
  t.equal(p.maybeDecrTo(9, 9), true);
  t.equal(p.next, 6);
});

t.test('maybeDecrTo in probe: only the reply to next-1 counts; uses the hint, never below match+1', async (t) => {
  const cases: { match: number; next: number; rejected: number; hint: number; ok: boolean; want: number }[] = [
    { match: 0, next: 10, rejected: 5, hint: 5, ok: false, want: 10 }, // not the probe we sent
    { match: 0, next: 10, rejected: 9, hint: 9, ok: true, want: 9 },
    { match: 0, next: 10, rejected: 9, hint: 2, ok: true, want: 3 }, // hint skips back
    { match: 0, next: 10, rejected: 9, hint: 0, ok: true, want: 1 },
    { match: 0, next: 10, rejected: 9, hint: 20, ok: true, want: 9 }, // hint above rejected ignored
    { match: 5, next: 10, rejected: 9, hint: 1, ok: true, want: 6 }, // never below match+1
    { match: 0, next: 1, rejected: 0, hint: 0, ok: true, want: 1 },
  ];
  for (const c of cases) {
    const p = progress('probe', c.match, c.next);
    p.sentEntries(c.next, 1, 1);
    t.equal(p.isPaused(), true, 'the probe with an entry pauses the stream');
    t.equal(p.maybeDecrTo(c.rejected, c.hint), c.ok, `${JSON.stringify(c)} result`);
    if (!c.ok) t.equal(p.isPaused(), true, 'a stale rejection leaves it paused');
    t.equal(p.next, c.want, `${JSON.stringify(c)} next`);
    if (c.ok) t.equal(p.msgAppFlowPaused, false, 'a real rejection unpauses the probe');
  }
});

t.test('isPaused by state (TestProgressIsPaused)', async (t) => {
  const probe = progress('probe', 0, 1);
  t.equal(probe.isPaused(), false);
  probe.sentEntries(1, 10, 1);
  t.equal(probe.isPaused(), true, 'probe pauses after one append');
  t.equal(probe.next, 1, 'probe does not advance next on send');
  probe.maybeUpdate(1);
  t.equal(probe.isPaused(), false, 'a successful reply unpauses');

  const repl = progress('replicate', 0, 1, 2);
  t.equal(repl.isPaused(), false);
  repl.sentEntries(3, 10, 3);
  t.equal(repl.next, 4, 'replicate advances next on send (optimistic)');
  t.equal(repl.isPaused(), false);
  repl.sentEntries(5, 10, 2);
  t.equal(repl.isPaused(), true, 'window of 2 messages is full');
  repl.inflights.freeLE(3);
  t.equal(repl.isPaused(), false);

  const snap = progress('snapshot', 0, 1);
  t.equal(snap.isPaused(), true, 'snapshot state always paused');
});

t.test('an empty append (commit news) does not pause a probing follower', async (t) => {
  const p = progress('probe', 2, 3);
  p.sentEntries(2, 0, 0);
  t.equal(p.isPaused(), false);
});

t.test('replicate: a full window pauses until the flag is cleared (a heartbeat reply) or acks free it', async (t) => {
  const p = progress('replicate', 0, 1, 2);
  p.sentEntries(1, 1, 1);
  p.sentEntries(2, 1, 1);
  t.equal(p.isPaused(), true, 'window of 2 full');
  p.msgAppFlowPaused = false; // what the leader does on a heartbeat response
  t.equal(p.isPaused(), false, 'one (empty) append may probe through the full window');
  t.equal(p.inflights.full(), true, 'the window itself is unchanged');
});

t.test('sentEntries without entries (an empty append) does not use the window', async (t) => {
  const p = progress('replicate', 3, 4, 1);
  p.sentEntries(3, 0, 0);
  t.equal(p.inflights.count(), 0);
  t.equal(p.next, 4);
  t.equal(p.isPaused(), false);
});

t.test('becomeProbe from replicate restarts at match+1; from snapshot at max(match, pending)+1 (TestProgressBecomeProbe)', async (t) => {
  const r = progress('replicate', 1, 5);
  r.sentEntries(7, 1, 1);
  r.becomeProbe();
  t.equal(r.state, 'probe');
  t.equal(r.next, 2);
  t.equal(r.inflights.count(), 0, 'probe resets the window');

  const s1 = new Progress(1, 5, false, 4, 0);
  s1.becomeSnapshot(10);
  s1.becomeProbe();
  t.equal(s1.next, 11, 'resumes after the snapshot');

  const s2 = new Progress(20, 21, false, 4, 0);
  s2.becomeSnapshot(10);
  s2.becomeProbe();
  t.equal(s2.next, 21, 'resumes after match when it is further along');
});

t.test('becomeReplicate sets next = match+1 (TestProgressBecomeReplicate)', async (t) => {
  const p = new Progress(1, 5, false, 4, 0);
  p.becomeReplicate();
  t.equal(p.state, 'replicate');
  t.equal(p.match, 1);
  t.equal(p.next, 2);
});

t.test('becomeSnapshot records the pending snapshot (TestProgressBecomeSnapshot)', async (t) => {
  const p = new Progress(1, 5, false, 4, 0);
  p.becomeSnapshot(10);
  t.equal(p.state, 'snapshot');
  t.equal(p.match, 1);
  t.equal(p.pendingSnapshot, 10);
  t.equal(p.next, 11);
  t.equal(p.isPaused(), true);
});

t.test('flow control: window of 3 messages fills and frees by acknowledgement (TestProgressFlowControl)', async (t) => {
  const p = progress('replicate', 0, 1, 3, 0);
  for (let i = 1; i <= 3; i++) {
    t.equal(p.isPaused(), false, `can send message ${i}`);
    p.sentEntries(i * 2, 100, 2);
  }
  t.equal(p.isPaused(), true);
  t.equal(p.next, 7);
  t.equal(p.maybeUpdate(4), true);
  p.inflights.freeLE(4);
  t.equal(p.inflights.count(), 1);
  t.equal(p.isPaused(), false);
});

t.test('flow control by bytes (maxInflightBytes)', async (t) => {
  const p = progress('replicate', 0, 1, 100, 250);
  p.sentEntries(1, 100, 1);
  p.sentEntries(2, 100, 1);
  t.equal(p.isPaused(), false);
  p.sentEntries(3, 100, 1);
  t.equal(p.isPaused(), true, '300 bytes >= 250');
  p.inflights.freeLE(1);
  t.equal(p.isPaused(), false);
});
