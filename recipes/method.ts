// What a recipe plugs into a member: JSON-RPC methods (each with its params schema, checked
// by ajv before it runs, as the kv methods are) and background services (the scheduler,
// which runs only on the Raft leader). Recipes reach the store only through the kv service:
// conditional writes, txn and watches through the log, like any client.
import type { Logger } from '../server/log.js';
import type { MemberApi } from '../server/member-api.js';
import type { SubscriptionOpener } from '../server/subscriptions.js';

/** One request's view of its member and connection. */
export interface RecipeContext {
  readonly member: MemberApi;
  /** Streams for `*.watch`/`*.observe` methods; held back until the reply naming them is sent. */
  readonly subscriptions: SubscriptionOpener;
  /** Fires when the client's connection closes: withdraw what it was keeping alive. */
  readonly closed: AbortSignal;
}

export interface RecipeMethod {
  readonly name: string;
  /** A JSON schema for the params object; build it with paramsSchema. */
  readonly schema: object;
  run(ctx: RecipeContext, params: Record<string, unknown>): Promise<unknown> | unknown;
}

/** A long-lived task of a member (e.g. the scheduler); started once, stopped on shutdown. */
export interface RecipeService {
  stop(): void | Promise<void>;
}
export type RecipeServiceFactory = (member: MemberApi, logger: Logger) => RecipeService;

/**
 * An object schema that names itself and allows no other property, the shape
 * server/rpc-schemas.ts turns into "… is not a known parameter of <title>; known: …".
 */
export function paramsSchema(title: string, properties: Record<string, object>, required: string[] = []): object {
  return { type: 'object', title, additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}
