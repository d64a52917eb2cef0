// The semaphore.* JSON-RPC methods of API.md ("Reboot semaphore"), with their params schemas.
// acquire lives in ./acquire.ts; release, status and setMax are single compare-and-swap
// changes (or a linearizable read) of the state key.
import { MemberError } from '../../server/errors.js';
import { paramsSchema } from '../method.js';
import type { RecipeMethod } from '../method.js';
import { acquire } from './acquire.js';
import { holds, initialState, release, withMax } from './state.js';
import type { SemaphoreState } from './state.js';
import { changeState, DEFAULT_NAME, readFresh, stateKey } from './store.js';

/**
 * A wait longer than an hour is better re-issued (kv.wait's bound). Not imported from
 * server/rpc-schemas.ts, which imports the recipes: the cycle would leave it undefined.
 */
const MAX_TIMEOUT_MS = 3_600_000;
/** A bound on max, so `semaphore` arithmetic stays exact and a typo is caught. */
export const MAX_SLOTS = 1_000_000;

const name = {
  type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$',
  description: '1 to 64 letters, digits, ".", "_" or "-" (default "reboot")',
} as const;
const holder = {
  type: 'string', minLength: 1, maxLength: 256, description: 'a non-empty holder id of at most 256 characters, e.g. the machine id',
} as const;

const nameOf = (p: Record<string, unknown>): string => (p['name'] as string | undefined) ?? DEFAULT_NAME;

const acquireMethod: RecipeMethod = {
  name: 'semaphore.acquire',
  schema: paramsSchema('semaphore.acquire', {
    name, holder, wait: { type: 'boolean' }, timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS },
  }, ['holder']),
  run: (ctx, p) => acquire(ctx.member, ctx.closed, {
    name: nameOf(p),
    holder: p['holder'] as string,
    wait: p['wait'] !== false,
    ...(p['timeoutMs'] === undefined ? {} : { timeoutMs: p['timeoutMs'] as number }),
  }),
};

const releaseMethod: RecipeMethod = {
  name: 'semaphore.release',
  schema: paramsSchema('semaphore.release', { name, holder }, ['holder']),
  async run(ctx, p) {
    const semaphore = nameOf(p);
    const who = p['holder'] as string;
    const notHolder = (state: SemaphoreState | null): MemberError => new MemberError(501,
      `${who} holds nothing of semaphore ${semaphore} (holders: ${state === null || state.holders.length === 0 ? 'none' : state.holders.join(', ')}); nothing to release`,
      false, { cause: `${who} is not a holder` });
    const after = await changeState(ctx.member, semaphore, (state) => {
      if (!holds(state, who)) throw notHolder(state);
      return release(state, who);
    }, false);
    if (after === null) throw notHolder(null);
    return { released: true, state: after.state };
  },
};

const statusMethod: RecipeMethod = {
  name: 'semaphore.status',
  schema: paramsSchema('semaphore.status', { name }),
  async run(ctx, p) {
    // Reading does not create: an unused semaphore is shown as it would be created.
    const view = await readFresh(ctx.member, nameOf(p));
    const state = view?.state ?? initialState();
    return { state, token: state.token };
  },
};

const setMaxMethod: RecipeMethod = {
  name: 'semaphore.setMax',
  schema: paramsSchema('semaphore.setMax', { name, max: { type: 'integer', minimum: 0, maximum: MAX_SLOTS } }, ['max']),
  async run(ctx, p) {
    const max = p['max'] as number;
    const after = await changeState(ctx.member, nameOf(p), (state) => (state.max === max ? null : withMax(state, max)));
    if (after === null) throw new MemberError(-32603, `${stateKey(nameOf(p))}: no state after setMax`, false);
    return { state: after.state };
  },
};

export const SEMAPHORE_METHODS: readonly RecipeMethod[] = [acquireMethod, releaseMethod, statusMethod, setMaxMethod];
