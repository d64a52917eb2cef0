// PLACEHOLDER, being replaced by the /v2/stats/self, /v2/stats/leader and /v2/stats/store handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberApi } from '../member-api.js';
import { writeMessageError } from './http.js';

export type StatsKind = 'self' | 'leader' | 'store';

export function serveStats(member: MemberApi, req: IncomingMessage, res: ServerResponse, kind: StatsKind): void {
  void member; void req; void kind;
  writeMessageError(res, 501, 'not built yet');
}
