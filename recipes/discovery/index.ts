// The discovery recipe's public surface for the member: its JSON-RPC methods (API.md
// "Service discovery") and services (none: registrations lapse by their TTL in the log).
import type { RecipeMethod, RecipeServiceFactory } from '../method.js';
import { deregister, heartbeat, list, register, services as listServices } from './registry.js';
import {
  deregisterSchema, heartbeatSchema, listSchema, registerSchema, servicesSchema, watchSchema,
} from './schema.js';
import { watch } from './watch.js';

export const methods: readonly RecipeMethod[] = [
  { name: 'service.register', schema: registerSchema, run: register },
  { name: 'service.heartbeat', schema: heartbeatSchema, run: heartbeat },
  { name: 'service.deregister', schema: deregisterSchema, run: deregister },
  { name: 'service.list', schema: listSchema, run: list },
  { name: 'service.services', schema: servicesSchema, run: listServices },
  { name: 'service.watch', schema: watchSchema, run: watch },
];
export const services: readonly RecipeServiceFactory[] = [];
