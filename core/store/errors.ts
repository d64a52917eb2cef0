// Store errors carry the etcd v2 / API.md error codes, so the JSON-RPC and v2 HTTP layers can
// map them without string matching; `cause` follows etcd's wording where clients parse it.
import { ErrorCodes } from '../api/types.js';

/** The API.md codes the store itself raises (the one table of codes is core/api/types.ts). */
const { KeyNotFound, TestFailed, NotFile, NotDir, NodeExist, RootReadOnly, DirNotEmpty, EventIndexCleared } = ErrorCodes;
export const ErrorCode = { KeyNotFound, TestFailed, NotFile, NotDir, NodeExist, RootReadOnly, DirNotEmpty, EventIndexCleared } as const;

export type StoreErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** etcd's exact message per code (the v2 HTTP API sends them as they are). */
export const STORE_ERROR_MESSAGES: Readonly<Record<StoreErrorCode, string>> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  104: 'Not a directory',
  105: 'Key already exists',
  107: 'Root is read only',
  108: 'Directory not empty',
  401: 'The event in requested index is outdated and cleared',
};

export interface StoreErrorData {
  cause: string;
  /** The store index when the error happened (etcd's error `index`). */
  index: number;
}

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly data: StoreErrorData;
  /** For 401 only: the oldest index still in the event history. */
  readonly oldestIndex: number | undefined;

  constructor(code: StoreErrorCode, cause: string, index: number, oldestIndex?: number) {
    super(`${STORE_ERROR_MESSAGES[code]}: ${cause}`);
    this.name = 'StoreError';
    this.code = code;
    this.data = { cause, index };
    this.oldestIndex = oldestIndex;
  }
}
