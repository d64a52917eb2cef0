// Every recipe's JSON-RPC methods and member services, gathered for the server. A recipe
// adds itself here once; its own folder holds everything else.
import * as discovery from './discovery/index.js';
import * as election from './election/index.js';
import type { RecipeMethod, RecipeService, RecipeServiceFactory } from './method.js';
import * as scheduler from './scheduler/index.js';
import * as semaphore from './semaphore/index.js';
import type { Logger } from '../server/log.js';
import type { MemberApi } from '../server/member-api.js';

export type { RecipeContext, RecipeMethod } from './method.js';

const RECIPES = [semaphore, election, scheduler, discovery];

export const RECIPE_METHODS: ReadonlyMap<string, RecipeMethod> = new Map(
  RECIPES.flatMap((r) => r.methods).map((m) => [m.name, m]),
);

const SERVICES: readonly RecipeServiceFactory[] = RECIPES.flatMap((r) => r.services);

/** Starts every recipe service on a member; the result stops them all. */
export function startRecipeServices(member: MemberApi, logger: Logger): { stop(): Promise<void> } {
  const running: RecipeService[] = SERVICES.map((start) => start(member, logger));
  return { stop: async () => { await Promise.all(running.map((s) => s.stop())); } };
}
