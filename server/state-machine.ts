// The replicated state machine a member applies committed entries to. Until the etcd v2
// store arrives (issue 4) it is a flat key-value map plus the member directory (names and
// URLs of every member, learned through the log). The apply pipeline around it (ordered
// apply, applied index, snapshots) is the real one.

export interface MemberInfo {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** A write carried in a normal log entry; `requestId` lets the proposer find its result. */
export type Command =
  | { readonly requestId: string; readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly requestId: string; readonly op: 'publish'; readonly member: MemberInfo };

export interface ApplyResult {
  readonly index: number;
  readonly prevValue?: string;
}

interface SnapshotBody {
  readonly version: 1;
  readonly kv: [string, string][];
  readonly members: MemberInfo[];
  readonly removed: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class StateMachine {
  private kv = new Map<string, { value: string; modifiedIndex: number }>();
  readonly members = new Map<string, MemberInfo>();
  /** Ids of removed members: never reused, so a stale member cannot come back as new. */
  readonly removed = new Set<string>();

  apply(command: Command, index: number): ApplyResult {
    switch (command.op) {
      case 'set': {
        const prev = this.kv.get(command.key);
        this.kv.set(command.key, { value: command.value, modifiedIndex: index });
        return prev === undefined ? { index } : { index, prevValue: prev.value };
      }
      case 'publish': {
        if (!this.removed.has(command.member.id)) this.members.set(command.member.id, command.member);
        return { index };
      }
    }
  }

  get(key: string): { value: string; modifiedIndex: number } | undefined {
    return this.kv.get(key);
  }

  size(): number {
    return this.kv.size;
  }

  addMember(member: MemberInfo): void {
    const known = this.members.get(member.id);
    // A member's own publish may carry client URLs the add did not know; keep the richer one.
    this.members.set(member.id, known !== undefined && member.clientUrls.length === 0 ? { ...member, clientUrls: known.clientUrls } : member);
  }

  removeMember(id: string): void {
    this.members.delete(id);
    this.removed.add(id);
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = {
      version: 1,
      kv: [...this.kv].map(([k, v]) => [k, v.value]),
      members: [...this.members.values()],
      removed: [...this.removed],
    };
    return encoder.encode(JSON.stringify(body));
  }

  restore(data: Uint8Array, index: number): void {
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    if (body.version !== 1) throw new Error(`state machine: snapshot version ${String(body.version)} is not supported`);
    this.kv = new Map(body.kv.map(([k, v]) => [k, { value: v, modifiedIndex: index }]));
    this.members.clear();
    for (const m of body.members) this.members.set(m.id, m);
    this.removed.clear();
    for (const id of body.removed) this.removed.add(id);
  }
}

export function encodeCommand(command: Command): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): Command {
  const parsed = JSON.parse(decoder.decode(data)) as Command;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.requestId !== 'string') {
    throw new Error('state machine: a committed entry is not a cairn command; the log is damaged');
  }
  return parsed;
}
