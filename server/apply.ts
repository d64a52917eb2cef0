// The apply side of a member: committed entries go to the state machine strictly in log
// order, the applied index moves with them, store events go to the watchers, and whoever
// waits on an entry (a proposer), on a Raft index (a linearizable read) or on a store index
// (a serializable read with minIndex) is woken once it is applied here.
import { decodeConfChange } from '../core/raft/index.js';
import type { Entry, ReadState, Snapshot } from '../core/raft/index.js';
import type { MemberError } from './errors.js';
import type { Logger } from './log.js';
import type { StoreEvent } from '../core/store/index.js';
import type { CommandOutcome, MemberInfo } from './state-machine.js';
import { decodeCommand } from './command-codec.js';
import { StateMachine } from './state-machine.js';

/** What a proposer learns once its entry is applied: where it landed and what it did. */
export interface ApplyResult {
  readonly index: number;
  readonly term: number;
  readonly outcome?: CommandOutcome;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** What a membership change carries in its context: who asked and who the member is. */
export interface ConfChangeContext {
  readonly requestId: string;
  readonly member?: MemberInfo;
}

export class ApplyPipeline {
  readonly stateMachine: StateMachine;
  appliedIndex = 0;
  onMembersChanged: () => void = () => {};
  /** Store events, in index order, as each entry is applied (the watcher hub listens). */
  onEvents: (events: readonly StoreEvent[]) => void = () => {};
  /** After a snapshot replaced the store: live watchers can no longer be told what changed. */
  onStoreReplaced: () => void = () => {};
  /** How long each committed command took to apply, in seconds (a metrics hook). */
  onApplyDuration: (seconds: number) => void = () => {};
  private readonly proposals = new Map<string, Waiter<ApplyResult>>();
  private readonly reads = new Map<string, Waiter<number>>();
  /** Reads whose index is known, waiting for this member to apply up to it. */
  private readonly readsAwaitingApply: { index: number; context: string }[] = [];

  private readonly storeIndexWaiters = new Set<{ index: number; wake: () => void }>();

  constructor(private readonly memberId: string, private readonly logger: Logger, eventHistory: number) {
    this.stateMachine = new StateMachine(eventHistory);
  }

  restore(snapshot: Snapshot): void {
    const replacing = this.appliedIndex > 0;
    this.stateMachine.restore(snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.onMembersChanged();
    if (replacing) this.onStoreReplaced();
    this.releaseReads();
    this.releaseStoreIndexWaiters();
  }

  applyEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.appliedIndex + 1) {
        throw new Error(`apply: entry ${entry.index} does not follow applied index ${this.appliedIndex}`);
      }
      if (entry.type === 'confChange') this.applyConfChange(entry);
      else if (entry.data.byteLength > 0) this.applyCommand(entry);
      this.appliedIndex = entry.index;
    }
    this.releaseReads();
    this.releaseStoreIndexWaiters();
  }

  private applyCommand(entry: Entry): void {
    const started = performance.now();
    const command = decodeCommand(entry.data);
    const outcome = this.stateMachine.apply(command);
    this.onApplyDuration((performance.now() - started) / 1000);
    if (command.op === 'publish') this.onMembersChanged();
    if (outcome.events.length > 0) this.onEvents(outcome.events);
    this.settle(this.proposals, command.requestId, { index: entry.index, term: entry.term, outcome });
  }

  /** Resolves true once the store index reaches `index`, false after `timeoutMs`. */
  waitForStoreIndex(index: number, timeoutMs: number): Promise<boolean> {
    if (this.stateMachine.store.index >= index) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { index, wake: (): void => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => { this.storeIndexWaiters.delete(waiter); resolve(false); }, timeoutMs);
      this.storeIndexWaiters.add(waiter);
    });
  }

  private releaseStoreIndexWaiters(): void {
    const index = this.stateMachine.store.index;
    for (const waiter of this.storeIndexWaiters) {
      if (waiter.index > index) continue;
      this.storeIndexWaiters.delete(waiter);
      waiter.wake();
    }
  }

  private applyConfChange(entry: Entry): void {
    const change = decodeConfChange(entry.data);
    const context = change.context === undefined ? undefined : (JSON.parse(change.context) as ConfChangeContext);
    if (change.type === 'removeNode') {
      this.stateMachine.removeMember(change.nodeId);
      if (change.nodeId === this.memberId) this.logger.log('warn', 'this member was removed from the cluster; stop it');
    } else if (context?.member !== undefined) {
      this.stateMachine.addMember(context.member);
    }
    this.onMembersChanged();
    if (context !== undefined) this.settle(this.proposals, context.requestId, { index: entry.index, term: entry.term });
  }

  completeReads(readStates: readonly ReadState[]): void {
    for (const rs of readStates) {
      if (this.reads.has(rs.context)) this.readsAwaitingApply.push({ index: rs.index, context: rs.context });
    }
    this.releaseReads();
  }

  private releaseReads(): void {
    for (let i = this.readsAwaitingApply.length - 1; i >= 0; i--) {
      const read = this.readsAwaitingApply[i]!;
      if (read.index > this.appliedIndex) continue;
      this.readsAwaitingApply.splice(i, 1);
      this.settle(this.reads, read.context, this.appliedIndex);
    }
  }

  waitForApply(requestId: string, timeoutMs: number, onTimeout: () => MemberError): Promise<ApplyResult> {
    return this.wait(this.proposals, requestId, timeoutMs, onTimeout);
  }

  waitForRead(context: string, timeoutMs: number, onTimeout: () => MemberError): Promise<number> {
    return this.wait(this.reads, context, timeoutMs, onTimeout);
  }

  cancel(requestId: string): void {
    this.drop(this.proposals, requestId);
  }

  cancelRead(context: string): void {
    this.drop(this.reads, context);
  }

  /** Ids of proposals and of reads whose index is not yet known, waiting now. */
  pendingIds(): { proposals: string[]; reads: string[] } {
    const indexKnown = new Set(this.readsAwaitingApply.map((r) => r.context));
    return { proposals: [...this.proposals.keys()], reads: [...this.reads.keys()].filter((k) => !indexKnown.has(k)) };
  }

  /**
   * After a leader change, for what was waiting when it happened: a proposal may have been
   * lost with the old leader or may yet commit, so its outcome is unknown (302) — say so
   * now rather than at its deadline. A read whose index was never learned can be retried.
   */
  failStale(stale: { proposals: string[]; reads: string[] }, proposalError: () => Error, readError: () => Error): void {
    const fail = <T>(map: Map<string, Waiter<T>>, key: string, error: Error): void => {
      const waiter = map.get(key);
      if (waiter === undefined) return;
      clearTimeout(waiter.timer);
      map.delete(key);
      waiter.reject(error);
    };
    for (const id of stale.proposals) fail(this.proposals, id, proposalError());
    const indexKnown = new Set(this.readsAwaitingApply.map((r) => r.context));
    for (const id of stale.reads) if (!indexKnown.has(id)) fail(this.reads, id, readError());
  }

  failAll(error: Error): void {
    for (const map of [this.proposals, this.reads] as Map<string, Waiter<unknown>>[]) {
      for (const [key, waiter] of map) {
        clearTimeout(waiter.timer);
        map.delete(key);
        waiter.reject(error);
      }
    }
  }

  private wait<T>(map: Map<string, Waiter<T>>, key: string, timeoutMs: number, onTimeout: () => MemberError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(key);
        reject(onTimeout());
      }, timeoutMs);
      map.set(key, { resolve, reject, timer });
    });
  }

  private settle<T>(map: Map<string, Waiter<T>>, key: string, value: T): void {
    const waiter = map.get(key);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    map.delete(key);
    waiter.resolve(value);
  }

  private drop<T>(map: Map<string, Waiter<T>>, key: string): void {
    const waiter = map.get(key);
    if (waiter !== undefined) clearTimeout(waiter.timer);
    map.delete(key);
  }
}
