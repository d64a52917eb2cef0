// Groups the subscription notifications a connection is sent in one event-loop turn into one
// JSON-RPC batch frame (an array of notifications), for clients that ask for it when they
// connect (/rpc?notifications=batch). A put watched by 100 streams of one connection is then
// one frame, not 100: the per-frame cost on the client (WebSocket framing, a message event,
// a parse call) was the largest part of a 1,000-watcher fan-out. Replies never go into a
// batch (JSON-RPC answers only a batch of requests with an array), and a reply sent after
// notifications leaves after them: the order on the socket is the order of the calls.
//
// With /rpc?notifications=grouped, consecutive notifications of the same result (one event,
// many streams watching its key) also become one notification naming every stream:
// {"method":"subscription","params":{"subscriptions":[ids],"result":...}}. Then the client
// parses the event once, not once per stream; parsing was most of its fan-out CPU after
// batching. A result for one stream alone is written as the plain notification.

import type { NotificationMode } from '../core/api/types.js';

/** A batch is written out before it would grow past this many characters. */
export const MAX_BATCH_CHARS = 256 * 1024;

/** The plain notification of `resultJson` (already JSON) to one stream. */
export const subscriptionNotice = (id: string, resultJson: string): string =>
  `{"jsonrpc":"2.0","method":"subscription","params":{"subscription":${JSON.stringify(id)},"result":${resultJson}}}`;

/** One result for several streams (notifications=grouped). */
interface Group {
  readonly resultJson: string;
  readonly ids: string[];
}

export class NotificationBatcher {
  private pending: (string | Group)[] = [];
  private chars = 0;

  /** `write` sends one frame; `schedule` runs the end-of-turn flush (setImmediate). */
  constructor(
    private readonly write: (frame: string) => void,
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
    private readonly mode: NotificationMode = 'batch',
  ) {}

  /** Queues one notification (a JSON-RPC notification object in JSON) for this turn's frame. */
  add(notification: string): void {
    this.queue(notification, notification.length);
  }

  /** Queues `resultJson` for stream `id`; grouped with the one before when it is the same result. */
  addResult(id: string, resultJson: string): void {
    if (this.mode !== 'grouped') {
      this.add(subscriptionNotice(id, resultJson));
      return;
    }
    const idChars = id.length + 3;
    const last = this.pending.at(-1);
    if (typeof last === 'object' && last.resultJson === resultJson && this.chars + idChars <= MAX_BATCH_CHARS) {
      last.ids.push(id);
      this.chars += idChars;
      return;
    }
    this.queue({ resultJson, ids: [id] }, resultJson.length + idChars + 80);
  }

  /** Writes what is queued: one notification as itself, several as one array. */
  flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    this.chars = 0;
    this.write(pending.length === 1 ? render(pending[0]!) : `[${pending.map(render).join(',')}]`);
  }

  private queue(entry: string | Group, chars: number): void {
    if (this.pending.length > 0 && this.chars + chars > MAX_BATCH_CHARS) this.flush();
    if (this.pending.length === 0) this.schedule(() => this.flush());
    this.pending.push(entry);
    this.chars += chars;
  }
}

function render(entry: string | Group): string {
  if (typeof entry === 'string') return entry;
  if (entry.ids.length === 1) return subscriptionNotice(entry.ids[0]!, entry.resultJson);
  return `{"jsonrpc":"2.0","method":"subscription","params":{"subscriptions":${JSON.stringify(entry.ids)},"result":${entry.resultJson}}}`;
}
