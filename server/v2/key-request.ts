// A /v2/keys request's parameters, checked in the order etcd 3.4's parseKeyRequest checks them,
// so the first problem reported (and its 2xx code and cause) is the one etcd reports.
import { MAX_TTL_SECONDS } from '../rpc-schemas.js';
import type { Form } from './form.js';
import { formValue, parseGoBool, parseGoUint } from './form.js';
import { requestError } from './errors.js';

export interface KeyRequest {
  readonly method: string;
  readonly key: string;
  readonly value: string;
  readonly dir: boolean;
  readonly recursive: boolean;
  readonly sorted: boolean;
  readonly wait: boolean;
  readonly quorum: boolean;
  readonly stream: boolean;
  readonly noValueOnSuccess: boolean;
  /** Absent unless given: prevExist, refresh and ttl are "nullable" in etcd. */
  readonly prevExist?: boolean;
  readonly refresh?: boolean;
  readonly ttl?: number;
  /** '' when absent (an empty prevValue is refused). */
  readonly prevValue: string;
  /** 0 when absent, as in etcd. */
  readonly prevIndex: number;
  readonly waitIndex: number;
}

function uint(form: Form, name: string): number {
  const values = form.get(name);
  if (values === undefined) return 0;
  const n = parseGoUint(values[0]!);
  if (n === undefined) throw requestError(203, `invalid value for "${name}"`);
  return n;
}

/** A boolean flag; `quoted` follows etcd, which quotes some names in the cause and not others. */
function bool(form: Form, name: string, quoted = true): boolean | undefined {
  const values = form.get(name);
  if (values === undefined) return undefined;
  const b = parseGoBool(values[0]!);
  if (b === undefined) throw requestError(209, quoted ? `invalid value for "${name}"` : `invalid value for ${name}`);
  return b;
}

function ttlOf(form: Form): number | undefined {
  const text = formValue(form, 'ttl');
  if (text === '') return undefined; // an empty ttl means "no TTL", as in etcd
  const n = parseGoUint(form.get('ttl')![0]!);
  // etcd overflows a huge ttl into a past expiration; cairn refuses it instead.
  if (n === undefined || n > MAX_TTL_SECONDS) throw requestError(202, 'invalid value for "ttl"');
  return n;
}

/** Checks and reads a keys request; throws the V2Error etcd would answer. */
export function parseKeyRequest(method: string, key: string, form: Form): KeyRequest {
  const prevIndex = uint(form, 'prevIndex');
  const waitIndex = uint(form, 'waitIndex');
  const recursive = bool(form, 'recursive') ?? false;
  const sorted = bool(form, 'sorted') ?? false;
  const wait = bool(form, 'wait') ?? false;
  const dir = bool(form, 'dir') ?? false;
  const quorum = bool(form, 'quorum') ?? false;
  const stream = bool(form, 'stream') ?? false;
  if (wait && method !== 'GET') throw requestError(209, '"wait" can only be used with GET requests');
  const prevValue = formValue(form, 'prevValue');
  if (form.has('prevValue') && prevValue === '') throw requestError(201, '"prevValue" cannot be empty');
  const noValueOnSuccess = bool(form, 'noValueOnSuccess') ?? false;
  const ttl = ttlOf(form);
  const prevExist = bool(form, 'prevExist', false);
  const refresh = bool(form, 'refresh', false);
  const value = formValue(form, 'value');
  if (refresh === true) {
    if (form.has('value') && value !== '') throw requestError(211, 'A value was provided on a refresh');
    if (ttl === undefined) throw requestError(212, 'No TTL value set');
  }
  const request: KeyRequest = {
    method, key, value, dir, recursive, sorted, wait, quorum, stream, noValueOnSuccess, prevValue, prevIndex, waitIndex,
  };
  return { ...request, ...(prevExist === undefined ? {} : { prevExist }), ...(refresh === undefined ? {} : { refresh }), ...(ttl === undefined ? {} : { ttl }) };
}
