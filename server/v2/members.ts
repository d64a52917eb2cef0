// PLACEHOLDER, being replaced by the /v2/members, /v2/members/leader and /v2/machines handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberApi } from '../member-api.js';
import type { V2Options } from './options.js';
import { writeMessageError } from './http.js';

/** /v2/members[/leader|/<id>]; subPath is what follows "/v2/members/" ('' for the list). */
export async function serveMembers(member: MemberApi, req: IncomingMessage, res: ServerResponse, subPath: string, options: V2Options): Promise<void> {
  void member; void req; void subPath; void options;
  writeMessageError(res, 501, 'not built yet');
}

/** /v2/machines: the client URLs of every member, ", "-separated, text/plain. */
export function serveMachines(member: MemberApi, req: IncomingMessage, res: ServerResponse): void {
  void member; void req;
  writeMessageError(res, 501, 'not built yet');
}
