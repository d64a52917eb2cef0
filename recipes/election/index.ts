// The election recipe's public surface for the member: its JSON-RPC methods and services
// (API.md "Leader election"; the key layout is in ./keys.ts).
import type { RecipeMethod, RecipeServiceFactory } from '../method.js';
import { campaign } from './campaign.js';
import type { CampaignParams } from './campaign.js';
import { heartbeat, leader, proclaim, resign } from './leadership.js';
import { observe } from './observe.js';
import { SCHEMAS } from './schemas.js';

// Params have passed the method's schema before run() is called, so these casts are checked.
type TokenParams = { name: string; token: number };

export const methods: readonly RecipeMethod[] = [
  { name: 'election.campaign', schema: SCHEMAS.campaign, run: (ctx, p) => campaign(ctx, p as unknown as CampaignParams) },
  { name: 'election.heartbeat', schema: SCHEMAS.heartbeat, run: (ctx, p) => heartbeat(ctx.member, p as TokenParams) },
  { name: 'election.proclaim', schema: SCHEMAS.proclaim, run: (ctx, p) => proclaim(ctx.member, p as TokenParams & { value: string }) },
  { name: 'election.resign', schema: SCHEMAS.resign, run: (ctx, p) => resign(ctx.member, p as TokenParams) },
  { name: 'election.leader', schema: SCHEMAS.leader, run: (ctx, p) => leader(ctx.member, p as { name: string }) },
  { name: 'election.observe', schema: SCHEMAS.observe, run: (ctx, p) => observe(ctx, p as { name: string }) },
];
export const services: readonly RecipeServiceFactory[] = [];
