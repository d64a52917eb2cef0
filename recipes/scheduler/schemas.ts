// Params schemas of the scheduler's methods (checked by ajv before a method runs, in the
// style of server/rpc-schemas.ts, so a bad field is named with what would be accepted).
import { paramsSchema } from '../method.js';

/** Ids become one key segment: no "/", and no leading "_" (hidden keys are not listed). */
export const id = (what: string): object => ({
  type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  description: `a ${what} id of 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
});
const machine = id('machine');
const job = id('job');
const labels = {
  type: 'object', maxProperties: 32,
  propertyNames: { pattern: '^[A-Za-z0-9._/-]{1,63}$' },
  additionalProperties: { type: 'string', maxLength: 256 },
  description: 'an object of at most 32 labels, each name 1 to 63 letters, digits, ".", "_", "/" or "-" with a string value',
};
const attempt = { type: 'integer', minimum: 1, maximum: 1_000_000 };
const state = { enum: ['pending', 'assigned', 'running', 'succeeded', 'failed', 'canceled', 'lost'] };

export const MAX_TTL_S = 3600;

export const schemas = {
  'machine.register': paramsSchema('machine.register', {
    machine, labels,
    capacity: { type: 'integer', minimum: 1, maximum: 10_000 },
    ttl: { type: 'integer', minimum: 1, maximum: MAX_TTL_S },
  }, ['machine']),
  'machine.heartbeat': paramsSchema('machine.heartbeat', { machine }, ['machine']),
  'machine.deregister': paramsSchema('machine.deregister', { machine }, ['machine']),
  'machine.list': paramsSchema('machine.list', {}),
  'job.submit': paramsSchema('job.submit', {
    job, spec: {}, labels, machine,
    priority: { type: 'integer', minimum: -1_000_000, maximum: 1_000_000 },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    delivery: { enum: ['at-least-once', 'at-most-once'] },
  }, ['spec']),
  'job.get': paramsSchema('job.get', { job }, ['job']),
  'job.cancel': paramsSchema('job.cancel', { job }, ['job']),
  'job.list': paramsSchema('job.list', { state, machine }),
  'job.watch': paramsSchema('job.watch', { machine }, ['machine']),
  'job.start': paramsSchema('job.start', { job, machine, attempt }, ['job', 'machine', 'attempt']),
  'job.complete': paramsSchema('job.complete', {
    job, machine, attempt, status: { enum: ['succeeded', 'failed'] }, result: {},
  }, ['job', 'machine', 'attempt', 'status']),
} as const;
