// Errors a member returns to clients: codes from ../shared/API.md, a message for people, and
// whether the same request may succeed later unchanged.
export class MemberError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly retryable: boolean,
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export const noLeader = (what: string): MemberError =>
  new MemberError(301, `${what}: no leader or no quorum right now; retry shortly`, true);

export const timedOut = (what: string, ms: number): MemberError =>
  new MemberError(302, `${what}: not known to commit within ${ms} ms; the outcome is unknown, read before retrying`, true);

export const raftInternal = (message: string): MemberError => new MemberError(300, message, false);
