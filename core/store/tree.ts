// The hierarchical tree of directories and keys. Lookups report etcd's errors (the cause of a
// 100 is the first missing path component; of a 104 the file in the way) so that every check
// can run before anything is mutated: a failed write must not consume an index or leave
// implicit directories behind.
import { ErrorCode, StoreError } from './errors.js';
import { newNode, type TreeNode } from './node.js';
import { joinKey, parentKey, segments } from './path.js';

export class Tree {
  readonly root: TreeNode;

  constructor(root?: TreeNode) {
    this.root = root ?? newNode('/', true, '', 0, null);
  }

  /** The node at a cleaned key, or throws 100 naming the first missing component. */
  get(key: string, index: number): TreeNode {
    let node = this.root;
    for (const seg of segments(key)) {
      const next = node.dir ? node.children!.get(seg) : undefined;
      if (!node.dir) throw new StoreError(ErrorCode.NotDir, node.key, index);
      if (!next) throw new StoreError(ErrorCode.KeyNotFound, joinKey(node.key, seg), index);
      node = next;
    }
    return node;
  }

  /** The node at key or null; throws 104 if a component on the way is a file. */
  find(key: string, index: number): TreeNode | null {
    try {
      return this.get(key, index);
    } catch (err) {
      if (err instanceof StoreError && err.code === ErrorCode.KeyNotFound) return null;
      throw err;
    }
  }

  /** Checks that key's parent chain is creatable: no component of it may be a file. */
  checkParents(key: string, index: number): void {
    let node = this.root;
    for (const seg of segments(parentKey(key))) {
      const next = node.children!.get(seg);
      if (!next) return;
      if (!next.dir) throw new StoreError(ErrorCode.NotDir, next.key, index);
      node = next;
    }
  }

  /** Inserts node under its parent, creating missing dirs with the write's index. */
  insert(node: TreeNode, index: number): void {
    let dir = this.root;
    for (const seg of segments(parentKey(node.key))) {
      let next = dir.children!.get(seg);
      if (!next) {
        // Implicit directories get the index of the write that made them, and no event.
        next = newNode(joinKey(dir.key, seg), true, '', index, null);
        dir.children!.set(seg, next);
      }
      dir = next;
    }
    dir.children!.set(node.key.slice(node.key.lastIndexOf('/') + 1), node);
  }

  /** Removes the node at key (and its subtree). Parents are kept, as etcd keeps them. */
  remove(key: string): void {
    const parent = this.get(parentKey(key), 0);
    parent.children!.delete(key.slice(key.lastIndexOf('/') + 1));
  }

  /** Every node with a deadline, in (deadline, key) order so expiry order is deterministic. */
  expiring(): TreeNode[] {
    const out: TreeNode[] = [];
    const walk = (n: TreeNode): void => {
      if (n.expireAt !== null) out.push(n);
      for (const c of n.children?.values() ?? []) walk(c);
    };
    walk(this.root);
    return out.sort((a, b) => a.expireAt! - b.expireAt! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
