// The wire types of the client API (../shared/API.md), shared by the member's JSON-RPC layer
// and the TypeScript client, so the two cannot drift apart. Pure types and constants only.

/** A node as API.md shows it: a key (value) or a directory (dir, nodes when listed). */
export interface Node {
  key: string;
  value?: string;
  dir?: true;
  nodes?: Node[];
  /** Seconds left, rounded up; absent for permanent keys. */
  ttl?: number;
  /** RFC 3339; absent for permanent keys. */
  expiration?: string;
  createdIndex: number;
  modifiedIndex: number;
}

export type Action =
  | 'get' | 'set' | 'create' | 'update' | 'compareAndSwap' | 'delete' | 'compareAndDelete' | 'expire';

/** The answer to a kv read or write; `index` is the store index at the time of the answer. */
export interface KvResult {
  action: Action;
  node: Node;
  prevNode?: Node;
  index: number;
  raftIndex: number;
  raftTerm: number;
}

/**
 * One change event in a watch stream or a kv.wait answer. `index` is the store index the
 * change was made at (equal to node.modifiedIndex for most actions): resume from index + 1.
 */
export interface KvEvent {
  action: Action;
  node: Node;
  prevNode?: Node;
  index: number;
}

export type Consistency = 'linearizable' | 'serializable';

export interface GetParams { key: string; recursive?: boolean; sorted?: boolean; consistency?: Consistency; minIndex?: number }
export interface SetParams {
  key: string; value?: string; dir?: boolean; ttl?: number; refresh?: boolean;
  prevExist?: boolean; prevValue?: string; prevIndex?: number;
}
export interface CreateParams { key: string; value?: string; dir?: boolean; ttl?: number }
export interface DeleteParams { key: string; dir?: boolean; recursive?: boolean; prevValue?: string; prevIndex?: number }
export interface WaitParams { key: string; recursive?: boolean; waitIndex?: number; timeoutMs?: number }
export interface WatchParams { key: string; recursive?: boolean; waitIndex?: number; progressMs?: number }

export interface TxnCompare { key: string; value?: string; index?: number; exists?: boolean }
export type TxnOp =
  | { set: SetParams }
  | { create: CreateParams }
  | { delete: DeleteParams }
  | { get: Omit<GetParams, 'consistency' | 'minIndex'> };
export interface TxnParams { compare: TxnCompare[]; success: TxnOp[]; failure?: TxnOp[] }
export interface TxnResult { succeeded: boolean; results: KvResult[]; index: number }

export interface WatchStarted { subscription: string; index: number }
/** What a kv.watch stream's notifications carry in `result`. */
export type WatchNotice = KvEvent | { progress: number };

export interface ClusterStatus {
  clusterId: string; memberId: string; name: string; leaderId: string;
  term: number; commitIndex: number; appliedIndex: number; index: number; version: string;
}
export interface MemberView { id: string; name: string; peerUrls: string[]; clientUrls: string[]; isLeader: boolean }

export interface ErrorData {
  cause?: string;
  index?: number;
  retryable?: boolean;
  /** -32602 only: each bad field and what is wrong with it. */
  errors?: { field: string; problem: string }[];
}
export interface ErrorObject { code: number; message: string; data?: ErrorData }

/** A server-pushed stream item (JSON-RPC notification of method `subscription`). */
/**
 * How a connection wants its notifications (/rpc?notifications=...): "batch", a turn's in one
 * frame; "grouped", also one notification naming every stream that gets the same result.
 * Without the parameter each notification is a frame of its own (API.md).
 */
export type NotificationMode = 'batch' | 'grouped';

export interface SubscriptionParams {
  subscription: string;
  result?: unknown;
  error?: ErrorObject;
}

/** One result for several streams of a connection (notifications=grouped). */
export interface GroupedSubscriptionParams {
  subscriptions: string[];
  result: unknown;
}

/** The error codes of API.md. */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  RaftInternal: 300,
  NoLeader: 301,
  Timeout: 302,
  EventIndexCleared: 401,
  SemaphoreNotHolder: 501,
  ElectionNotLeader: 510,
  JobStaleAttempt: 520,
  JobNotFound: 521,
  ServiceNotFound: 530,
} as const;
