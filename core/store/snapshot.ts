// Snapshot encoding of the whole store state (index, tree, event history) as UTF-8 JSON.
// Objects are built field by field in a fixed order and children keep their insertion order,
// so the same sequence of operations always yields byte-identical snapshots on every member.
import type { StoreEvent } from './history.js';
import type { TreeNode } from './node.js';

export interface StoreState {
  index: number;
  historySize: number;
  root: TreeNode;
  events: readonly StoreEvent[];
}

interface EncodedNode {
  k: string; d: boolean; v: string; c: number; m: number; e: number | null; t: number | null; ch?: EncodedNode[];
}

interface Encoded {
  format: 'cairn-store/1';
  index: number;
  historySize: number;
  root: EncodedNode;
  events: StoreEvent[];
}

function encodeNode(n: TreeNode): EncodedNode {
  const out: EncodedNode = { k: n.key, d: n.dir, v: n.value, c: n.createdIndex, m: n.modifiedIndex, e: n.expireAt, t: n.ttlMs };
  if (n.children) out.ch = [...n.children.values()].map(encodeNode);
  return out;
}

function decodeNode(e: EncodedNode): TreeNode {
  const node: TreeNode = {
    key: e.k, dir: e.d, value: e.v, children: null,
    createdIndex: e.c, modifiedIndex: e.m, expireAt: e.e, ttlMs: e.t,
  };
  if (e.d) {
    node.children = new Map();
    for (const c of e.ch ?? []) node.children.set(c.k.slice(c.k.lastIndexOf('/') + 1), decodeNode(c));
  }
  return node;
}

export function encodeState(s: StoreState): Uint8Array {
  const doc: Encoded = {
    format: 'cairn-store/1', index: s.index, historySize: s.historySize,
    root: encodeNode(s.root), events: [...s.events],
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

export function decodeState(bytes: Uint8Array): StoreState {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as Encoded;
  if (doc.format !== 'cairn-store/1') throw new Error(`unknown store snapshot format ${String(doc.format)}`);
  return { index: doc.index, historySize: doc.historySize, root: decodeNode(doc.root), events: doc.events };
}
