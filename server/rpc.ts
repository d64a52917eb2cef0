// JSON-RPC 2.0 dispatch for the client API: parses a text frame (a request or a batch),
// validates params, runs the method against the member and shapes results and errors as
// ../shared/API.md says. Per-connection state (subscriptions, the closed signal) comes in
// the context; the socket itself lives in rpc-connection.ts.
import type {
  CreateParams, DeleteParams, ErrorObject, GetParams, SetParams, TxnParams, WaitParams, WatchParams,
} from '../core/api/types.js';
import { RECIPE_METHODS } from '../recipes/index.js';
import { addMember, membersView, removeMember, transferLeader } from './cluster-service.js';
import { MemberError } from './errors.js';
import { kvCreate, kvDelete, kvGet, kvSet, kvTxn, kvWait, kvWatch } from './kv-service.js';
import type { MemberApi } from './member-api.js';
import { METHODS, paramErrors } from './rpc-schemas.js';
import type { SubscriptionOpener } from './subscriptions.js';

export type { MemberApi } from './member-api.js';

/** One connection's view: the member, its streams, and a signal that fires when it closes. */
export interface RpcContext {
  readonly member: MemberApi;
  readonly subscriptions: SubscriptionOpener;
  readonly closed: AbortSignal;
  readonly maxRequestBytes: number;
}

type Id = string | number | null;
type Response = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: ErrorObject };

const rpcError = (id: Id, code: number, message: string, data?: ErrorObject['data']): Response =>
  ({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });

const oversizedError = (id: Id, max: number): Response => rpcError(id, -32600, `request is larger than --max-request-bytes (${max})`);

/** Whether `text` takes more than `max` bytes in UTF-8: 1 to 3 per UTF-16 unit, so most need no count. */
function tooLarge(text: string, max: number): boolean {
  if (text.length * 3 <= max) return false;
  return text.length > max || Buffer.byteLength(text) > max;
}

/** The requests of one frame: one request, or a batch (answered with an array). */
export interface FrameRequests {
  readonly requests: readonly unknown[];
  readonly batch: boolean;
}

/** A text frame read once: its requests, or the reply refusing all of it. */
export type ReadFrame = FrameRequests | { readonly refusal: string };

/** A request of a batch that alone is over --max-request-bytes; refused by itself. */
class OversizedRequest {
  constructor(readonly id: Id) {}
}

const idOf = (request: unknown): Id => {
  const id = typeof request === 'object' && request !== null ? (request as { id?: unknown }).id : null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
};

/** Whether a request expects a reply: anything but a notification (an object without "id"). */
const expectsReply = (request: unknown): boolean =>
  typeof request !== 'object' || request === null || Array.isArray(request) || 'id' in request;

/**
 * Parses one WebSocket frame. --max-request-bytes bounds each request: a single request over
 * it is refused unparsed; in a batch over it (clients join the requests of one turn), only
 * the requests that are over it alone are refused, and the others run.
 */
export function readFrame(text: string, isBinary: boolean, maxRequestBytes: number): ReadFrame {
  if (isBinary) return { refusal: JSON.stringify(rpcError(null, -32600, 'binary frames are not JSON-RPC; send text frames')) };
  const oversized = tooLarge(text, maxRequestBytes);
  if (oversized && !text.trimStart().startsWith('[')) return { refusal: JSON.stringify(oversizedError(null, maxRequestBytes)) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { refusal: JSON.stringify(rpcError(null, -32700, `parse error: ${(error as Error).message}`)) };
  }
  if (!Array.isArray(parsed)) return { requests: [parsed], batch: false };
  if (parsed.length === 0) return { refusal: JSON.stringify(rpcError(null, -32600, 'an empty batch is not a valid request')) };
  const requests = oversized
    ? parsed.map((r: unknown) => (tooLarge(JSON.stringify(r) ?? '', maxRequestBytes) ? new OversizedRequest(idOf(r)) : r))
    : parsed;
  return { requests, batch: true };
}

/** Runs a frame's requests; the reply text (an array for a batch), or undefined for notifications only. */
export async function answerFrame(ctx: RpcContext, frame: FrameRequests): Promise<string | undefined> {
  if (!frame.batch) {
    const reply = await handleRequest(ctx, frame.requests[0]);
    return reply === undefined ? undefined : JSON.stringify(reply);
  }
  // One request that fails unexpectedly must not take the others' replies with it.
  const answer = (r: unknown): Promise<Response | undefined> => handleRequest(ctx, r)
    .catch((error: Error) => rpcError(idOf(r), -32603, `internal error: ${error.message}`));
  const replies = (await Promise.all(frame.requests.map(answer))).filter((r): r is Response => r !== undefined);
  return replies.length === 0 ? undefined : JSON.stringify(replies);
}

/** Refuses every request of a frame with the same error, each under its own id; undefined if none expects a reply. */
export function refuseFrame(frame: FrameRequests, error: ErrorObject): string | undefined {
  const replies = frame.requests.filter(expectsReply).map((r) => ({ jsonrpc: '2.0', id: idOf(r), error }));
  if (replies.length === 0) return undefined;
  return JSON.stringify(frame.batch ? replies : replies[0]);
}

/** Handles one WebSocket text frame; returns the reply text, or undefined for notifications only. */
export async function handleRpcText(ctx: RpcContext, text: string, isBinary = false): Promise<string | undefined> {
  const frame = readFrame(text, isBinary, ctx.maxRequestBytes);
  return 'refusal' in frame ? frame.refusal : answerFrame(ctx, frame);
}

async function handleRequest(ctx: RpcContext, request: unknown): Promise<Response | undefined> {
  if (request instanceof OversizedRequest) return oversizedError(request.id, ctx.maxRequestBytes);
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return rpcError(null, -32600, 'a request must be a JSON object');
  }
  const { jsonrpc, method, params, id } = request as Record<string, unknown>;
  const hasId = 'id' in request;
  const replyId = idOf(request);
  if (jsonrpc !== '2.0' || typeof method !== 'string' || (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number')) {
    return rpcError(replyId, -32600, 'invalid request: needs "jsonrpc": "2.0", a string "method" and a string or number "id"');
  }
  const reply = await runChecked(ctx, method, params, replyId);
  ctx.member.metrics?.request(METHODS.includes(method) ? method : 'unknown', 'error' in reply ? reply.error.code : 0);
  return hasId ? reply : undefined;
}

async function runChecked(ctx: RpcContext, method: string, params: unknown, id: Id): Promise<Response> {
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return rpcError(id, -32602, 'params must be an object of named parameters', { errors: [{ field: '(params)', problem: 'must be an object of named parameters, not an array or a scalar' }] });
  }
  if (!METHODS.includes(method)) {
    return rpcError(id, -32601, `method not found: ${method}; known methods: ${METHODS.join(', ')}`);
  }
  const errors = paramErrors(method, params);
  if (errors !== undefined) {
    const fields = errors.map((e) => `${e.field} ${e.problem}`).join('; ');
    return rpcError(id, -32602, `invalid params for ${method}: ${fields}`, { errors });
  }
  try {
    return { jsonrpc: '2.0', id, result: await runMethod(ctx, method, (params ?? {}) as Record<string, unknown>) };
  } catch (error) {
    if (error instanceof MemberError) {
      return rpcError(id, error.code, error.message, { ...error.data, retryable: error.retryable });
    }
    return rpcError(id, -32603, `internal error in ${method}: ${(error as Error).message}`);
  }
}

// Params were checked against the method's schema, so the casts below hold. Not async: the
// methods' own promises are awaited once, by runChecked, without a wrapper per request.
function runMethod(ctx: RpcContext, method: string, p: Record<string, unknown>): unknown {
  const { member } = ctx;
  switch (method) {
    case 'kv.get': return kvGet(member, p as unknown as GetParams);
    case 'kv.set': return kvSet(member, p as unknown as SetParams);
    case 'kv.create': return kvCreate(member, p as unknown as CreateParams);
    case 'kv.delete': return kvDelete(member, p as unknown as DeleteParams);
    case 'kv.txn': return kvTxn(member, p as unknown as TxnParams);
    case 'kv.wait': return kvWait(member, p as unknown as WaitParams, ctx.closed);
    case 'kv.watch': return watch(ctx, p as unknown as WatchParams);
    case 'unsubscribe': return unsubscribe(ctx, p['subscription'] as string);
    case 'cluster.status': return member.status();
    case 'cluster.members': return { members: membersView(member) };
    case 'cluster.addMember': return addMember(member, p['peerUrls'] as string[], p['name'] as string | undefined);
    case 'cluster.removeMember': return removeMember(member, p['id'] as string);
    case 'cluster.transferLeader': return transferLeader(member, p['id'] as string);
    default: {
      const recipe = RECIPE_METHODS.get(method);
      if (recipe === undefined) throw new MemberError(-32601, `method not found: ${method}`, false);
      return recipe.run({ member, subscriptions: ctx.subscriptions, closed: ctx.closed }, p);
    }
  }
}

function watch(ctx: RpcContext, p: WatchParams): unknown {
  const sub = ctx.subscriptions.open();
  try {
    return kvWatch(ctx.member, p, sub);
  } catch (error) {
    sub.close();
    throw error;
  }
}

function unsubscribe(ctx: RpcContext, id: string): { unsubscribed: true } {
  if (!ctx.subscriptions.unsubscribe(id)) {
    throw new MemberError(-32602, `no open subscription ${id} on this connection`, false, { errors: [{ field: 'subscription', problem: 'is not an open subscription of this connection' }] });
  }
  return { unsubscribed: true };
}
