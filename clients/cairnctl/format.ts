// cairnctl's output, as pure functions from results to lines: simple output as etcdctl v2
// prints it, `extended` as its rfc2822-like blocks, `json` as the result itself.
import type { ClusterStatus, KvEvent, KvResult, MemberView } from '../../core/api/types.js';
import { isCairnError } from '../errors.js';
import type { AddMemberResult, MembersResult } from '../types.js';
import type { KvPrint, OutputFormat } from './parse.js';

export interface Output { stdout: string[]; stderr: string[]; exitCode: 0 | 1 }

const ok = (stdout: string[]): Output => ({ stdout, stderr: [], exitCode: 0 });

/** How cairnctl reports any failure on stderr: `Error: <code>: <message>`. */
export function formatError(error: unknown): string {
  if (isCairnError(error)) return `Error: ${error.code}: ${error.message}`;
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}

const isRemoval = (action: string): boolean => action === 'delete' || action === 'compareAndDelete' || action === 'expire';

/** One result or event as etcdctl's printResponseKey prints it. */
export function formatResponse(result: KvResult | KvEvent, output: OutputFormat): string[] {
  if (output === 'json') return [JSON.stringify(result)];
  if (output === 'simple') {
    return isRemoval(result.action) ? [`PrevNode.Value: ${result.prevNode?.value ?? ''}`] : [result.node.value ?? ''];
  }
  const lines = [`Key: ${result.node.key}`, `Created-Index: ${result.node.createdIndex}`, `Modified-Index: ${result.node.modifiedIndex}`];
  if (result.prevNode !== undefined) lines.push(`PrevNode.Value: ${result.prevNode.value ?? ''}`);
  lines.push(`TTL: ${result.node.ttl ?? 0}`, `Index: ${result.index}`);
  if (!isRemoval(result.action)) lines.push('', result.node.value ?? '');
  return lines;
}

export function formatKv(result: KvResult, print: KvPrint, output: OutputFormat): Output {
  if (print === 'get' && result.node.dir === true && output === 'simple') {
    return { stdout: [], stderr: [`Error: ${result.node.key}: is a directory`], exitCode: 1 };
  }
  if (output !== 'simple' || print === 'value' || print === 'get') return ok(formatResponse(result, output));
  switch (print) {
    case 'none':
      return ok([]);
    case 'rm':
      return ok(result.node.dir === true ? [] : formatResponse(result, output));
    case 'ls':
    case 'ls-p':
      return ok(listing(result, print === 'ls-p'));
  }
}

/** etcdctl ls: a key lists itself; a directory lists what is below it, depth first. */
function listing(result: KvResult, slashDirs: boolean): string[] {
  const lines: string[] = [];
  const walk = (node: KvResult['node']): void => {
    lines.push(node.dir === true && slashDirs ? `${node.key}/` : node.key);
    for (const child of node.nodes ?? []) walk(child);
  };
  if (result.node.dir !== true) lines.push(result.node.key);
  for (const child of result.node.nodes ?? []) walk(child);
  return lines;
}

export function formatMembers(result: MembersResult, output: OutputFormat): string[] {
  if (output === 'json') return [JSON.stringify(result)];
  return result.members.map(memberLine);
}

const memberLine = (m: MemberView): string =>
  `${m.id}: name=${m.name} peerURLs=${m.peerUrls.join(',')} clientURLs=${m.clientUrls.join(',')} isLeader=${m.isLeader}`;

/** As etcdctl member add: the settings the new member must be started with. */
export function formatMemberAdded(result: AddMemberResult, name: string, output: OutputFormat): string[] {
  if (output === 'json') return [JSON.stringify(result)];
  const initial = result.members.flatMap((m) => {
    const memberName = m.id === result.member.id ? name : m.name;
    return memberName === '' ? [] : m.peerUrls.map((url) => `${memberName}=${url}`);
  });
  return [
    `Added member named ${name} with ID ${result.member.id} to cluster`,
    '',
    `CAIRN_NAME="${name}"`,
    `CAIRN_INITIAL_CLUSTER="${initial.join(',')}"`,
    'CAIRN_INITIAL_CLUSTER_STATE="existing"',
  ];
}

export function formatMemberRemoved(id: string, result: MembersResult, output: OutputFormat): string[] {
  return output === 'json' ? [JSON.stringify(result)] : [`Removed member ${id} from cluster`];
}

export interface HealthReport { endpoint: string; healthy: boolean; tookMs: number; error?: string }

export function formatHealth(reports: readonly HealthReport[], output: OutputFormat): Output {
  const exitCode = reports.every((r) => r.healthy) ? 0 : 1;
  if (output === 'json') return { stdout: [JSON.stringify(reports)], stderr: [], exitCode };
  return {
    stdout: reports.filter((r) => r.healthy).map((r) => `${r.endpoint} is healthy: took = ${r.tookMs} ms`),
    stderr: reports.filter((r) => !r.healthy).map((r) => `${r.endpoint} is unhealthy: ${r.error ?? 'unknown'}`),
    exitCode,
  };
}

export type StatusReport = { endpoint: string; status: ClusterStatus } | { endpoint: string; error: unknown };

export function formatStatus(reports: readonly StatusReport[], output: OutputFormat): Output {
  const failed = reports.filter((r): r is { endpoint: string; error: unknown } => 'error' in r);
  const exitCode = failed.length === 0 ? 0 : 1;
  const stderr = failed.map((r) => formatError(r.error));
  if (output === 'json') {
    const json = reports.map((r) => ('status' in r ? r : { endpoint: r.endpoint, error: formatError(r.error) }));
    return { stdout: [JSON.stringify(json)], stderr, exitCode };
  }
  const stdout = reports.flatMap((r) => {
    if (!('status' in r)) return [];
    const s = r.status;
    return [`${r.endpoint}: memberId=${s.memberId} name=${s.name} leaderId=${s.leaderId} isLeader=${s.memberId === s.leaderId} ` +
      `term=${s.term} index=${s.index} commitIndex=${s.commitIndex} appliedIndex=${s.appliedIndex} version=${s.version}`];
  });
  return { stdout, stderr, exitCode };
}

/** The environment etcdctl exec-watch gives the command, for one event. */
export function watchEnv(event: KvEvent): Record<string, string> {
  return {
    ETCD_WATCH_ACTION: event.action,
    ETCD_WATCH_MODIFIED_INDEX: String(event.node.modifiedIndex),
    ETCD_WATCH_KEY: event.node.key,
    ETCD_WATCH_VALUE: event.node.value ?? '',
  };
}
