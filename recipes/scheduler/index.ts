// The scheduler recipe's public surface for the member: its JSON-RPC methods and services
// (API.md "Work scheduling"; docs/recipes/scheduler.md).
import type { RecipeMethod, RecipeServiceFactory } from '../method.js';
import { attemptMethods } from './attempts.js';
import { watchMethods } from './job-watch.js';
import { jobMethods } from './jobs.js';
import { machineMethods } from './machines.js';
import { startScheduler } from './service.js';

export const methods: readonly RecipeMethod[] = [...machineMethods, ...jobMethods, ...attemptMethods, ...watchMethods];
export const services: readonly RecipeServiceFactory[] = [startScheduler];
