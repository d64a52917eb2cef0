// How members and clusters are named. As in etcd, a member's id is derived from its peer
// URLs and the cluster token, so every initial member computes the same ids from
// --initial-cluster alone, and cluster.addMember computes the id the new member will have.
import { createHash } from 'node:crypto';

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

export function memberIdFor(peerUrls: readonly (URL | string)[], clusterToken: string): string {
  const urls = peerUrls.map((u) => new URL(String(u)).toString()).sort();
  return digest(`member|${clusterToken}|${urls.join(',')}`);
}

export function clusterIdFor(memberIds: readonly string[], clusterToken: string): string {
  return digest(`cluster|${clusterToken}|${[...memberIds].sort().join(',')}`);
}
