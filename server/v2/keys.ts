// PLACEHOLDER: /v2/keys is being written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberApi } from '../member-api.js';
import type { V2Options } from './options.js';
import { writeText } from './http.js';

export async function serveKeys(member: MemberApi, req: IncomingMessage, res: ServerResponse, options: V2Options): Promise<void> {
  void member; void req; void options;
  writeText(res, 501, 'not built yet');
}
