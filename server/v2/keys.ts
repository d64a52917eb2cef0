// /v2/keys as etcd 3.4 serves it: the path cleaned (or redirected) as Go's ServeMux does, the
// parameters read as etcd reads them, the operation chosen as etcd's v2 applier chooses it, and
// the answer written with etcd's statuses, headers and bodies. Writes go through the log like
// any other; a GET without quorum=true is served from this member's state, as etcd does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KvResult } from '../../core/api/types.js';
import { cleanKey } from '../../core/store/index.js';
import { kvCreate, kvDelete, kvGet, kvSet } from '../kv-service.js';
import type { MemberApi } from '../member-api.js';
import { requestError, toV2Error, writeV2Error } from './errors.js';
import { FormError, parseForm } from './form.js';
import { allowMethod, readBody, writeText } from './http.js';
import { parseKeyRequest } from './key-request.js';
import type { KeyRequest } from './key-request.js';
import type { V2Options } from './options.js';
import { eventLine } from './render.js';
import { serveWatch } from './watch.js';

const KEYS_PREFIX = '/v2/keys';

export async function serveKeys(member: MemberApi, req: IncomingMessage, res: ServerResponse, options: V2Options): Promise<void> {
  if (!allowMethod(req, res, 'HEAD', 'GET', 'PUT', 'POST', 'DELETE')) return;
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : url.slice(queryAt + 1);
  const path = decodePath(rawPath);
  if (path === undefined) return writeText(res, 400, '400 Bad Request');
  const clean = cleanPath(path);
  if (clean !== path) return redirect(req, res, clean, rawQuery);

  res.setHeader('x-etcd-cluster-id', member.status().clusterId);
  const method = req.method ?? '';
  try {
    const form = parseForm(rawQuery, await formBody(req, method, options.maxRequestBytes));
    const r = parseKeyRequest(method, path.slice(KEYS_PREFIX.length) || '/', form);
    if (r.wait && !r.quorum) return serveWatch(member, res, r, options);
    writeResult(member, res, r, await execute(member, r));
  } catch (error) {
    const v2 = error instanceof FormError ? requestError(210, error.message) : toV2Error(error);
    if (!res.headersSent) writeV2Error(res, v2, method === 'HEAD');
  }
}

/** What etcd's v2 applier does with the request: the store operation its conditions pick. */
function execute(member: MemberApi, r: KeyRequest): Promise<KvResult> {
  switch (r.method) {
    case 'PUT':
      return kvSet(member, {
        key: r.key, value: r.value, dir: r.dir,
        ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
        ...(r.refresh === undefined ? {} : { refresh: r.refresh }),
        ...(r.prevExist === undefined ? {} : { prevExist: r.prevExist }),
        ...(r.prevValue === '' ? {} : { prevValue: r.prevValue }),
        ...(r.prevIndex === 0 ? {} : { prevIndex: r.prevIndex }),
      });
    case 'POST':
      return kvCreate(member, { key: r.key, value: r.value, dir: r.dir, ...(r.ttl === undefined ? {} : { ttl: r.ttl }) });
    case 'DELETE':
      return kvDelete(member, {
        key: r.key, dir: r.dir, recursive: r.recursive,
        ...(r.prevValue === '' ? {} : { prevValue: r.prevValue }),
        ...(r.prevIndex === 0 ? {} : { prevIndex: r.prevIndex }),
      });
    default:
      // HEAD and a plain GET read this member's state; GET with quorum=true is linearizable.
      return kvGet(member, { key: r.key, recursive: r.recursive, sorted: r.sorted, consistency: r.method === 'GET' && r.quorum ? 'linearizable' : 'serializable' });
  }
}

function writeResult(member: MemberApi, res: ServerResponse, r: KeyRequest, result: KvResult): void {
  const created = result.action === 'create' || (result.action === 'set' && result.prevNode === undefined);
  const body = eventLine(result, { noValue: r.noValueOnSuccess });
  // etcd reports the Raft position at the time of the answer: its term and commit index.
  const status = member.status();
  res.writeHead(created ? 201 : 200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-etcd-index': String(result.index),
    'x-raft-index': String(status.commitIndex),
    'x-raft-term': String(status.term),
  });
  res.end(r.method === 'HEAD' ? undefined : body);
}

/** The form body: read only for PUT and POST with a form content type, as Go's ParseForm. */
async function formBody(req: IncomingMessage, method: string, maxBytes: number): Promise<string | undefined> {
  if (method !== 'PUT' && method !== 'POST') return undefined;
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const body = await readBody(req, maxBytes);
  if (body === null) throw requestError(210, 'http: POST too large');
  return body.toString('utf8');
}

/** The request path percent-decoded as Go's url.URL.Path (`+` stays `+`); undefined if malformed. */
function decodePath(raw: string): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Go's ServeMux cleanPath: path.Clean, keeping one trailing slash. */
function cleanPath(path: string): string {
  const clean = cleanKey(path);
  return path.endsWith('/') && clean !== '/' ? `${clean}/` : clean;
}

/** Go's url.URL.EscapedPath for a path: unreserved and sub-delimiters stay, the rest is %XX. */
function escapePath(path: string): string {
  return [...Buffer.from(path, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/** Go's ServeMux answer to an unclean path: 301 to the clean one, query kept. */
function redirect(req: IncomingMessage, res: ServerResponse, clean: string, rawQuery: string): void {
  const location = escapePath(clean) + (rawQuery === '' ? '' : `?${rawQuery}`);
  const body = req.method === 'GET' ? `<a href="${location.replaceAll('&', '&amp;').replaceAll('"', '&#34;')}">Moved Permanently</a>.\n\n` : '';
  const headers: Record<string, string | number> = { location, 'content-length': Buffer.byteLength(body) };
  if (req.method === 'GET' || req.method === 'HEAD') headers['content-type'] = 'text/html; charset=utf-8';
  res.writeHead(301, headers).end(body);
}
