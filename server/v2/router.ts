// The etcd v2 compatible HTTP API on the client port: which handler serves which /v2 path.
// Paths and methods follow etcd 3.4's v2http package, so etcd v2 tools work unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberApi } from '../member-api.js';
import { allowMethod, setCorsHeaders, writeJson, writeText } from './http.js';
import { serveKeys } from './keys.js';
import { serveMachines, serveMembers } from './members.js';
import type { V2Options } from './options.js';
import { serveStats } from './stats.js';

/** True when `path` belongs to the v2 API (then serveV2 answers it, 404 included). */
export function isV2Path(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** Answers one /v2 request. `rawPath` is the path as sent (still percent-encoded). */
export async function serveV2(member: MemberApi, req: IncomingMessage, res: ServerResponse, rawPath: string, options: V2Options): Promise<void> {
  setCorsHeaders(res);
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  if (rawPath === '/v2/keys' || rawPath.startsWith('/v2/keys/')) return serveKeys(member, req, res, options);
  if (rawPath === '/v2/members' || rawPath.startsWith('/v2/members/')) {
    return serveMembers(member, req, res, rawPath.slice('/v2/members/'.length), options);
  }
  switch (rawPath) {
    case '/v2/machines': return serveMachines(member, req, res);
    case '/v2/stats/self': return serveStats(member, req, res, 'self');
    case '/v2/stats/leader': return serveStats(member, req, res, 'leader');
    case '/v2/stats/store': return serveStats(member, req, res, 'store');
    // v2 auth is not built: every request is allowed, which etcd reports this way.
    case '/v2/auth/enable': return allowMethod(req, res, 'GET') ? writeJson(res, 200, { enabled: false }) : undefined;
    default: return writeText(res, 404, '404 page not found');
  }
}
