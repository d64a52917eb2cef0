// The hierarchical tree of directories and keys. Lookups report etcd's errors (the cause of a
// 100 is the first missing path component; of a 104 the file in the way) so that every check
// can run before anything is mutated: a failed write must not consume an index or leave
// implicit directories behind.
import { ErrorCode, StoreError } from './errors.js';
import { newNode, type TreeNode } from './node.js';
import { joinKey, parentKey, segments } from './path.js';

export class Tree {
  readonly root: TreeNode;
  /**
   * Nodes that were given a deadline, so expiry never walks the whole tree (the leader asks
   * for the next deadline every 500 ms). It may hold nodes since removed or made permanent;
   * expiring() drops those as it meets them.
   */
  private readonly timed = new Set<TreeNode>();
  /**
   * Told before a directory's children change (a snapshot in progress copies on write), with
   * the directories above it from the root down, which the walk to it met anyway. The array
   * is only lent for the call.
   */
  beforeChange: ((node: TreeNode, ancestors: readonly TreeNode[]) => void) | undefined;

  constructor(root?: TreeNode) {
    this.root = root ?? newNode('/', true, '', 0, null);
    if (root !== undefined) this.trackSubtree(root);
  }

  /** The node at a cleaned key, or throws 100 naming the first missing component. */
  get(key: string, index: number): TreeNode {
    const node = this.find(key, index);
    if (node !== null) return node;
    throw new StoreError(ErrorCode.KeyNotFound, this.firstMissing(key), index);
  }

  /**
   * The node at key or null; throws 104 if a component on the way is a file. A miss is
   * common (every write of a new key) and must not cost an exception.
   */
  find(key: string, index: number): TreeNode | null {
    let node = this.root;
    for (const seg of segments(key)) {
      if (!node.dir) throw new StoreError(ErrorCode.NotDir, node.key, index);
      const next = node.children!.get(seg);
      if (next === undefined) return null;
      node = next;
    }
    return node;
  }

  /** etcd's cause for a 100: the first component of key that does not exist. */
  private firstMissing(key: string): string {
    let node = this.root;
    for (const seg of segments(key)) {
      const next = node.children?.get(seg);
      if (next === undefined) return joinKey(node.key, seg);
      node = next;
    }
    return key;
  }

  /** Call after giving a node in the tree a deadline (nodes inserted with one are tracked). */
  track(node: TreeNode): void {
    if (node.expireAt !== null) this.timed.add(node);
  }

  private trackSubtree(node: TreeNode): void {
    this.track(node);
    for (const child of node.children?.values() ?? []) this.trackSubtree(child);
  }

  /** Whether node is still the one at its key (not removed or replaced). */
  private attached(node: TreeNode): boolean {
    let at: TreeNode | undefined = this.root;
    for (const seg of segments(node.key)) {
      at = at.children?.get(seg);
      if (at === undefined) return false;
    }
    return at === node;
  }

  /** The directories above a cleaned key that exist, from the root down. */
  ancestors(key: string): TreeNode[] {
    if (key === '/') return [];
    const out = [this.root];
    let node = this.root;
    for (const seg of segments(parentKey(key))) {
      const next = node.children?.get(seg);
      if (next === undefined) break;
      out.push(next);
      node = next;
    }
    return out;
  }

  /** Inserts node under its parent, creating missing dirs with the write's index. */
  insert(node: TreeNode, index: number): void {
    const above: TreeNode[] = [];
    let dir = this.root;
    for (const seg of segments(parentKey(node.key))) {
      let next = dir.children!.get(seg);
      if (!next) {
        // Implicit directories get the index of the write that made them, and no event.
        next = newNode(joinKey(dir.key, seg), true, '', index, null);
        this.beforeChange?.(dir, above);
        dir.children!.set(seg, next);
      }
      above.push(dir);
      dir = next;
    }
    this.beforeChange?.(dir, above);
    dir.children!.set(node.key.slice(node.key.lastIndexOf('/') + 1), node);
    this.trackSubtree(node);
  }

  /** Removes the node at key (and its subtree). Parents are kept, as etcd keeps them. */
  remove(key: string): void {
    const above: TreeNode[] = [];
    let parent = this.root;
    for (const seg of segments(parentKey(key))) {
      const next = parent.children?.get(seg);
      if (next === undefined) throw new StoreError(ErrorCode.KeyNotFound, this.firstMissing(key), 0);
      above.push(parent);
      parent = next;
    }
    this.beforeChange?.(parent, above);
    parent.children!.delete(key.slice(key.lastIndexOf('/') + 1));
  }

  /** Every node with a deadline, in (deadline, key) order so expiry order is deterministic. */
  expiring(): TreeNode[] {
    const out: TreeNode[] = [];
    for (const node of this.timed) {
      if (node.expireAt === null || !this.attached(node)) this.timed.delete(node);
      else out.push(node);
    }
    return out.sort((a, b) => a.expireAt! - b.expireAt! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
