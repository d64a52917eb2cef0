// The shape of cluster.status (../shared/API.md), shared by the member and the RPC layer.
export interface MemberStatus {
  readonly clusterId: string;
  readonly memberId: string;
  readonly name: string;
  readonly leaderId: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly index: number;
  readonly version: string;
}

export const VERSION = '0.1.0';
