// The stored node and its external (KvResult) form. Stored nodes keep an absolute expiration
// in ms from the log's time; the external form turns it into `ttl` and `expiration` against
// the `nowMs` of the operation, so two members applying the same entry answer the same.

/** A node in the tree: a key (dir false, value set) or a directory (children set). */
export interface TreeNode {
  key: string;
  dir: boolean;
  value: string;
  /** Insertion-ordered, so unsorted listings and snapshots are deterministic. */
  children: Map<string, TreeNode> | null;
  createdIndex: number;
  modifiedIndex: number;
  /** Absolute deadline in ms since the epoch, or null when permanent. */
  expireAt: number | null;
  /** The TTL the deadline came from, kept so a new leader can extend it (API.md). */
  ttlMs: number | null;
  /**
   * Which snapshot encoding has written this node (snapshot-in-progress.ts), 0 for none yet.
   * Not part of the node's state: never encoded, never rolled back.
   */
  snapshotMark: number;
  /**
   * Where a node's bytes lie in the encoding snapshotMark produced: [snapshotAt, snapshotAt +
   * snapshotLength); a directory's run to the end of its last descendant's. The next
   * encoding copies them while nothing in them changed, instead of encoding them again;
   * snapshotLength is negative once the node or anything below it changed (Store's
   * beforeChange) or when that encoding wrote an older copy of it. Not part of the node's
   * state either.
   */
  snapshotAt: number;
  snapshotLength: number;
}

/** A node's state: what a snapshot encodes and a rollback restores. */
export type NodeFields = Omit<TreeNode, 'children' | 'snapshotMark' | 'snapshotAt' | 'snapshotLength'>;

/** The external node shape of API.md. */
export interface NodeView {
  key: string;
  value?: string;
  dir?: true;
  nodes?: NodeView[];
  ttl?: number;
  expiration?: string;
  createdIndex: number;
  modifiedIndex: number;
}

export function newNode(
  key: string, dir: boolean, value: string, index: number, expireAt: number | null,
): TreeNode {
  return {
    key, dir, value: dir ? '' : value, children: dir ? new Map() : null,
    createdIndex: index, modifiedIndex: index, expireAt, ttlMs: null,
    snapshotMark: 0, snapshotAt: 0, snapshotLength: -1,
  };
}

/** A deep copy of a view (plain data), several times cheaper than structuredClone. */
export function cloneView(view: NodeView): NodeView {
  const copy = { ...view };
  if (view.nodes !== undefined) copy.nodes = view.nodes.map(cloneView);
  return copy;
}

/** Sets a node's deadline from a TTL (null: permanent) counted from the entry's time. */
export function setDeadline(node: TreeNode, ttlMs: number | null, nowMs: number): void {
  node.ttlMs = ttlMs;
  node.expireAt = ttlMs === null ? null : nowMs + ttlMs;
}

/** Adds ttl (ceil of seconds left; omitted when 0, as etcd's omitempty) and expiration. */
function addExpiry(view: NodeView, node: TreeNode, nowMs: number): void {
  if (node.expireAt === null) return;
  view.expiration = new Date(node.expireAt).toISOString();
  const ttl = Math.ceil((node.expireAt - nowMs) / 1000);
  if (ttl !== 0) view.ttl = ttl;
}

/** etcd's Repr: the node itself; a directory's children only when recursive. */
export function repr(node: TreeNode, nowMs: number, recursive = false, sorted = false): NodeView {
  const view: NodeView = node.dir
    ? { key: node.key, dir: true, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex }
    : { key: node.key, value: node.value, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex };
  addExpiry(view, node, nowMs);
  if (node.dir && recursive) listChildren(view, node, nowMs, true, sorted);
  return view;
}

/** etcd's loadInternalNode: a directory always lists its direct, non-hidden children. */
export function load(node: TreeNode, nowMs: number, recursive: boolean, sorted: boolean): NodeView {
  const view = repr(node, nowMs, false, false);
  if (node.dir) listChildren(view, node, nowMs, recursive, sorted);
  return view;
}

function listChildren(
  view: NodeView, node: TreeNode, nowMs: number, recursive: boolean, sorted: boolean,
): void {
  const nodes: NodeView[] = [];
  for (const [name, child] of node.children ?? []) {
    if (name.startsWith('_')) continue; // hidden keys never appear in listings
    nodes.push(repr(child, nowMs, recursive, sorted));
  }
  if (sorted) nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (nodes.length > 0) view.nodes = nodes;
}
