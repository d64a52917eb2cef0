// Nodes and events in etcd 3.4's JSON: its field order (key, value, dir, expiration, ttl, nodes,
// modifiedIndex, createdIndex), Go's RFC 3339 time with trailing zeros dropped, and the root
// directory with no key and no indexes. Tools compare these bodies, so the bytes matter.
import type { Action, Node } from '../../core/api/types.js';

export interface V2Node {
  key?: string;
  value?: string;
  dir?: true;
  expiration?: string;
  ttl?: number;
  nodes?: V2Node[];
  modifiedIndex?: number;
  createdIndex?: number;
}

/** etcd's Event also has `refresh`, but 3.4 never sends it on /v2/keys (seen side by side). */
export interface V2Event {
  action: Action;
  node?: V2Node;
  prevNode?: V2Node;
}

/** Go's RFC3339Nano: the fraction loses its trailing zeros, and the dot when nothing is left. */
export function goTime(iso: string): string {
  return iso.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

export function v2Node(node: Node): V2Node {
  const out: V2Node = {};
  const root = node.key === '/';
  if (!root) out.key = node.key;
  if (node.value !== undefined) out.value = node.value;
  if (node.dir === true) out.dir = true;
  if (node.expiration !== undefined) out.expiration = goTime(node.expiration);
  if (node.ttl !== undefined && node.ttl !== 0) out.ttl = node.ttl;
  if (node.nodes !== undefined && node.nodes.length > 0) out.nodes = node.nodes.map(v2Node);
  if (!root || node.modifiedIndex !== 0) out.modifiedIndex = node.modifiedIndex;
  if (!root || node.createdIndex !== 0) out.createdIndex = node.createdIndex;
  return out;
}

export interface EventLike { action: Action; node: Node; prevNode?: Node }

export function v2Event(e: EventLike, opts: { noValue?: boolean } = {}): V2Event {
  const out: V2Event = { action: e.action };
  const stripped = opts.noValue === true && ['set', 'create', 'update', 'compareAndSwap'].includes(e.action);
  if (!stripped) {
    out.node = v2Node(e.node);
    if (e.prevNode !== undefined) out.prevNode = v2Node(e.prevNode);
  }
  return out;
}

/** One event as etcd's json.Encoder writes it: the JSON and a newline. */
export function eventLine(e: EventLike, opts: { noValue?: boolean } = {}): string {
  return JSON.stringify(v2Event(e, opts)) + '\n';
}
