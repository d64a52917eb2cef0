// `GET /v2/keys/…?wait=true` as etcd 3.4 serves it: the first matching event at or after
// waitIndex (from the history, else the next one live), headers flushed before the wait, and
// with stream=true every following event, one JSON line each. Unlike etcd, a stream that starts
// in the history goes on live (etcd stalls after the first event: etcd-io/etcd#1186).
import type { ServerResponse } from 'node:http';
import type { StoreEvent } from '../../core/store/index.js';
import type { MemberApi } from '../member-api.js';
import { toV2Error } from './errors.js';
import type { KeyRequest } from './key-request.js';
import type { V2Options } from './options.js';
import { eventLine } from './render.js';

/**
 * Answers a watch. History errors (a waitIndex older than the history: 401, HTTP 400) are
 * thrown before anything is written, so the caller answers them like any keys error.
 */
export function serveWatch(member: MemberApi, res: ServerResponse, r: KeyRequest, options: V2Options): void {
  const store = member.store;
  const since = r.waitIndex > 0 ? r.waitIndex : store.index + 1;
  let backlog: StoreEvent[] = [];
  try {
    if (since <= store.index) {
      if (r.stream) backlog = store.replay(since, r.key, r.recursive);
      else backlog = [store.eventsSince(since, r.key, r.recursive)].filter((e): e is StoreEvent => e !== null);
    }
  } catch (error) {
    throw toV2Error(error);
  }
  const status = member.status();
  res.writeHead(200, {
    'content-type': 'application/json',
    'x-etcd-index': String(store.index),
    'x-raft-index': String(status.appliedIndex),
    'x-raft-term': String(status.term),
  });
  if (!r.stream && backlog.length > 0) {
    res.end(eventLine(backlog[0]!));
    return;
  }
  // Long poll: the client sees the headers at once, then waits for the event.
  res.flushHeaders();
  let lastSent = since - 1;
  let remove = (): void => undefined;
  const finish = (): void => {
    remove();
    if (!res.writableEnded) res.end();
  };
  const send = (e: StoreEvent): void => {
    if (e.index < since || e.index <= lastSent || res.writableEnded) return;
    lastSent = e.index;
    res.write(eventLine(e));
    // One event per request without stream; a stream whose reader fell behind is ended, as
    // etcd ends one whose 100-event buffer filled (the client watches again from its index).
    if (!r.stream || res.writableLength > options.maxWatchBufferBytes) finish();
  };
  for (const e of backlog) send(e);
  if (res.writableEnded) return;
  remove = member.watchHub.add({ key: r.key, recursive: r.recursive, deliver: send, reset: finish });
  // The client going away removes the watcher (etcd's CloseNotify): a response's 'close' comes
  // when it ended or when its connection closed first.
  res.once('close', finish);
}
