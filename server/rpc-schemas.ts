// JSON schemas of every method's params, checked with ajv before a method runs, so bad input is
// refused with -32602 and a list naming each bad field in words a person can act on. Rules that
// tie several fields together (etcd v2's request validation) live in ./kv-rules.ts.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { RECIPE_METHODS } from '../recipes/index.js';
import { ruleProblems, type ParamProblem } from './kv-rules.js';
import { survivesUtf8 } from './unicode.js';

/**
 * TTL in seconds. etcd accepts 0 (the key expires at the next sweep) and refuses a negative one.
 * The cap (about 68 years) keeps the deadline a valid Date: etcd overflows a huge ttl into an
 * already-past expiration, and new Date(...).toISOString() would throw on one.
 */
export const MAX_TTL_SECONDS = 2_147_483_647;
/** A kv.wait that outlives an hour is better re-issued: the client learns the server is alive. */
export const MAX_TIMEOUT_MS = 3_600_000;
/** Progress more often than every 100 ms would cost more than the events it stands in for. */
export const MIN_PROGRESS_MS = 100;
/**
 * Bounds on a transaction, as etcd v3's --max-txn-ops: it is one log entry applied atomically,
 * so its size is bounded. A compare list may be empty (an unconditional atomic batch, as in v3).
 */
export const MAX_TXN_COMPARES = 64;
export const MAX_TXN_OPS = 64;
/** A reply lists at most this many problems, so a huge bad request cannot make a huger reply. */
export const MAX_PROBLEMS = 32;

// Building blocks. `description` completes "must be …" when a string's length or pattern fails.
const key = { type: 'string', minLength: 1, maxLength: 4096, description: 'a non-empty key of at most 4096 characters' } as const;
const value = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
// Indexes stay within exact integer arithmetic.
const index = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const ttl = { type: 'integer', minimum: 0, maximum: MAX_TTL_SECONDS } as const;
const prevValue = {
  type: 'string', minLength: 1,
  description: 'a non-empty string: etcd refuses an empty prevValue (error 201); kv.txn can compare with ""',
} as const;
const url = { type: 'string', pattern: '^http://[^/\\s]+:[0-9]+/?$', description: 'an http://host:port URL' } as const;
const memberId = { type: 'string', minLength: 1, description: 'a member id from cluster.members' } as const;

/** An object schema that names itself (for "not a known parameter of …") and allows nothing else. */
function params(title: string, properties: Record<string, object>, required: string[] = []): object {
  return { type: 'object', title, additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}

const kvSet = params('kv.set', {
  key, value, dir: bool, ttl, refresh: bool, prevExist: bool, prevValue, prevIndex: index,
}, ['key']);
const kvCreate = params('kv.create', { key, value, dir: bool, ttl }, ['key']);
const kvDelete = params('kv.delete', { key, dir: bool, recursive: bool, prevValue, prevIndex: index }, ['key']);
// Inside a txn a get reads the state the txn sees, so it takes no consistency of its own.
const txnGet = params('kv.get in kv.txn', { key, recursive: bool, sorted: bool }, ['key']);

const txnOp = {
  type: 'object', title: 'a kv.txn op', additionalProperties: false, minProperties: 1, maxProperties: 1,
  properties: { set: kvSet, create: kvCreate, delete: kvDelete, get: txnGet },
} as const;
const txnCompare = params('a kv.txn compare', { key, value, index, exists: bool }, ['key']);
const ops = { type: 'array', maxItems: MAX_TXN_OPS, items: txnOp } as const;

const schemas: Record<string, object> = {
  'kv.get': params('kv.get', {
    key, recursive: bool, sorted: bool, consistency: { enum: ['linearizable', 'serializable'] }, minIndex: index,
  }, ['key']),
  'kv.set': kvSet,
  'kv.create': kvCreate,
  'kv.delete': kvDelete,
  'kv.wait': params('kv.wait', {
    key, recursive: bool, waitIndex: index, timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS },
  }, ['key']),
  'kv.watch': params('kv.watch', {
    key, recursive: bool, waitIndex: index, progressMs: { type: 'integer', minimum: MIN_PROGRESS_MS, maximum: MAX_TIMEOUT_MS },
  }, ['key']),
  'kv.txn': params('kv.txn', {
    compare: { type: 'array', maxItems: MAX_TXN_COMPARES, items: txnCompare }, success: ops, failure: ops,
  }, ['compare', 'success']),
  unsubscribe: params('unsubscribe', {
    subscription: { type: 'string', minLength: 1, maxLength: 256, description: 'a non-empty subscription id' },
  }, ['subscription']),
  'cluster.status': params('cluster.status', {}),
  'cluster.members': params('cluster.members', {}),
  'cluster.addMember': params('cluster.addMember', {
    peerUrls: { type: 'array', minItems: 1, maxItems: 8, items: url },
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: '1 to 64 letters, digits, ".", "_" or "-"' },
  }, ['peerUrls']),
  'cluster.removeMember': params('cluster.removeMember', { id: memberId }, ['id']),
  'cluster.transferLeader': params('cluster.transferLeader', { id: memberId }, ['id']),
};

// The recipes' methods bring their own schemas (recipes/*/index.ts).
for (const [name, method] of RECIPE_METHODS) schemas[name] = method.schema;

// verbose: each error carries its parent schema, whose title and properties the messages use.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validators = new Map<string, ValidateFunction>(Object.entries(schemas).map(([m, s]) => [m, ajv.compile(s)]));

export const METHODS: readonly string[] = [...validators.keys()];

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean (true or false)',
  object: 'an object', array: 'an array',
};

interface ParentSchema { title?: string; description?: string; properties?: Record<string, unknown> }

/** RFC 6901 escaping, so a name holding "/" cannot pass for a nested field. */
const pointerSegment = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** The field an error is about; a missing or unknown property is named itself, not its parent. */
function fieldOf(e: ErrorObject): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  const name = p.missingProperty ?? p.additionalProperty;
  const parts = e.instancePath === '' ? [] : [e.instancePath.slice(1)];
  if (name !== undefined) parts.push(pointerSegment(name));
  return parts.length === 0 ? '(params)' : parts.join('/');
}

function unknownProblem(parent: ParentSchema): string {
  const known = Object.keys(parent.properties ?? {});
  const of = `is not a known parameter of ${parent.title ?? 'this object'}`;
  return known.length === 0 ? `${of}, which takes none` : `${of}; known: ${known.join(', ')}`;
}

/** ajv's error in a sentence that says what to send instead. */
function problemOf(e: ErrorObject): string {
  const parent = (e.parentSchema ?? {}) as ParentSchema;
  const p = e.params as { type?: string; limit?: number; allowedValues?: unknown[] };
  switch (e.keyword) {
    case 'required': return 'is required';
    case 'additionalProperties': return unknownProblem(parent);
    case 'type': return `must be ${TYPE_NAMES[p.type ?? ''] ?? p.type}`;
    case 'minimum': return `must be at least ${p.limit}`;
    case 'maximum': return `must be at most ${p.limit}`;
    case 'enum': return `must be one of: ${(p.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minItems': return `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems': return `must have at most ${p.limit} items`;
    case 'minProperties':
    case 'maxProperties': return `must hold exactly one of: ${Object.keys(parent.properties ?? {}).join(', ')}`;
    case 'minLength':
    case 'maxLength':
    case 'pattern':
      if (parent.description !== undefined) return `must be ${parent.description}`;
      return e.message ?? 'is invalid';
    default: return e.message ?? 'is invalid';
  }
}

/** One problem per field (the schema's first), capped at MAX_PROBLEMS with a note of the rest. */
function condense(found: ParamProblem[]): ParamProblem[] {
  const seen = new Set<string>();
  const unique = found.filter((f) => {
    if (seen.has(f.field)) return false;
    seen.add(f.field);
    return true;
  });
  if (unique.length <= MAX_PROBLEMS) return unique;
  const rest = unique.length - (MAX_PROBLEMS - 1);
  return [...unique.slice(0, MAX_PROBLEMS - 1), { field: '(params)', problem: `has ${rest} more problems not listed; fix these first` }];
}

/**
 * Strings holding an unpaired UTF-16 surrogate, which JSON can carry as an escape ("\ud800")
 * but UTF-8 cannot: snapshots (and any binary encoding) store strings as UTF-8, where one
 * would become U+FFFD. A member restored from a snapshot would then hold a different key or
 * value than the members that applied the write, and answer a compare differently. So such a
 * string is refused, as input that cannot be stored as sent (etcd's Go JSON decoder replaces
 * it with U+FFFD without a word).
 */
function unpairedSurrogates(value: unknown, field: string, out: ParamProblem[]): void {
  if (typeof value === 'string') {
    if (!survivesUtf8(value)) out.push({ field, problem: 'holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape); send well-formed Unicode' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unpairedSurrogates(item, `${field}/${i}`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, item] of Object.entries(value)) {
      unpairedSurrogates(item, field === '' ? pointerSegment(name) : `${field}/${pointerSegment(name)}`, out);
    }
  }
}

/** Whether every string in `value` is well-formed: the common case, checked without naming fields. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return survivesUtf8(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(wellFormed);
  for (const name in value) {
    if (!wellFormed((value as Record<string, unknown>)[name])) return false;
  }
  return true;
}

/** Returns the list of problems with `params` for `method`, or undefined when they are fine. */
export function paramErrors(method: string, params: unknown): ParamProblem[] | undefined {
  const validate = validators.get(method);
  if (validate === undefined) return undefined;
  const input = params ?? {};
  const schemaProblems = validate(input) ? [] : (validate.errors ?? []).map((e) => ({ field: fieldOf(e), problem: problemOf(e) }));
  const encodingProblems: ParamProblem[] = [];
  if (!wellFormed(input)) unpairedSurrogates(input, '', encodingProblems);
  const rules = ruleProblems(method, input);
  if (schemaProblems.length === 0 && encodingProblems.length === 0 && rules.length === 0) return undefined;
  return condense([...schemaProblems, ...encodingProblems, ...rules]);
}
