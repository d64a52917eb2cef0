// The semaphore recipe's public surface for the member: its JSON-RPC methods and services.
import type { RecipeMethod, RecipeServiceFactory } from '../method.js';
import { SEMAPHORE_METHODS } from './methods.js';

export const methods: readonly RecipeMethod[] = SEMAPHORE_METHODS;
export const services: readonly RecipeServiceFactory[] = [];
