// service.register, heartbeat, deregister, list and services: each registration is one TTL
// key changed only through the log. Registering is one kv.txn (update if the key exists, so
// its createdIndex — the instance's registeredIndex — survives a re-registration; create if
// not). A heartbeat is a TTL refresh guarded by the key's modifiedIndex, which emits no watch
// event, unless it changes the status, which is a real write that watchers see.
import type { Node } from '../../core/api/types.js';
import { MemberError } from '../../server/errors.js';
import { kvDelete, kvGet, kvSet, kvTxn } from '../../server/kv-service.js';
import type { MemberApi } from '../../server/member-api.js';
import type { RecipeContext } from '../method.js';
import {
  decodeRecord, encodeRecord, instanceKey, instanceOfNode, instancesOfDir, serviceKey, SERVICES_DIR,
} from './instance.js';
import type { Instance, InstanceRecord, ServiceStatus } from './instance.js';
import { DEFAULT_TTL_SECONDS, MAX_META_ENTRIES } from './schema.js';

export interface RegisterParams {
  service: string;
  instance: string;
  endpoint: string;
  meta?: Record<string, string>;
  status?: ServiceStatus;
  ttl?: number;
}

/** How many times a heartbeat re-reads after its guarded refresh lost a race with another write. */
const HEARTBEAT_ATTEMPTS = 5;

export const notFound = (service: string, instance: string): MemberError =>
  new MemberError(530, `instance ${instance} of service ${service} is not registered (its TTL lapsed or it was deregistered); call service.register again`, false, { cause: instanceKey(service, instance) });

function checkMeta(meta: Record<string, string> | undefined): void {
  const count = Object.keys(meta ?? {}).length;
  if (count <= MAX_META_ENTRIES) return;
  const problem = `must have at most ${MAX_META_ENTRIES} entries (it has ${count}); keep bulky data elsewhere and point to it`;
  throw new MemberError(-32602, `invalid params for service.register: meta ${problem}`, false, { errors: [{ field: 'meta', problem }] });
}

export async function register(ctx: RecipeContext, raw: Record<string, unknown>): Promise<{ instance: Instance }> {
  const p = raw as unknown as RegisterParams;
  checkMeta(p.meta);
  const key = instanceKey(p.service, p.instance);
  const record: InstanceRecord = {
    instance: p.instance, endpoint: p.endpoint, meta: p.meta ?? {}, status: p.status ?? 'passing', ttl: p.ttl ?? DEFAULT_TTL_SECONDS,
  };
  const write = { key, value: encodeRecord(record), ttl: record.ttl };
  const txn = await kvTxn(ctx.member, {
    compare: [{ key, exists: true }],
    success: [{ set: { ...write, prevExist: true } }],
    failure: [{ set: { ...write, prevExist: false } }],
  });
  const node = txn.results[0]?.node;
  if (node === undefined) throw new MemberError(-32603, 'service.register: the transaction wrote nothing', false);
  return { instance: { ...toPublic(record), registeredIndex: node.createdIndex } };
}

const toPublic = (r: InstanceRecord): Omit<Instance, 'registeredIndex'> =>
  ({ instance: r.instance, endpoint: r.endpoint, meta: r.meta, status: r.status });

/** The registration's node and record, read locally or linearizably; undefined when absent. */
async function readRegistration(member: MemberApi, key: string, linearizable: boolean): Promise<{ node: Node; record: InstanceRecord } | undefined> {
  try {
    const { node } = await kvGet(member, { key, consistency: linearizable ? 'linearizable' : 'serializable' });
    const record = decodeRecord(node.value);
    return node.dir === true || record === undefined ? undefined : { node, record };
  } catch (error) {
    if (error instanceof MemberError && error.code === 100) return undefined;
    throw error;
  }
}

export async function heartbeat(ctx: RecipeContext, raw: Record<string, unknown>): Promise<{ ttl: number }> {
  const p = raw as { service: string; instance: string; status?: ServiceStatus };
  const key = instanceKey(p.service, p.instance);
  for (let attempt = 0; attempt < HEARTBEAT_ATTEMPTS; attempt++) {
    // The first try reads this member's copy (no read barrier); the guarded write below
    // catches a stale copy, and absence is confirmed linearizably before it is reported.
    const found = await readRegistration(ctx.member, key, attempt > 0)
      ?? (attempt === 0 ? await readRegistration(ctx.member, key, true) : undefined);
    if (found === undefined) throw notFound(p.service, p.instance);
    const { node, record } = found;
    const changed = p.status !== undefined && p.status !== record.status;
    try {
      await kvSet(ctx.member, changed
        ? { key, value: encodeRecord({ ...record, status: p.status as ServiceStatus }), ttl: record.ttl, prevIndex: node.modifiedIndex }
        : { key, ttl: record.ttl, refresh: true, prevIndex: node.modifiedIndex });
      return { ttl: record.ttl };
    } catch (error) {
      if (!(error instanceof MemberError)) throw error;
      if (error.code === 100) throw notFound(p.service, p.instance);
      if (error.code !== 101) throw error; // 101: another write came first; read again.
    }
  }
  throw new MemberError(302, `service.heartbeat of ${key}: other writes to it kept winning; retry`, true);
}

/** Idempotent: deregistering an instance that is not registered answers `{}` as well. */
export async function deregister(ctx: RecipeContext, raw: Record<string, unknown>): Promise<Record<string, never>> {
  const p = raw as { service: string; instance: string };
  try {
    await kvDelete(ctx.member, { key: instanceKey(p.service, p.instance) });
  } catch (error) {
    if (!(error instanceof MemberError && error.code === 100)) throw error;
  }
  return {};
}

export async function list(ctx: RecipeContext, raw: Record<string, unknown>): Promise<{ instances: Instance[]; index: number }> {
  const p = raw as { service: string; status?: ServiceStatus };
  try {
    const r = await kvGet(ctx.member, { key: serviceKey(p.service), sorted: true });
    return { instances: r.node.dir === true ? instancesOfDir(r.node, p.status) : [], index: r.index };
  } catch (error) {
    if (!(error instanceof MemberError && error.code === 100)) throw error;
    const at = error.data?.['index'];
    return { instances: [], index: typeof at === 'number' ? at : ctx.member.store.index };
  }
}

/** Service names with at least one registered instance (empty directories left by expiry are not listed). */
export async function services(ctx: RecipeContext): Promise<{ services: string[] }> {
  try {
    const r = await kvGet(ctx.member, { key: SERVICES_DIR, recursive: true, sorted: true });
    const names = (r.node.nodes ?? [])
      .filter((dir) => dir.dir === true && (dir.nodes ?? []).some((n) => instanceOfNode(n) !== undefined))
      .map((dir) => dir.key.slice(SERVICES_DIR.length + 1));
    return { services: names };
  } catch (error) {
    if (!(error instanceof MemberError && error.code === 100)) throw error;
    return { services: [] };
  }
}
