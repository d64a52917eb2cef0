// The apply side of a member: committed entries go to the state machine strictly in log
// order, the applied index moves with them, and whoever waits on an entry (a proposer) or
// on an index (a linearizable read) is woken once it is applied here.
import { decodeConfChange } from '../core/raft/index.js';
import type { Entry, ReadState, Snapshot } from '../core/raft/index.js';
import type { MemberError } from './errors.js';
import type { Logger } from './log.js';
import type { ApplyResult, MemberInfo } from './state-machine.js';
import { StateMachine, decodeCommand } from './state-machine.js';

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
  readonly stateMachine = new StateMachine();
  appliedIndex = 0;
  onMembersChanged: () => void = () => {};
  private readonly proposals = new Map<string, Waiter<ApplyResult>>();
  private readonly reads = new Map<string, Waiter<number>>();
  /** Reads whose index is known, waiting for this member to apply up to it. */
  private readonly readsAwaitingApply: { index: number; context: string }[] = [];

  constructor(private readonly memberId: string, private readonly logger: Logger) {}

  restore(snapshot: Snapshot): void {
    this.stateMachine.restore(snapshot.data, snapshot.metadata.index);
    this.appliedIndex = snapshot.metadata.index;
    this.onMembersChanged();
    this.releaseReads();
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
  }

  private applyCommand(entry: Entry): void {
    const command = decodeCommand(entry.data);
    const result = this.stateMachine.apply(command, entry.index);
    if (command.op === 'publish') this.onMembersChanged();
    this.settle(this.proposals, command.requestId, result);
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
    if (context !== undefined) this.settle(this.proposals, context.requestId, { index: entry.index });
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
