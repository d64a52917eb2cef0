// The cluster.* methods of API.md: status, the member directory, and membership changes
// through Raft configuration changes (one member at a time, as etcd v2 does).
import { newRequestId } from './request-id.js';
import type { MemberView } from '../core/api/types.js';
import type { ConfChangeContext } from './apply.js';
import { MemberError } from './errors.js';
import { memberIdFor } from './identity.js';
import type { MemberApi } from './member-api.js';
import type { MemberInfo } from './state-machine.js';

export function membersView(member: MemberApi): MemberView[] {
  const leader = member.status().leaderId;
  return member.members().map((m) => ({ id: m.id, name: m.name, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls], isLeader: m.id === leader }));
}

export async function addMember(member: MemberApi, peerUrls: string[], name?: string): Promise<{ member: MemberInfo & { readonly isLeader: boolean }; members: MemberView[] }> {
  const id = memberIdFor(peerUrls, member.clusterToken);
  if (member.members().some((m) => m.id === id)) {
    throw new MemberError(105, `a member with peer URLs ${peerUrls.join(',')} already exists (${id})`, false);
  }
  const info: MemberInfo = { id, name: name ?? '', peerUrls: peerUrls.map((u) => new URL(u).toString()), clientUrls: [] };
  const requestId = newRequestId();
  const context: ConfChangeContext = { requestId, member: info };
  // Voter at once, as etcd v2's member add: the new member must be started promptly.
  await member.proposeConfChange({ type: 'addVoter', nodeId: id, context: JSON.stringify(context) }, requestId);
  return { member: { ...info, isLeader: false }, members: membersView(member) };
}

export async function removeMember(member: MemberApi, id: string): Promise<unknown> {
  if (!member.members().some((m) => m.id === id) && !member.voters().includes(id)) {
    throw new MemberError(100, `no member with id ${id}; see cluster.members`, false);
  }
  const requestId = newRequestId();
  const context: ConfChangeContext = { requestId };
  await member.proposeConfChange({ type: 'removeNode', nodeId: id, context: JSON.stringify(context) }, requestId);
  return { members: membersView(member) };
}

export function transferLeader(member: MemberApi, id: string): { leaderId: string } {
  if (!member.voters().includes(id)) throw new MemberError(100, `no voting member with id ${id}; see cluster.members`, false);
  member.transferLeader(id);
  return { leaderId: id };
}
