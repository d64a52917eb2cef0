// The replicated state machine a member applies committed entries to: the etcd v2 store
// (core/store), the member directory (names and URLs of every member, learned through the
// log) and the log's clock. Time inside it comes only from the log — the leader proposes
// its clock (`time` entries to expire keys, a `leader` entry after each election) — so every
// member applying the same log expires the same keys at the same index.
import type { CreateParams, DeleteParams, SetParams, TxnParams } from '../core/api/types.js';
import { Store, StoreError } from '../core/store/index.js';
import type { KvResult as StoreResult, StoreEvent, TxnResult as StoreTxnResult } from '../core/store/index.js';

export interface MemberInfo {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** A kv write as it travels in the log. */
export type KvWrite =
  | { readonly method: 'set'; readonly params: SetParams }
  | { readonly method: 'create'; readonly params: CreateParams }
  | { readonly method: 'delete'; readonly params: DeleteParams }
  | { readonly method: 'txn'; readonly params: TxnParams };

/**
 * A command carried in a normal log entry; `requestId` lets the proposer find its result.
 * `at` is the proposer's clock in ms: for `kv` it only dates the TTLs that write sets (it
 * never moves the log's clock, so a member with a clock far ahead cannot expire others'
 * keys); for `time` and `leader`, proposed by the leader alone, it is the log's clock.
 */
export type Command =
  | { readonly requestId: string; readonly op: 'kv'; readonly at: number; readonly write: KvWrite }
  | { readonly requestId: string; readonly op: 'time'; readonly at: number }
  | { readonly requestId: string; readonly op: 'leader'; readonly at: number }
  | { readonly requestId: string; readonly op: 'publish'; readonly member: MemberInfo };

/** What applying one command produced: a store result, or the store's refusal. */
export interface CommandOutcome {
  readonly value?: StoreResult | StoreTxnResult;
  readonly error?: StoreError;
  /** The store events this command made, in index order (expiries included). */
  readonly events: readonly StoreEvent[];
}

interface SnapshotHeader {
  readonly version: 2;
  readonly clockMs: number;
  readonly members: MemberInfo[];
  readonly removed: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;

export class StateMachine {
  store: Store;
  /** The log's clock: the latest leader-proposed time applied. */
  clockMs = 0;
  readonly members = new Map<string, MemberInfo>();
  /** Ids of removed members: never reused, so a stale member cannot come back as new. */
  readonly removed = new Set<string>();
  private pending: StoreEvent[] = [];

  constructor(private readonly historySize: number) {
    this.store = new Store({ historySize });
    this.store.onEvent((e) => this.pending.push(e));
  }

  apply(command: Command): CommandOutcome {
    this.pending = [];
    try {
      const value = this.run(command);
      return { value, events: this.pending };
    } catch (error) {
      // A refused write changes nothing (a txn rolled itself back), so it has no events.
      if (error instanceof StoreError) return { error, events: [] };
      throw error;
    } finally {
      this.pending = [];
    }
  }

  private run(command: Command): StoreResult | StoreTxnResult | undefined {
    switch (command.op) {
      case 'kv':
        return this.write(command.write, Math.max(this.clockMs, command.at));
      case 'time':
        this.clockMs = Math.max(this.clockMs, command.at);
        this.store.expire(this.clockMs);
        return undefined;
      case 'leader':
        // API.md: a new leader first pushes every deadline to its election time + TTL.
        this.clockMs = Math.max(this.clockMs, command.at);
        this.store.extendDeadlines(command.at);
        return undefined;
      case 'publish':
        if (!this.removed.has(command.member.id)) this.members.set(command.member.id, command.member);
        return undefined;
    }
  }

  private write(write: KvWrite, nowMs: number): StoreResult | StoreTxnResult {
    switch (write.method) {
      case 'set': return this.store.set(write.params.key, write.params, nowMs);
      case 'create': return this.store.create(write.params.key, write.params, nowMs);
      case 'delete': return this.store.delete(write.params.key, write.params, nowMs);
      case 'txn': return this.store.txn(write.params, nowMs);
    }
  }

  addMember(member: MemberInfo): void {
    const known = this.members.get(member.id);
    // A member's own publish may carry client URLs the add did not know; keep the richer one.
    this.members.set(member.id, known !== undefined && member.clientUrls.length === 0 ? { ...member, clientUrls: known.clientUrls } : member);
  }

  removeMember(id: string): void {
    this.members.delete(id);
    this.removed.add(id);
  }

  /** One JSON header line (clock, members), then the store's own deterministic bytes. */
  snapshot(): Uint8Array {
    return joinSnapshot(this.snapshotHeadNow(), this.store.snapshot());
  }

  /**
   * Starts a snapshot of the state as it is now, to be finished a slice at a time with
   * continueSnapshot() while entries go on being applied. A restore drops it. The header
   * line is written first into the store's own buffer, so the finished bytes need no copy.
   */
  beginSnapshot(): void {
    this.store.beginSnapshot(this.snapshotHeadNow());
  }

  get snapshotInProgress(): boolean {
    return this.store.snapshotInProgress;
  }

  /** Encodes up to `budgetNodes` more of the store; the snapshot's bytes once done (throws if none was begun). */
  continueSnapshot(budgetNodes: number): Uint8Array | undefined {
    return this.store.continueSnapshot(budgetNodes);
  }

  private snapshotHeadNow(): Uint8Array {
    const header: SnapshotHeader = {
      version: 2, clockMs: this.clockMs, members: [...this.members.values()], removed: [...this.removed],
    };
    return encoder.encode(`${JSON.stringify(header)}\n`);
  }

  restore(data: Uint8Array): void {
    const cut = data.indexOf(NEWLINE);
    if (cut < 0) throw new Error('state machine: the snapshot has no header line; it is damaged or from an older cairn');
    const header = JSON.parse(decoder.decode(data.subarray(0, cut))) as SnapshotHeader;
    if (header.version !== 2) throw new Error(`state machine: snapshot version ${String(header.version)} is not supported`);
    // A snapshot in progress was of the state replaced here: it goes with the old store.
    this.store = Store.restore(data.subarray(cut + 1));
    this.store.onEvent((e) => this.pending.push(e));
    this.clockMs = header.clockMs;
    this.members.clear();
    for (const m of header.members) this.members.set(m.id, m);
    this.removed.clear();
    for (const id of header.removed) this.removed.add(id);
  }

  get eventHistorySize(): number {
    return this.historySize;
  }
}

function joinSnapshot(head: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head, 0);
  out.set(body, head.byteLength);
  return out;
}
