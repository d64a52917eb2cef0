// Small HTTP helpers shared by the etcd v2 compatible endpoints (server/v2/*): the response
// shapes and headers of etcd 3.4's v2 handlers, which clients and tools depend on.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** etcd sends these on every v2 response (notes/etcd-v2.md §3, "Response headers"). */
const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-headers': 'accept, content-type, authorization',
};

export function setCorsHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
}

/** A JSON body followed by a newline, as Go's json.Encoder writes it. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Go's http.Error: a text/plain line. */
export function writeText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = text + '\n';
  res.writeHead(status, {
    ...headers, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The error shape of etcd's non-keys endpoints (/v2/members, /v2/stats): {"message": …}. */
export function writeMessageError(res: ServerResponse, status: number, message: string): void {
  writeJson(res, status, { message });
}

/** etcd's allowMethod: 405 with an Allow header naming the methods this endpoint takes. */
export function allowMethod(req: IncomingMessage, res: ServerResponse, ...methods: string[]): boolean {
  if (methods.includes(req.method ?? '')) return true;
  writeText(res, 405, 'Method Not Allowed', { allow: methods.join(',') });
  return false;
}

/** Reads a request body up to maxBytes; resolves null when it is larger (the caller answers). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
