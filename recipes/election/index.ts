// The election recipe's public surface for the member: its JSON-RPC methods and services.
import type { RecipeMethod, RecipeServiceFactory } from '../method.js';

export const methods: readonly RecipeMethod[] = [];
export const services: readonly RecipeServiceFactory[] = [];
