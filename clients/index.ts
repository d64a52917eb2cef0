// The public surface of the TypeScript client: import from here, not from the files behind.
export { connect, CairnClient } from './client.js';
export { CairnError, ClientErrorCodes, isCairnError } from './errors.js';
export { Subscription } from './subscription.js';
export { Watch } from './watch.js';
export type { WatchOptions } from './watch.js';
export type * from './types.js';
export { ErrorCodes } from '../core/api/types.js';
export type * from '../core/api/types.js';
// Recipe helpers (leadership handles, registrations kept alive, agents …).
export * from './recipes/semaphore.js';
export * from './recipes/election.js';
export * from './recipes/scheduler.js';
export * from './recipes/discovery.js';
