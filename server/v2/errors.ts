// etcd v2 errors as etcd 3.4 writes them on /v2/keys: {"errorCode","message","cause","index"}
// with etcd's exact messages and its HTTP status per code (notes/etcd-v2.md §4). Store and
// member errors are translated here, so the keys handler deals in one error type.
import type { ServerResponse } from 'node:http';
import { StoreError } from '../../core/store/index.js';
import { STORE_ERROR_MESSAGES } from '../../core/store/errors.js';
import { MemberError } from '../errors.js';
import { writeJson } from './http.js';

const MESSAGES: Readonly<Record<number, string>> = {
  ...STORE_ERROR_MESSAGES,
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
};

/** etcd's errorStatus map; every other code is 400. */
const STATUS: Readonly<Record<number, number>> = {
  100: 404, 101: 412, 102: 403, 105: 412, 108: 403, 110: 401, 300: 500, 301: 500,
};

export class V2Error extends Error {
  constructor(readonly errorCode: number, readonly reason: string, readonly index: number) {
    super(`${MESSAGES[errorCode] ?? 'Unknown error'}${reason === '' ? '' : `: ${reason}`}`);
  }

  get status(): number {
    return STATUS[this.errorCode] ?? 400;
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { errorCode: this.errorCode, message: MESSAGES[this.errorCode] ?? 'Unknown error' };
    if (this.reason !== '') body.cause = this.reason;
    body.index = this.index;
    return body;
  }
}

/** A request that fails validation: etcd answers these before touching the store, index 0. */
export const requestError = (code: number, cause: string): V2Error => new V2Error(code, cause, 0);

/** Any failure of a keys request as the v2 error etcd would have answered. */
export function toV2Error(error: unknown): V2Error {
  if (error instanceof V2Error) return error;
  if (error instanceof StoreError) return new V2Error(error.code, error.data.cause, error.data.index);
  if (error instanceof MemberError) {
    const data = error.data as { cause?: unknown; index?: unknown } | undefined;
    if (error.code >= 100 && error.code < 300 && typeof data?.index === 'number') {
      return new V2Error(error.code, typeof data.cause === 'string' ? data.cause : '', data.index);
    }
    // No leader, a timeout or an unknown outcome: etcd 3.4 answers all of these with 300 after
    // its request timeout. The cause keeps cairn's reason, which says whether to re-read.
    return new V2Error(300, `etcdserver: ${error.message}`, 0);
  }
  return new V2Error(300, `etcdserver: ${error instanceof Error ? error.message : String(error)}`, 0);
}

/** Writes an error as etcd does: X-Etcd-Index is the error's index; no X-Raft-* headers. */
export function writeV2Error(res: ServerResponse, error: V2Error, headOnly: boolean): void {
  if (headOnly) {
    res.writeHead(error.status, { 'content-type': 'application/json', 'x-etcd-index': String(error.index) }).end();
    return;
  }
  writeJson(res, error.status, error.body(), { 'x-etcd-index': String(error.index) });
}
