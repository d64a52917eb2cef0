// What a running kv.txn changed, so that an operation failing half way can put the store back
// exactly as it was: the cost is that of what the txn touched, not of the whole store.
//
// The store calls beforeChange(node) before it changes a node's fields or a directory's
// children (the same hook a snapshot in progress uses). On a node's first change in the txn
// its fields are saved, and for a directory a copy of its children map, so a rollback also
// restores the children's order (unsorted listings and snapshots depend on it). Removed nodes
// are put back by restoring their parent's map; nodes the txn created are dropped with it.
import type { TreeNode } from './node.js';

type SavedFields = Pick<TreeNode, 'value' | 'modifiedIndex' | 'expireAt' | 'ttlMs' | 'children'>;

export class UndoLog {
  private readonly saved = new Map<TreeNode, SavedFields>();

  /** Call before changing `node`'s fields or children while the txn runs. */
  beforeChange(node: TreeNode): void {
    if (this.saved.has(node)) return;
    this.saved.set(node, {
      value: node.value,
      modifiedIndex: node.modifiedIndex,
      expireAt: node.expireAt,
      ttlMs: node.ttlMs,
      children: node.children === null ? null : new Map(node.children),
    });
  }

  /** Puts every changed node back as it was before its first change. */
  rollback(): void {
    for (const [node, fields] of this.saved) {
      node.value = fields.value;
      node.modifiedIndex = fields.modifiedIndex;
      node.expireAt = fields.expireAt;
      node.ttlMs = fields.ttlMs;
      node.children = fields.children;
    }
    this.saved.clear();
  }
}
