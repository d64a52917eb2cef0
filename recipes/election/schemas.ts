// The params schemas of the election.* methods (checked by ajv before a method runs) and the
// election's error: 510, "not the leader", with a message that says who leads instead.
import { MemberError } from '../../server/errors.js';
import { paramsSchema } from '../method.js';
import type { LeaderView } from './keys.js';

/** A blocking campaign that outlives an hour is better re-issued, as kv.wait's timeoutMs. */
const MAX_TIMEOUT_MS = 3_600_000;
/** A day: longer leases would leave an election headless for too long after a crash. */
export const MAX_ELECTION_TTL_SECONDS = 86_400;

const name = {
  type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
  description: '1 to 128 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit (one key segment)',
};
const candidate = { type: 'string', minLength: 1, maxLength: 256, description: 'a non-empty id of at most 256 characters' };
const value = { type: 'string', maxLength: 65_536, description: 'a string of at most 65536 characters' };
const token = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
const ttl = { type: 'integer', minimum: 1, maximum: MAX_ELECTION_TTL_SECONDS };
const timeoutMs = { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS };

export const SCHEMAS = {
  campaign: paramsSchema('election.campaign', { name, candidate, value, ttl, wait: { type: 'boolean' }, timeoutMs }, ['name', 'candidate']),
  heartbeat: paramsSchema('election.heartbeat', { name, token }, ['name', 'token']),
  proclaim: paramsSchema('election.proclaim', { name, token, value }, ['name', 'token', 'value']),
  resign: paramsSchema('election.resign', { name, token }, ['name', 'token']),
  leader: paramsSchema('election.leader', { name }, ['name']),
  observe: paramsSchema('election.observe', { name }, ['name']),
} as const;

/** Error 510: `token` does not lead `name` (any more); says who does, if anyone. */
export function notLeader(name: string, token: number, current: LeaderView | null): MemberError {
  const who = current === null ? 'nobody leads now' : `${current.candidate} leads now with token ${current.token}`;
  return new MemberError(510, `election ${name}: token ${token} is not the leader (${who}); stop acting as leader and campaign again`, false, {
    cause: who, ...(current === null ? {} : { leader: current }),
  });
}
