// JSON schemas of every method's params, checked with ajv before a method runs, so bad
// input is refused with -32602 and a list naming each bad field.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

const key = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const url = { type: 'string', pattern: '^http://[^/\\s]+:[0-9]+/?$' } as const;

const schemas: Record<string, object> = {
  'kv.set': {
    type: 'object', additionalProperties: false, required: ['key'],
    properties: { key, value: { type: 'string' } },
  },
  'kv.get': {
    type: 'object', additionalProperties: false, required: ['key'],
    properties: { key, consistency: { enum: ['linearizable', 'serializable'] } },
  },
  'cluster.status': { type: 'object', additionalProperties: false, properties: {} },
  'cluster.members': { type: 'object', additionalProperties: false, properties: {} },
  'cluster.addMember': {
    type: 'object', additionalProperties: false, required: ['peerUrls'],
    properties: { peerUrls: { type: 'array', minItems: 1, maxItems: 8, items: url }, name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } },
  },
  'cluster.removeMember': {
    type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1 } },
  },
  'cluster.transferLeader': {
    type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1 } },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>(Object.entries(schemas).map(([m, s]) => [m, ajv.compile(s)]));

export const METHODS: readonly string[] = [...validators.keys()];

/** Returns the list of problems with `params` for `method`, or undefined when they are fine. */
export function paramErrors(method: string, params: unknown): { field: string; problem: string }[] | undefined {
  const validate = validators.get(method);
  if (validate === undefined || validate(params ?? {})) return undefined;
  return (validate.errors ?? []).map((e: ErrorObject) => ({
    field: e.instancePath === '' ? (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (e.params as { additionalProperty?: string }).additionalProperty ?? '(params)' : e.instancePath.slice(1),
    problem: e.message ?? 'invalid',
  }));
}
