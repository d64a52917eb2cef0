// etcd 3.4's /v2/members and /v2/machines on the client port. etcdctl (ETCDCTL_API=2) and
// node-etcd read the member list first and then talk to its clientURLs, so the member shape
// and the URL spelling ("http://host:port", no trailing slash) follow etcd exactly. Membership
// changes go through cluster-service.ts, i.e. Raft configuration changes.
// Differences from etcd: PUT /v2/members/<id> (new peer URLs) is answered 405, because cairn
// derives a member's id from its peer URLs (a 4xx, so etcdctl prints the message instead of
// retrying every endpoint as it does on a 5xx); removing an already removed member is 404, not 410.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addMember, removeMember } from '../cluster-service.js';
import { MemberError } from '../errors.js';
import type { MemberApi } from '../member-api.js';
import type { MemberInfo } from '../state-machine.js';
import { allowMethod, readBody, writeJson, writeMessageError, writeText } from './http.js';
import type { V2Options } from './options.js';

/** A member as etcd's v2 API shows it. */
export interface V2Member {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** The message etcd's membersHandler answers when it has no leader to name. */
const DURING_ELECTION = 'During election';
const PUT_UNSUPPORTED = "updating a member's peer URLs is not supported by cairn; remove the member and add it again";
/** cairn member ids are 16 hex digits, which etcd's types.IDFromString also accepts. */
const MEMBER_ID = /^[0-9a-f]{1,16}$/i;

/** /v2/members[/leader|/<id>]; subPath is what follows "/v2/members/" ('' for the list). */
export async function serveMembers(member: MemberApi, req: IncomingMessage, res: ServerResponse, subPath: string, options: V2Options): Promise<void> {
  res.setHeader('X-Etcd-Cluster-Id', member.status().clusterId);
  if (!allowMethod(req, res, 'GET', 'POST', 'DELETE', 'PUT')) return;
  const sub = trimSlashes(subPath);
  switch (req.method) {
    case 'GET': return serveGet(member, res, sub);
    case 'POST': return servePost(member, req, res, options);
    case 'DELETE': return serveDelete(member, res, sub);
    default: return servePut(res, sub);
  }
}

/** /v2/machines: the client URLs of every member, ", "-separated, text/plain. */
export function serveMachines(member: MemberApi, req: IncomingMessage, res: ServerResponse): void {
  if (!allowMethod(req, res, 'GET', 'HEAD')) return;
  // etcd: cluster.ClientURLs(), sorted, written without a newline.
  const body = member.members().flatMap((m) => m.clientUrls.map(etcdUrl)).sort().join(', ');
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** etcd's member JSON: URLs without the trailing "/" cairn's normalised form carries. */
export function v2Member(m: MemberInfo): V2Member {
  return { id: m.id, name: m.name, peerURLs: m.peerUrls.map(etcdUrl), clientURLs: m.clientUrls.map(etcdUrl) };
}

/** "http://127.0.0.1:4001/" → "http://127.0.0.1:4001": etcd shows a URL with an empty path. */
export function etcdUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.pathname === '/' && parsed.search === '' && parsed.hash === '' && url.endsWith('/')) return url.slice(0, -1);
  } catch {
    // Not a URL (cannot happen for a member that joined through the log); show it as stored.
  }
  return url;
}

function serveGet(member: MemberApi, res: ServerResponse, sub: string): void {
  if (sub === '') {
    // etcd sorts the member list by id.
    const members = [...member.members()].sort((a, b) => a.id.localeCompare(b.id)).map(v2Member);
    return writeJson(res, 200, { members });
  }
  if (sub !== 'leader') return writeMessageError(res, 404, 'Not found');
  const leader = member.status().leaderId;
  if (leader === '') return writeMessageError(res, 503, DURING_ELECTION);
  const info = member.members().find((m) => m.id === leader);
  // A leader missing from the directory has not been added through the log (bootstrap races):
  // name it all the same, the id is what clients need.
  writeJson(res, 200, info === undefined ? { id: leader, name: '', peerURLs: [], clientURLs: [] } : v2Member(info));
}

async function servePost(member: MemberApi, req: IncomingMessage, res: ServerResponse, options: V2Options): Promise<void> {
  const parsed = await readCreateRequest(req, options.maxRequestBytes);
  if ('error' in parsed) return writeMessageError(res, parsed.status, parsed.error);
  const taken = parsed.peerUrls.find((u) => member.members().some((m) => m.peerUrls.includes(u)));
  if (taken !== undefined) return writeMessageError(res, 409, `membership: peerURL exists (${etcdUrl(taken)} is already a member's)`);
  try {
    const added = await addMember(member, parsed.peerUrls);
    writeJson(res, 201, v2Member(added.member));
  } catch (error) {
    if (error instanceof MemberError && error.code === 105) return writeMessageError(res, 409, `membership: ID exists: ${error.message}`);
    writeInternalError(res, error);
  }
}

async function serveDelete(member: MemberApi, res: ServerResponse, sub: string): Promise<void> {
  const id = memberIdOf(res, sub);
  if (id === undefined) return;
  try {
    await removeMember(member, id);
    res.writeHead(204).end();
  } catch (error) {
    if (error instanceof MemberError && error.code === 100) return writeMessageError(res, 404, `No such member: ${id}`);
    writeInternalError(res, error);
  }
}

function servePut(res: ServerResponse, sub: string): void {
  if (memberIdOf(res, sub) === undefined) return;
  res.setHeader('allow', 'GET,POST,DELETE');
  writeMessageError(res, 405, PUT_UNSUPPORTED);
}

/** etcd's getID: no id is 405 (text), an id that cannot be one is 404. Undefined once answered. */
function memberIdOf(res: ServerResponse, sub: string): string | undefined {
  if (sub === '') {
    writeText(res, 405, 'Method Not Allowed');
    return undefined;
  }
  if (!MEMBER_ID.test(sub)) {
    writeMessageError(res, 404, `No such member: ${sub}`);
    return undefined;
  }
  // cairn ids are lower-case, zero-padded to 16 digits.
  return sub.toLowerCase().padStart(16, '0');
}

type CreateRequest = { peerUrls: string[] } | { status: number; error: string };

/** etcd's unmarshalRequest plus MemberCreateRequest.UnmarshalJSON: the checks and their statuses. */
async function readCreateRequest(req: IncomingMessage, maxBytes: number): Promise<CreateRequest> {
  const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return { status: 415, error: `Bad Content-Type ${contentType}, accept application/json` };
  }
  const body = await readBody(req, maxBytes);
  if (body === null) return { status: 413, error: `the request body is larger than ${maxBytes} bytes (--max-request-bytes)` };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { status: 400, error: `invalid JSON: ${(error as Error).message}` };
  }
  const raw = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['peerURLs'] : undefined;
  if (raw !== undefined && raw !== null && !(Array.isArray(raw) && raw.every((u) => typeof u === 'string'))) {
    return { status: 400, error: 'peerURLs must be an array of strings' };
  }
  const urls = (raw ?? []) as string[];
  if (urls.length === 0) return { status: 400, error: 'no valid URLs given' };
  const peerUrls: string[] = [];
  for (const url of urls) {
    const checked = checkPeerUrl(url.trim());
    if (typeof checked !== 'string') return { status: 400, error: checked.error };
    peerUrls.push(checked);
  }
  return { peerUrls: [...new Set(peerUrls)].sort() };
}

/** etcd's types.NewURLs for one URL: http(s), host:port, no path. Returns cairn's normal form. */
function checkPeerUrl(text: string): string | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `URL is not valid: ${text}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `URL scheme must be http or https: ${text}` };
  // WHATWG URL drops a default port (":80"), so look at the text for the port etcd requires.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:\d+\/?$/i.test(text)) {
    if (url.pathname !== '/') return { error: `URL must not contain a path: ${text}` };
    return { error: `URL address does not have the form "host:port": ${text}` };
  }
  return url.toString();
}

/** etcd answers server-side failures 500; the message says what happened and whether to retry. */
function writeInternalError(res: ServerResponse, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  const retry = error instanceof MemberError && error.retryable ? ' (retry shortly)' : '';
  writeMessageError(res, 500, `Internal Server Error: ${detail}${retry}`);
}

/** etcd's trimPrefix: the path after "/v2/members", without leading slashes, percent-decoded. */
function trimSlashes(subPath: string): string {
  let decoded = subPath;
  try {
    decoded = decodeURIComponent(subPath);
  } catch {
    // A malformed escape stays as sent; it then matches no id and is answered 404.
  }
  return decoded.replace(/^\/+/, '');
}
