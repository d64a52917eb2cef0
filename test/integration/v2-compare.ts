// Raw HTTP exchanges with an etcd v2 endpoint and their comparison for the differential test:
// requests sent byte for byte (no client-side path cleaning, so `..` and `//` reach the
// server), answers flattened to `field → value` maps with store indexes made relative to a
// baseline, times replaced by their presence, and a line-per-field diff between two maps.
import { request } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** Sends one request with `path` exactly as given; `form` is sent as a urlencoded body. */
export function rawRequest(baseUrl: string, method: string, path: string, form?: string, timeoutMs = 10_000): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(form);
    }
    const req = request({ host: base.hostname, port: base.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const flat: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString() });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(form);
  });
}

/** The current store index (X-Etcd-Index of GET /v2/keys/). */
export async function storeIndexOf(baseUrl: string): Promise<number> {
  const res = await rawRequest(baseUrl, 'GET', '/v2/keys/');
  const index = Number(res.headers['x-etcd-index']);
  if (!Number.isSafeInteger(index)) throw new Error(`${baseUrl}: GET /v2/keys/ gave no X-Etcd-Index (${res.status} ${res.body})`);
  return index;
}

/** An index relative to the baseline; 0 (validation errors) stays 0. */
function relIndex(n: number, baseline: number): number {
  return n === 0 ? 0 : n - baseline;
}

/** In-order key names are the 20-digit index: made relative like any index. */
function relKey(key: string, baseline: number): string {
  return key.replace(/\/(\d{20})(?=\/|$)/g, (_, d: string) => `/${String(relIndex(Number(d), baseline)).padStart(20, '0')}`);
}

/** Index numbers inside error causes: `[<prevIndex> != <modifiedIndex>]`, `[<oldest>/<requested>]`. */
function relCause(cause: string, baseline: number): string {
  return relKey(cause, baseline)
    .replace(/\[(\d+) != (\d+)\]/g, (_, a: string, b: string) => `[${relIndex(Number(a), baseline)} != ${relIndex(Number(b), baseline)}]`)
    .replace(/\[(\d+)\/(\d+)\]/g, (_, a: string, b: string) => `[${relIndex(Number(a), baseline)}/${relIndex(Number(b), baseline)}]`);
}

/**
 * A copy of an etcd v2 JSON body with indexes relative to `baseline`, `ttl`/`expiration`
 * replaced by their presence, and every `nodes` array sorted by key when `sortNodes` (a
 * listing without sorted=true comes in Go map order). Field order is kept.
 */
export function normalizeBody(value: unknown, baseline: number, sortNodes: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeBody(v, baseline, sortNodes));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if ((k === 'modifiedIndex' || k === 'createdIndex' || k === 'index') && typeof v === 'number') out[k] = relIndex(v, baseline);
    else if (k === 'expiration' && typeof v === 'string') out[k] = /Z$/.test(v) && !Number.isNaN(Date.parse(v)) ? '<RFC3339 UTC>' : v;
    else if (k === 'ttl' && typeof v === 'number') out[k] = v > 0 ? '<positive>' : v;
    else if (k === 'key' && typeof v === 'string') out[k] = relKey(v, baseline);
    else if (k === 'cause' && typeof v === 'string') out[k] = relCause(v, baseline);
    else if (k === 'nodes' && Array.isArray(v)) {
      const nodes = v.map((n) => normalizeBody(n, baseline, sortNodes));
      if (sortNodes) nodes.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      out[k] = nodes;
    } else out[k] = normalizeBody(v, baseline, sortNodes);
  }
  return out;
}

function keyOf(node: unknown): string {
  const key = (node as { key?: unknown } | null)?.key;
  return typeof key === 'string' ? key : '';
}

/** Flattens a JSON value to `path → JSON text` (`body.node.nodes[0].key`). */
function flatten(value: unknown, path: string, into: Map<string, string>): void {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [`.${k}`, v] as const);
    if (entries.length === 0) into.set(path, Array.isArray(value) ? '[]' : '{}');
    for (const [k, v] of entries) flatten(v, path + k, into);
  } else {
    into.set(path, JSON.stringify(value));
  }
}

/** Headers compared by value (after index normalisation) or only by presence. */
const HEADERS_BY_VALUE = ['location', 'allow', 'access-control-allow-origin'];
const HEADERS_BY_PRESENCE = ['x-raft-index', 'x-raft-term', 'x-etcd-cluster-id'];

/** One answer as `field → value`: status, the compared headers, the body (JSON or text). */
export function flattenResponse(res: RawResponse, baseline: number, sortNodes: boolean): Map<string, string> {
  const out = new Map<string, string>([['status', String(res.status)]]);
  const etcdIndex = res.headers['x-etcd-index'];
  out.set('header X-Etcd-Index', etcdIndex === undefined ? '<absent>' : String(relIndex(Number(etcdIndex), baseline)));
  for (const h of HEADERS_BY_VALUE) out.set(`header ${h}`, res.headers[h] ?? '<absent>');
  for (const h of HEADERS_BY_PRESENCE) out.set(`header ${h}`, res.headers[h] === undefined ? '<absent>' : '<present>');
  out.set('header content-type', (res.headers['content-type'] ?? '<absent>').split(';')[0]!.trim());
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    out.set('body (text)', JSON.stringify(res.body.trim()));
    return out;
  }
  flatten(normalizeBody(json, baseline, sortNodes), 'body', out);
  out.set('body field order', JSON.stringify(fieldOrder(normalizeBody(json, baseline, sortNodes))));
  return out;
}

/** The keys of every object in emission order, depth first (etcd's field order is documented). */
function fieldOrder(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(fieldOrder);
  if (value === null || typeof value !== 'object') return [];
  const keys = Object.keys(value);
  return [keys.join(','), ...keys.flatMap((k) => fieldOrder((value as Record<string, unknown>)[k]))];
}

/** `field: etcd X, cairn Y` for every field that differs, `excluded` fields left out. */
export function diffLines(etcd: Map<string, string>, cairn: Map<string, string>, excluded: readonly string[] = []): string[] {
  const lines: string[] = [];
  for (const field of new Set([...etcd.keys(), ...cairn.keys()])) {
    if (excluded.some((e) => field === e || field.startsWith(`${e}.`) || field.startsWith(`${e}[`))) continue;
    const [a, b] = [etcd.get(field) ?? '<absent>', cairn.get(field) ?? '<absent>'];
    if (a !== b) lines.push(`${field}: etcd ${a}, cairn ${b}`);
  }
  return lines;
}
