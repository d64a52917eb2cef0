// The safety oracle. The cluster reports what it observes after every simulation step, and
// the checker keeps just enough global history to prove the Raft invariants (paper Figure 3
// plus commit monotonicity, apply order and ReadIndex linearizability) over the whole run,
// across crashes. It never looks inside the core: it sees only what a member exposes, so a
// test can feed it a fabricated history and watch it fail.
import type { Index, NodeId, StateRole, Term } from '../../core/raft/index.js';
import { hex } from './hash.js';

export type Invariant =
  | 'Election Safety'
  | 'Log Matching'
  | 'Leader Completeness'
  | 'State Machine Safety'
  | 'Commit Monotonicity'
  | 'Apply Order'
  | 'ReadIndex Linearizability'
  | 'Liveness'
  | 'Bounded Run'
  | 'Exception';

export interface Violation {
  readonly seed: number;
  readonly step: number;
  readonly time: number;
  readonly invariant: Invariant;
  readonly members: readonly NodeId[];
  readonly detail: string;
}

/** The part of the core's LogView the checker reads (LogView satisfies it). */
export interface LogProbe {
  readonly lastIndex: Index;
  readonly committed: Index;
  readonly snapshotIndex: Index;
  readonly snapshotTerm: Term;
  term(index: Index): Term | undefined;
}

export interface MemberObservation {
  readonly id: NodeId;
  /** Bumped at every restart: per-incarnation invariants restart with it. */
  readonly incarnation: number;
  readonly term: Term;
  readonly role: StateRole;
  readonly log: LogProbe;
}

/** A log entry as the checker identifies it: position plus a hash of term, type and data. */
export interface EntryId {
  readonly index: Index;
  readonly term: Term;
  readonly hash: number;
}

interface LogPoint {
  readonly hash: number;
  readonly prevTerm: Term;
}

interface Incarnation {
  incarnation: number;
  commit: Index;
  applied: Index;
  /** The term this incarnation last led in (to see "becomes leader" transitions). */
  ledTerm: Term;
}

const MAX_VIOLATIONS = 20;

export class Checker {
  readonly violations: Violation[] = [];
  step = 0;
  time = 0;
  /** Highest index any member ever knew committed. */
  maxCommitted: Index = 0;

  private readonly leaderOfTerm = new Map<Term, NodeId>();
  /** (index, term) → what that entry is and the term before it: Log Matching by induction. */
  private readonly logPoints = new Map<string, LogPoint>();
  /** index → term of the entry known committed there. */
  private readonly committedTerm = new Map<Index, Term>();
  private readonly appliedHash = new Map<Index, { hash: number; by: NodeId }>();
  private readonly appliedDigest = new Map<Index, { digest: number; by: NodeId }>();
  private readonly members = new Map<NodeId, Incarnation>();
  /** Read context → the commit index every write acknowledged before it forces. */
  private readonly readFloor = new Map<string, Index>();

  constructor(readonly seed: number) {}

  ok(): boolean {
    return this.violations.length === 0;
  }

  beginStep(time: number): void {
    this.step++;
    this.time = time;
  }

  fail(invariant: Invariant, members: readonly NodeId[], detail: string): void {
    if (this.violations.length >= MAX_VIOLATIONS) return;
    const sorted = [...new Set(members)].sort();
    this.violations.push({ seed: this.seed, step: this.step, time: this.time, invariant, members: sorted, detail });
  }

  /** A member (re)started: commit and apply restart from what it loaded from disk. */
  observeRestart(obs: MemberObservation, applied: Index): void {
    this.members.set(obs.id, { incarnation: obs.incarnation, commit: obs.log.snapshotIndex, applied, ledTerm: 0 });
    this.observeMember(obs);
  }

  /** Called after every step for each member the step touched. */
  observeMember(obs: MemberObservation): void {
    const inc = this.incarnationOf(obs);
    this.checkElection(obs, inc);
    this.checkCommit(obs, inc);
  }

  private incarnationOf(obs: MemberObservation): Incarnation {
    let inc = this.members.get(obs.id);
    if (inc === undefined || inc.incarnation !== obs.incarnation) {
      inc = { incarnation: obs.incarnation, commit: obs.log.snapshotIndex, applied: obs.log.snapshotIndex, ledTerm: 0 };
      this.members.set(obs.id, inc);
    }
    return inc;
  }

  /** Election Safety, and Leader Completeness at the moment a member becomes leader. */
  private checkElection(obs: MemberObservation, inc: Incarnation): void {
    if (obs.role !== 'leader') return;
    const known = this.leaderOfTerm.get(obs.term);
    if (known === undefined) this.leaderOfTerm.set(obs.term, obs.id);
    else if (known !== obs.id) {
      this.fail('Election Safety', [known, obs.id], `two leaders in term ${obs.term}: ${known} and ${obs.id}`);
    }
    if (inc.ledTerm !== obs.term) {
      inc.ledTerm = obs.term;
      this.checkLeaderCompleteness(obs);
    }
  }

  private checkLeaderCompleteness(obs: MemberObservation): void {
    const log = obs.log;
    if (log.lastIndex < this.maxCommitted) {
      this.fail('Leader Completeness', [obs.id],
        `${obs.id} leads term ${obs.term} with last index ${log.lastIndex} < committed ${this.maxCommitted}`);
      return;
    }
    for (let i = Math.max(1, log.snapshotIndex); i <= this.maxCommitted; i++) {
      const want = this.committedTerm.get(i);
      const have = i === log.snapshotIndex ? log.snapshotTerm : log.term(i);
      if (want !== undefined && have !== want) {
        this.fail('Leader Completeness', [obs.id],
          `${obs.id} leads term ${obs.term} but has term ${String(have)} at committed index ${i} (committed term ${want})`);
        return;
      }
    }
  }

  /** Commit never moves back within an incarnation, never passes the log, never changes. */
  private checkCommit(obs: MemberObservation, inc: Incarnation): void {
    const { committed, lastIndex } = obs.log;
    if (committed < inc.commit) {
      this.fail('Commit Monotonicity', [obs.id], `${obs.id} commit went back from ${inc.commit} to ${committed}`);
    }
    if (committed > lastIndex) {
      this.fail('Commit Monotonicity', [obs.id], `${obs.id} commit ${committed} is beyond its last index ${lastIndex}`);
    }
    for (let i = Math.max(inc.commit, obs.log.snapshotIndex) + 1; i <= Math.min(committed, lastIndex); i++) {
      this.recordCommitted(obs, i);
    }
    inc.commit = Math.max(inc.commit, committed);
    this.maxCommitted = Math.max(this.maxCommitted, committed);
  }

  private recordCommitted(obs: MemberObservation, index: Index): void {
    const term = obs.log.term(index);
    if (term === undefined) return;
    const known = this.committedTerm.get(index);
    if (known === undefined) this.committedTerm.set(index, term);
    else if (known !== term) {
      this.fail('State Machine Safety', [obs.id],
        `${obs.id} commits term ${term} at index ${index}, where term ${known} was committed before`);
    }
  }

  /** Log Matching, by induction over (index, term) → (entry, previous term). */
  observeEntries(id: NodeId, entries: readonly EntryId[], prevTerm: Term | undefined): void {
    let prev = prevTerm;
    let prevIndex = entries.length > 0 ? entries[0]!.index - 1 : 0;
    for (const e of entries) {
      if (e.index !== prevIndex + 1) {
        this.fail('Log Matching', [id], `${id} was handed non-contiguous entries: ${e.index} after ${prevIndex}`);
        return;
      }
      if (prev === undefined) {
        this.fail('Log Matching', [id], `${id} appended ${e.index}/${e.term} after an unknown term at ${prevIndex}`);
        return;
      }
      this.checkLogPoint(id, e, prev);
      prev = e.term;
      prevIndex = e.index;
    }
  }

  private checkLogPoint(id: NodeId, e: EntryId, prevTerm: Term): void {
    const key = `${e.index}/${e.term}`;
    const known = this.logPoints.get(key);
    if (known === undefined) {
      this.logPoints.set(key, { hash: e.hash, prevTerm });
      return;
    }
    if (known.hash !== e.hash) {
      this.fail('Log Matching', [id], `${id} holds a different entry at ${key} (hash ${hex(e.hash)} vs ${hex(known.hash)})`);
    } else if (known.prevTerm !== prevTerm) {
      this.fail('Log Matching', [id],
        `${id} holds ${key} after term ${prevTerm} at ${e.index - 1}; another log has it after term ${known.prevTerm}`);
    }
  }

  /** State Machine Safety and apply order: one entry per index, applied once, in order. */
  observeApply(id: NodeId, incarnation: number, index: Index, hash: number, digest: number): void {
    const inc = this.members.get(id);
    if (inc !== undefined && inc.incarnation === incarnation) {
      if (index !== inc.applied + 1) {
        this.fail('Apply Order', [id], `${id} applied index ${index} right after ${inc.applied}`);
      }
      inc.applied = index;
    }
    const known = this.appliedHash.get(index);
    if (known === undefined) this.appliedHash.set(index, { hash, by: id });
    else if (known.hash !== hash) {
      this.fail('State Machine Safety', [id, known.by],
        `${id} applied entry ${hex(hash)} at index ${index}; ${known.by} applied ${hex(known.hash)}`);
    }
    this.checkDigest(id, index, digest);
  }

  /** A state-machine snapshot was installed: its digest must match what others applied. */
  observeSnapshotInstalled(id: NodeId, incarnation: number, index: Index, digest: number): void {
    const inc = this.members.get(id);
    if (inc !== undefined && inc.incarnation === incarnation) {
      if (index < inc.applied) {
        this.fail('Apply Order', [id], `${id} installed a snapshot at ${index}, behind its applied index ${inc.applied}`);
      }
      inc.applied = index;
    }
    this.checkDigest(id, index, digest);
  }

  private checkDigest(id: NodeId, index: Index, digest: number): void {
    const known = this.appliedDigest.get(index);
    if (known === undefined) this.appliedDigest.set(index, { digest, by: id });
    else if (known.digest !== digest) {
      this.fail('State Machine Safety', [id, known.by],
        `${id} has state digest ${hex(digest)} at index ${index}; ${known.by} had ${hex(known.digest)}`);
    }
  }

  /** A read was issued: it must see every write committed anywhere so far. */
  observeReadIssued(context: string): void {
    this.readFloor.set(context, this.maxCommitted);
  }

  /** A read completed (its ReadState arrived and was served at `index`). */
  observeReadServed(id: NodeId, context: string, index: Index): void {
    const floor = this.readFloor.get(context);
    if (floor === undefined) return; // a duplicate reply for a read already served
    this.readFloor.delete(context);
    if (index < floor) {
      this.fail('ReadIndex Linearizability', [id],
        `read ${context} on ${id} was served at index ${index}, but ${floor} was committed before it was issued`);
    }
  }
}
