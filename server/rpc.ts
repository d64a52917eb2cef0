// JSON-RPC 2.0 dispatch for the client API: parses a text frame (a request or a batch),
// validates params, runs the method against the member and shapes results and errors as
// ../shared/API.md says.
import { nanoid } from 'nanoid';
import type { ConfChange } from '../core/raft/index.js';
import type { ConfChangeContext } from './apply.js';
import { MemberError } from './errors.js';
import { memberIdFor } from './identity.js';
import type { MemberStatus } from './member-status.js';
import { METHODS, paramErrors } from './rpc-schemas.js';
import type { ApplyResult, Command, MemberInfo } from './state-machine.js';

/** What the RPC layer needs from a member (Member implements it). */
export interface MemberApi {
  readonly memberId: string;
  readonly clusterToken: string;
  status(): MemberStatus;
  members(): MemberInfo[];
  voters(): readonly string[];
  propose(command: Extract<Command, { op: 'set' }>): Promise<ApplyResult>;
  proposeConfChange(change: ConfChange, requestId: string): Promise<ApplyResult>;
  readBarrier(): Promise<number>;
  get(key: string): { value: string; modifiedIndex: number } | undefined;
  transferLeader(id: string): void;
}

type Id = string | number | null;
interface RpcError { code: number; message: string; data?: Record<string, unknown> }
type Response = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: RpcError };

const rpcError = (id: Id, code: number, message: string, data?: Record<string, unknown>): Response =>
  ({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });

/** Handles one WebSocket text frame; returns the reply text, or undefined for notifications only. */
export async function handleRpcText(member: MemberApi, text: string, maxRequestBytes: number, isBinary = false): Promise<string | undefined> {
  if (isBinary) return JSON.stringify(rpcError(null, -32600, 'binary frames are not JSON-RPC; send text frames'));
  if (Buffer.byteLength(text) > maxRequestBytes) {
    return JSON.stringify(rpcError(null, -32600, `request is larger than --max-request-bytes (${maxRequestBytes})`));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return JSON.stringify(rpcError(null, -32700, `parse error: ${(error as Error).message}`));
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return JSON.stringify(rpcError(null, -32600, 'an empty batch is not a valid request'));
    const replies = (await Promise.all(parsed.map((r) => handleRequest(member, r)))).filter((r): r is Response => r !== undefined);
    return replies.length === 0 ? undefined : JSON.stringify(replies);
  }
  const reply = await handleRequest(member, parsed);
  return reply === undefined ? undefined : JSON.stringify(reply);
}

async function handleRequest(member: MemberApi, request: unknown): Promise<Response | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return rpcError(null, -32600, 'a request must be a JSON object');
  }
  const { jsonrpc, method, params, id } = request as Record<string, unknown>;
  const hasId = 'id' in request;
  const replyId: Id = typeof id === 'string' || typeof id === 'number' ? id : null;
  if (jsonrpc !== '2.0' || typeof method !== 'string' || (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number')) {
    return rpcError(replyId, -32600, 'invalid request: needs "jsonrpc": "2.0", a string "method" and a string or number "id"');
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return hasId ? rpcError(replyId, -32602, 'params must be an object of named parameters') : undefined;
  }
  if (!METHODS.includes(method)) {
    return hasId ? rpcError(replyId, -32601, `method not found: ${method}; known methods: ${METHODS.join(', ')}`) : undefined;
  }
  const errors = paramErrors(method, params);
  if (errors !== undefined) return hasId ? rpcError(replyId, -32602, `invalid params for ${method}`, { errors }) : undefined;
  try {
    const result = await runMethod(member, method, (params ?? {}) as Record<string, unknown>);
    return hasId ? { jsonrpc: '2.0', id: replyId, result } : undefined;
  } catch (error) {
    if (!hasId) return undefined;
    if (error instanceof MemberError) {
      return rpcError(replyId, error.code, error.message, { ...error.data, retryable: error.retryable });
    }
    return rpcError(replyId, -32603, `internal error: ${(error as Error).message}`);
  }
}

async function runMethod(member: MemberApi, method: string, p: Record<string, unknown>): Promise<unknown> {
  switch (method) {
    case 'kv.set': {
      const key = p['key'] as string;
      const value = (p['value'] as string | undefined) ?? '';
      const r = await member.propose({ requestId: nanoid(), op: 'set', key, value });
      const node = { key, value, createdIndex: r.index, modifiedIndex: r.index };
      return { action: 'set', node, ...(r.prevValue !== undefined ? { prevNode: { key, value: r.prevValue } } : {}), index: r.index };
    }
    case 'kv.get': {
      const key = p['key'] as string;
      if (p['consistency'] !== 'serializable') await member.readBarrier();
      const found = member.get(key);
      const index = member.status().appliedIndex;
      if (found === undefined) throw new MemberError(100, `key not found: ${key}`, false, { index });
      return { action: 'get', node: { key, value: found.value, modifiedIndex: found.modifiedIndex, createdIndex: found.modifiedIndex }, index };
    }
    case 'cluster.status':
      return member.status();
    case 'cluster.members':
      return { members: membersView(member) };
    case 'cluster.addMember':
      return addMember(member, p['peerUrls'] as string[], p['name'] as string | undefined);
    case 'cluster.removeMember':
      return removeMember(member, p['id'] as string);
    case 'cluster.transferLeader':
      member.transferLeader(p['id'] as string);
      return { leaderId: p['id'] };
    default:
      throw new MemberError(-32601, `method not found: ${method}`, false);
  }
}

function membersView(member: MemberApi): { id: string; name: string; peerUrls: readonly string[]; clientUrls: readonly string[]; isLeader: boolean }[] {
  const leader = member.status().leaderId;
  return member.members().map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerUrls, clientUrls: m.clientUrls, isLeader: m.id === leader }));
}

async function addMember(member: MemberApi, peerUrls: string[], name?: string): Promise<unknown> {
  const id = memberIdFor(peerUrls, member.clusterToken);
  if (member.members().some((m) => m.id === id)) {
    throw new MemberError(105, `a member with peer URLs ${peerUrls.join(',')} already exists (${id})`, false);
  }
  const info: MemberInfo = { id, name: name ?? '', peerUrls: peerUrls.map((u) => new URL(u).toString()), clientUrls: [] };
  const requestId = nanoid();
  const context: ConfChangeContext = { requestId, member: info };
  // Voter at once, as etcd v2's member add: the new member must be started promptly.
  await member.proposeConfChange({ type: 'addVoter', nodeId: id, context: JSON.stringify(context) }, requestId);
  return { member: { ...info, isLeader: false }, members: membersView(member) };
}

async function removeMember(member: MemberApi, id: string): Promise<unknown> {
  if (!member.members().some((m) => m.id === id) && !member.voters().includes(id)) {
    throw new MemberError(100, `no member with id ${id}; see cluster.members`, false);
  }
  const requestId = nanoid();
  const context: ConfChangeContext = { requestId };
  await member.proposeConfChange({ type: 'removeNode', nodeId: id, context: JSON.stringify(context) }, requestId);
  return { members: membersView(member) };
}
