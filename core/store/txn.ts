// Transactions (API.md kv.txn): a list of compares picks the success or failure branch, and
// the branch's operations run in order. The store applies all of it atomically: if one
// operation fails, the store rolls back to its state before the transaction.
import { ErrorCode, StoreError } from './errors.js';
import type { CreateOptions, DeleteOptions, GetOptions, KvResult, SetOptions } from './store.js';

export interface TxnCompare { key: string; value?: string; index?: number; exists?: boolean }

export type TxnOp =
  | { set: SetOptions & { key: string } }
  | { create: CreateOptions & { key: string } }
  | { delete: DeleteOptions & { key: string } }
  | { get: GetOptions & { key: string } };

export interface TxnRequest { compare: TxnCompare[]; success: TxnOp[]; failure?: TxnOp[] }
export interface TxnResult { succeeded: boolean; results: KvResult[]; index: number }

/** The operations a transaction needs from the store. */
export interface TxnTarget {
  get(key: string, opts: GetOptions, nowMs: number): KvResult;
  /** A get for the compares: reading a key to decide a branch is not a counted get. */
  peek(key: string, opts: GetOptions, nowMs: number): KvResult;
  set(key: string, opts: SetOptions, nowMs: number): KvResult;
  create(key: string, opts: CreateOptions, nowMs: number): KvResult;
  delete(key: string, opts: DeleteOptions, nowMs: number): KvResult;
}

/** One compare: a missing key is false unless `exists: false`; `index` is the modifiedIndex. */
function holds(store: TxnTarget, c: TxnCompare, nowMs: number): boolean {
  let node: KvResult['node'] | null = null;
  try {
    node = store.peek(c.key, {}, nowMs).node;
  } catch (err) {
    if (!(err instanceof StoreError) || (err.code !== ErrorCode.KeyNotFound && err.code !== ErrorCode.NotDir)) throw err;
  }
  if (node === null) return c.exists === false;
  if (c.exists === false) return false;
  if (c.value !== undefined && (node.dir || node.value !== c.value)) return false;
  if (c.index !== undefined && node.modifiedIndex !== c.index) return false;
  return true;
}

function runOp(store: TxnTarget, op: TxnOp, nowMs: number): KvResult {
  if ('set' in op) return store.set(op.set.key, op.set, nowMs);
  if ('create' in op) return store.create(op.create.key, op.create, nowMs);
  if ('delete' in op) return store.delete(op.delete.key, op.delete, nowMs);
  return store.get(op.get.key, op.get, nowMs);
}

/** Evaluates and runs a transaction; rollback on failure is the caller's (the store's) job. */
export function runTxn(store: TxnTarget, req: TxnRequest, nowMs: number): Omit<TxnResult, 'index'> {
  const succeeded = req.compare.every((c) => holds(store, c, nowMs));
  const ops = succeeded ? req.success : (req.failure ?? []);
  return { succeeded, results: ops.map((op) => runOp(store, op, nowMs)) };
}
