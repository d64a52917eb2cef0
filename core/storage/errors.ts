// Operating errors of the storage layer. Unlike the Raft core's RaftError values these are
// thrown: a member that cannot trust its disk must stop, and the message tells the operator
// what is wrong and what to do. Programmer errors (a save that breaks the log's shape, an
// entry over the size limit) throw plain Errors instead, like the core's broken invariants.

export type StorageErrorCode =
  /** A file fails its checksum or does not parse: the data dir cannot be trusted as it is. */
  | 'STORAGE_CORRUPT'
  /** Another process holds the data dir's lock file. */
  | 'STORAGE_LOCKED'
  /** The data dir belongs to another cluster than the one this member was told to join. */
  | 'STORAGE_WRONG_CLUSTER'
  /** The operating system refused a read, write, sync or rename. */
  | 'STORAGE_IO';

/** What the operator should do when a member's durable state is damaged. */
export const CORRUPT_ADVICE =
  'restore this member from a healthy peer: remove it from the cluster, move its data dir ' +
  'aside, and add it back as a new member';

export interface StorageErrorDetails {
  /** The file concerned, when there is one. */
  readonly file?: string;
  /** The byte offset in `file` where the damage starts. */
  readonly offset?: number;
  /** The underlying error (an fs error for STORAGE_IO). */
  readonly cause?: unknown;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    details: StorageErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = details.file;
    this.offset = details.offset;
  }
}

/** A STORAGE_CORRUPT error naming the file and byte offset, with the operator's way out. */
export function corruptAt(file: string, offset: number, what: string): StorageError {
  return new StorageError(
    'STORAGE_CORRUPT',
    `${file}: ${what} at byte offset ${offset}; the file is damaged and cairn will not guess ` +
      `around it. To recover, ${CORRUPT_ADVICE}.`,
    { file, offset },
  );
}

/** Wraps an fs failure as STORAGE_IO, keeping the original as `cause`. */
export function ioError(what: string, cause: unknown): StorageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError('STORAGE_IO', `${what}: ${detail}`, { cause });
}
