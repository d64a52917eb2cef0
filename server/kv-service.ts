// The kv.* methods of API.md on top of a member: writes go through the log (to the leader,
// wherever they arrive), linearizable reads pass a ReadIndex barrier first, serializable reads
// are local (optionally after this member reached `minIndex`), and waits and watches are fed
// by the watcher hub, replaying the event history first so nothing is skipped in between.
import type {
  CreateParams, DeleteParams, GetParams, KvEvent, KvResult, SetParams, TxnParams, TxnResult, WaitParams, WatchParams, WatchStarted,
} from '../core/api/types.js';
import { ErrorCode, StoreError } from '../core/store/index.js';
import type { KvResult as StoreResult, StoreEvent, TxnResult as StoreTxnResult } from '../core/store/index.js';
import type { ApplyResult } from './apply.js';
import { MemberError } from './errors.js';
import type { MemberApi } from './member-api.js';
import type { KvWrite } from './state-machine.js';
import type { Subscription } from './subscriptions.js';

/** How long a serializable read waits for this member to reach its `minIndex`. */
const MIN_INDEX_WAIT_MS = 5000;

/** A store refusal as the API error of the same code (its cause and index in data). */
export function fromStoreError(error: StoreError): MemberError {
  return new MemberError(error.code, error.message, false, { cause: error.data.cause, index: error.data.index });
}

/** The API's result: the store's, with the Raft position added (fields in the same order). */
function withRaft(r: StoreResult, raftIndex: number, raftTerm: number): KvResult {
  // Spelled out: spreading the store's result (two shapes, with and without prevNode) went
  // through V8's generic object copy, 2% of the leader's time under a put load.
  return r.prevNode === undefined
    ? { action: r.action, node: r.node, index: r.index, raftIndex, raftTerm }
    : { action: r.action, node: r.node, prevNode: r.prevNode, index: r.index, raftIndex, raftTerm };
}

/** Each event's API form in JSON, made once however many watchers it goes to. */
const eventJson = new WeakMap<StoreEvent, string>();

function kvEventJson(e: StoreEvent): string {
  let json = eventJson.get(e);
  if (json === undefined) {
    json = JSON.stringify(toKvEvent(e));
    eventJson.set(e, json);
  }
  return json;
}

export function toKvEvent(e: StoreEvent): KvEvent {
  const event: KvEvent = { action: e.action, node: e.node, index: e.index };
  if (e.prevNode !== undefined) event.prevNode = e.prevNode;
  return event;
}

export async function kvGet(member: MemberApi, p: GetParams): Promise<KvResult> {
  if (p.consistency !== 'serializable') {
    await member.readBarrier();
  } else if (p.minIndex !== undefined && !(await member.waitForStoreIndex(p.minIndex, MIN_INDEX_WAIT_MS))) {
    throw new MemberError(301, `this member has not reached store index ${p.minIndex} within ${MIN_INDEX_WAIT_MS} ms (it is at ${member.store.index}); retry, or read with consistency linearizable`, true);
  }
  const status = member.status();
  try {
    // The wall clock here only renders `ttl` (seconds left) for the reader; expiry itself is
    // decided in the log.
    return withRaft(member.store.get(p.key, p, Date.now()), status.appliedIndex, status.term);
  } catch (error) {
    throw error instanceof StoreError ? fromStoreError(error) : error;
  }
}

/** What the store made of an applied write; its refusal as the API error of the same code. */
function outcomeOf(w: KvWrite, applied: ApplyResult): StoreResult | StoreTxnResult {
  const outcome = applied.outcome;
  if (outcome?.error !== undefined) throw fromStoreError(outcome.error);
  if (outcome?.value === undefined) throw new MemberError(-32603, `${w.method}: the applied entry produced no result`, false);
  return outcome.value;
}

/** Proposes a write; the store's answer with the entry's Raft position. One await per call. */
async function writeOne(member: MemberApi, w: KvWrite): Promise<KvResult> {
  const applied = await member.proposeKv(w);
  const value = outcomeOf(w, applied);
  if ('succeeded' in value) throw new MemberError(-32603, `${w.method}: the applied entry produced a transaction result`, false);
  return withRaft(value, applied.index, applied.term);
}

export const kvSet = (m: MemberApi, p: SetParams): Promise<KvResult> => writeOne(m, { method: 'set', params: p });
export const kvCreate = (m: MemberApi, p: CreateParams): Promise<KvResult> => writeOne(m, { method: 'create', params: p });
export const kvDelete = (m: MemberApi, p: DeleteParams): Promise<KvResult> => writeOne(m, { method: 'delete', params: p });

export async function kvTxn(member: MemberApi, p: TxnParams): Promise<TxnResult> {
  const w: KvWrite = { method: 'txn', params: p };
  const applied = await member.proposeKv(w);
  const value = outcomeOf(w, applied);
  if (!('succeeded' in value)) throw new MemberError(-32603, 'txn: the applied entry produced no transaction result', false);
  // Every result comes from the same log entry.
  return { succeeded: value.succeeded, results: value.results.map((r) => withRaft(r, applied.index, applied.term)), index: value.index };
}

/** The index a wait or watch starts at: `waitIndex` if given (inclusive), else the next change. */
function startIndex(member: MemberApi, waitIndex: number | undefined): number {
  return waitIndex !== undefined && waitIndex > 0 ? waitIndex : member.store.index + 1;
}

function storeCall<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw error instanceof StoreError ? fromStoreError(error) : error;
  }
}

/** kv.wait: the first matching event at or after waitIndex, or null once timeoutMs passed. */
export function kvWait(member: MemberApi, p: WaitParams, closed: AbortSignal): Promise<KvEvent | null> {
  const since = startIndex(member, p.waitIndex);
  const recursive = p.recursive === true;
  if (since <= member.store.index) {
    const found = storeCall(() => member.store.eventsSince(since, p.key, recursive));
    if (found !== null) return Promise.resolve(toKvEvent(found));
  }
  return new Promise<KvEvent | null>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      remove();
      if (timer !== undefined) clearTimeout(timer);
      closed.removeEventListener('abort', onClosed);
    };
    const remove = member.watchHub.add({
      key: p.key, recursive,
      deliver: (e) => { if (e.index >= since) { finish(); resolve(toKvEvent(e)); } },
      reset: () => { finish(); reject(historyReplaced(member)); },
    });
    const onClosed = (): void => { finish(); resolve(null); };
    closed.addEventListener('abort', onClosed);
    if (p.timeoutMs !== undefined) timer = setTimeout(() => { finish(); resolve(null); }, p.timeoutMs);
  });
}

function historyReplaced(member: MemberApi): MemberError {
  return new MemberError(ErrorCode.EventIndexCleared, 'this member installed a snapshot from the leader; events may have been missed: re-read and watch again', false, { index: member.store.index });
}

/**
 * kv.watch: replays the retained history from waitIndex, then streams live events. The
 * backlog and the live registration happen in one synchronous step, so nothing falls between.
 */
export function kvWatch(member: MemberApi, p: WatchParams, sub: Subscription): WatchStarted {
  const since = startIndex(member, p.waitIndex);
  const recursive = p.recursive === true;
  const backlog = since <= member.store.index ? storeCall(() => member.store.replay(since, p.key, recursive)) : [];
  let lastSent = since - 1;
  let sentSinceProgress = false;
  const endSlow = (): void => {
    sub.end({ code: 401, message: `watch of ${p.key}: the client reads too slowly and fell behind; watch again from index ${lastSent + 1}`, data: { cause: `slow consumer; resume at ${lastSent + 1}`, index: member.store.index } });
  };
  const send = (e: StoreEvent): void => {
    if (e.index < since) return;
    const outcome = sub.pushJson(kvEventJson(e));
    if (outcome === 'slow') return endSlow();
    lastSent = e.index;
    sentSinceProgress = true;
  };
  for (const e of backlog) send(e);
  const remove = member.watchHub.add({
    key: p.key, recursive, deliver: send,
    reset: () => sub.end({ code: 401, message: `watch of ${p.key}: ${historyReplaced(member).message}`, data: { index: member.store.index } }),
  });
  let progress: NodeJS.Timeout | undefined;
  if (p.progressMs !== undefined) {
    progress = setInterval(() => {
      // Every event up to the store index was delivered synchronously, so it is a safe resume point.
      if (!sentSinceProgress && sub.push({ progress: member.store.index }) === 'slow') endSlow();
      sentSinceProgress = false;
    }, p.progressMs);
  }
  sub.onClose = () => {
    remove();
    if (progress !== undefined) clearInterval(progress);
  };
  return { subscription: sub.id, index: member.store.index };
}
