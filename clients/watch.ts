// A kv.watch that survives the cluster under it: it resubscribes after a lost connection (to
// any member), after a member ends the stream, and after its own buffer overflows, always
// with waitIndex = the last index it delivered (or heard of through progress) + 1, so it
// neither skips nor repeats an event. When the member's history no longer reaches back that
// far (401 twice in a row) it re-reads the key and yields that read as an event whose action
// is `get`: "re-read; treat this as the full current state".
import { setMaxListeners } from 'node:events';
import { ErrorCodes } from '../core/api/types.js';
import type { KvEvent, KvResult, WatchNotice, WatchParams } from '../core/api/types.js';
import { ClientErrorCodes, abortedError, closedError, isCairnError } from './errors.js';
import type { CairnError } from './errors.js';
import { backoffMs, linkSignals, sleep } from './retry.js';
import type { LinkedSignal, RetryPolicy } from './retry.js';
import { MAX_BUFFERED_DEFAULT } from './subscription.js';
import type { Subscription } from './subscription.js';
import { expectWatchNotice, expectWatchStarted } from './validate.js';

export interface WatchOptions {
  /** Also every key below `key`. */
  recursive?: boolean;
  /** The first index to deliver; without it, changes after the watch starts. */
  waitIndex?: number;
  /** Ask the member for a progress mark on an idle stream this often (keeps resumes cheap). */
  progressMs?: number;
  /** Aborting ends the iteration with an AbortError (CairnError code 600). */
  signal?: AbortSignal;
  /** Undelivered events held at most; beyond, the stream is dropped and resumed later. */
  maxBuffered?: number;
  /** Failed resubscribes in a row before the iteration throws (default: no limit). */
  maxRetries?: number;
}

/** What a Watch needs from the client (CairnClient provides it). */
export interface WatchHost {
  readonly retryPolicy: RetryPolicy;
  /** Fires when the client closes; a watch then ends quietly. */
  readonly closingSignal: AbortSignal;
  subscribe(method: string, params: object, options: { signal: AbortSignal; maxBuffered: number; maxRetries: number }): Promise<Subscription>;
  get(key: string, options: { recursive?: boolean; signal: AbortSignal }): Promise<KvResult>;
}

/** What to do after a stream ended or could not be started. */
type Next = 'resume' | 'reread' | 'backoff' | 'stop';

export class Watch implements AsyncIterable<KvEvent> {
  private resumeIndex: number | undefined;
  private readonly stopper = new AbortController();
  private generator: AsyncGenerator<KvEvent> | undefined;
  private failures = 0;
  /** The last stream ended with 401 and nothing was delivered since. */
  private after401 = false;
  /** A re-read was decided on and has not succeeded yet. */
  private rereadPending = false;

  constructor(private readonly host: WatchHost, readonly key: string, private readonly options: WatchOptions = {}) {
    // Every call or stream in flight listens on it; dozens at once are normal, not a leak.
    setMaxListeners(0, this.stopper.signal);
    this.resumeIndex = options.waitIndex;
  }

  /** The waitIndex the next stream would ask for (last delivered or progress index + 1). */
  get nextIndex(): number | undefined {
    return this.resumeIndex;
  }

  /** Ends the watch: the member is told to stop and the iteration ends without error. */
  close(): void {
    this.stopper.abort(closedError('watch'));
  }

  [Symbol.asyncIterator](): AsyncIterator<KvEvent> {
    this.generator ??= this.run();
    return this.generator;
  }

  // One generator with the stream loop inline, not generators nested with yield*: every
  // level of yield* costs each event a few promise hops, and a process that hosts 1,000
  // watchers pays them 1,000 times per change.
  private async *run(): AsyncGenerator<KvEvent> {
    const link = linkSignals([this.options.signal, this.stopper.signal, this.host.closingSignal]);
    let sub: Subscription | undefined;
    try {
      let next: Next = 'resume';
      while (next !== 'stop') {
        if (next === 'backoff') {
          next = await this.backoff(link);
          continue;
        }
        if (next === 'reread') {
          const event = await this.reread(link);
          next = typeof event === 'string' ? event : 'resume';
          if (typeof event !== 'string') yield event;
          continue;
        }
        // One stream: open it, yield its events, then decide what to do once it has ended.
        let ended: CairnError | undefined;
        let refused = true;
        try {
          sub = await this.open(link.signal);
          refused = false;
          for (;;) {
            let item: IteratorResult<unknown>;
            try {
              item = await sub.next();
            } catch (error) {
              if (!isCairnError(error)) throw error;
              ended = error;
              break;
            }
            if (item.done === true) break;
            const event = this.accept(expectWatchNotice('kv.watch', item.value));
            if (event !== undefined) yield event;
          }
        } catch (error) {
          if (!isCairnError(error)) throw error;
          ended = error;
        }
        sub?.close(); // A no-op for an ended stream; unsubscribes after a bad notice.
        sub = undefined;
        next = this.decide(ended, refused, link);
      }
    } finally {
      sub?.close(); // Still set only when the consumer left in the middle of a stream.
      link.dispose();
    }
  }

  private async open(signal: AbortSignal): Promise<Subscription> {
    const params: WatchParams = { key: this.key };
    if (this.options.recursive === true) params.recursive = true;
    if (this.resumeIndex !== undefined) params.waitIndex = this.resumeIndex;
    if (this.options.progressMs !== undefined) params.progressMs = this.options.progressMs;
    const sub = await this.host.subscribe('kv.watch', params, {
      signal,
      maxBuffered: this.options.maxBuffered ?? MAX_BUFFERED_DEFAULT,
      maxRetries: 0, // This loop does the retrying, with its own budget.
    });
    try {
      const started = expectWatchStarted('kv.watch', sub.started);
      // Without a waitIndex the stream starts after the index it was registered at.
      this.resumeIndex ??= started.index + 1;
      return sub;
    } catch (error) {
      sub.close();
      throw error;
    }
  }

  /** Moves the resume point past one notification; returns the event to deliver, if any. */
  private accept(notice: WatchNotice): KvEvent | undefined {
    this.failures = 0;
    if ('progress' in notice) {
      this.resumeIndex = Math.max(this.resumeIndex ?? 0, notice.progress + 1);
      return undefined;
    }
    // A member that replays from an older index than asked is not followed into repeats.
    if (this.resumeIndex !== undefined && notice.index < this.resumeIndex) return undefined;
    this.resumeIndex = notice.index + 1;
    this.after401 = false;
    return notice;
  }

  /** Chooses the next step after a stream ended with `error` (or was refused, if `refused`). */
  private decide(error: CairnError | undefined, refused: boolean, link: LinkedSignal): Next {
    if (link.signal.aborted || error === undefined || error.code === ClientErrorCodes.Closed) {
      if (this.options.signal?.aborted === true) throw abortedError('watch');
      return 'stop';
    }
    if (error.code === ErrorCodes.EventIndexCleared) {
      if (refused || this.after401) return 'reread';
      this.after401 = true;
      return 'resume';
    }
    if (error.code === ClientErrorCodes.Overflow) return 'resume';
    if (!error.retryable) throw error;
    this.failures++;
    if (this.failures > (this.options.maxRetries ?? Infinity)) throw error;
    return 'backoff';
  }

  private async backoff(link: LinkedSignal): Promise<Next> {
    const policy = this.host.retryPolicy;
    try {
      await sleep(backoffMs(this.failures - 1, policy, policy.random), link.signal, 'watch');
      return this.rereadPending ? 'reread' : 'resume';
    } catch (error) {
      if (!isCairnError(error)) throw error;
      return this.decide(error, false, link); // The sleep ends early only when aborted.
    }
  }

  /**
   * Reads the key as it is now. A missing key reads as a node with no value and index 0, at
   * the index the member reported. After a failure it returns the next step (back off and
   * read again, or stop), or throws what may not be retried.
   */
  private async reread(link: LinkedSignal): Promise<KvEvent | Next> {
    this.rereadPending = true;
    try {
      const options = this.options.recursive === true ? { recursive: true, signal: link.signal } : { signal: link.signal };
      const result = await this.host.get(this.key, options);
      return this.rereadDone(result.index, result.node);
    } catch (error) {
      if (!isCairnError(error)) throw error;
      const index = error.data?.index;
      if (error.code === ErrorCodes.KeyNotFound && index !== undefined && Number.isSafeInteger(index)) {
        return this.rereadDone(index, { key: this.key, createdIndex: 0, modifiedIndex: 0 });
      }
      return this.decide(error, false, link);
    }
  }

  private rereadDone(index: number, node: KvEvent['node']): KvEvent {
    this.resumeIndex = index + 1;
    this.after401 = false;
    this.rereadPending = false;
    return { action: 'get', node, index };
  }
}

