// Params schemas of the service.* methods and the limits they enforce. Names become one key
// segment each, so they may hold no '/', may not start with '_' (hidden keys) or be '.' or
// '..' (which key cleaning would resolve to another directory).
import { paramsSchema } from '../method.js';
import { STATUSES } from './instance.js';

export const DEFAULT_TTL_SECONDS = 10;
/** A registration must outlive a few heartbeats; one that lives a day is better re-registered. */
export const MIN_TTL_SECONDS = 1;
export const MAX_TTL_SECONDS = 86_400;
export const MAX_META_ENTRIES = 64;
export const MAX_META_VALUE_CHARS = 1024;
export const MAX_ENDPOINT_CHARS = 1024;

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
/**
 * An endpoint is either a URL with a scheme (http://10.0.0.5:8080/api, grpc://db-1:5000) or
 * host:port (10.0.0.5:8080, db-1.internal:5432, [::1]:8080); no whitespace anywhere.
 */
const ENDPOINT_PATTERN = '^([A-Za-z][A-Za-z0-9+.-]*://[^\\s/]+(/\\S*)?|[A-Za-z0-9._-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5})$';

const name = (what: string): object => ({
  type: 'string', pattern: NAME_PATTERN,
  description: `1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (a ${what} name is one key segment)`,
});
const service = name('service');
const instance = name('instance');
const endpoint = {
  type: 'string', maxLength: MAX_ENDPOINT_CHARS, pattern: ENDPOINT_PATTERN,
  description: `a URL with a scheme (http://10.0.0.5:8080) or host:port (10.0.0.5:8080, [::1]:8080), at most ${MAX_ENDPOINT_CHARS} characters`,
};
// The entry count is checked in service.register (ajv's maxProperties message would mislead).
const meta = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: MAX_META_VALUE_CHARS, description: `a string of at most ${MAX_META_VALUE_CHARS} characters` },
};
const status = { enum: [...STATUSES] };
const ttl = { type: 'integer', minimum: MIN_TTL_SECONDS, maximum: MAX_TTL_SECONDS };

export const registerSchema = paramsSchema('service.register', { service, instance, endpoint, meta, status, ttl }, ['service', 'instance', 'endpoint']);
export const heartbeatSchema = paramsSchema('service.heartbeat', { service, instance, status }, ['service', 'instance']);
export const deregisterSchema = paramsSchema('service.deregister', { service, instance }, ['service', 'instance']);
export const listSchema = paramsSchema('service.list', { service, status }, ['service']);
export const servicesSchema = paramsSchema('service.services', {});
export const watchSchema = paramsSchema('service.watch', { service }, ['service']);
