// The discovery recipe's data: where a registration lives (one TTL key per instance,
// /cairn/services/<service>/<instance>), the JSON value kept there, and how store nodes and
// events turn into the `instances` lists the methods answer with. Pure: no I/O, no clock.
import type { KvEvent, Node } from '../../core/api/types.js';

export const SERVICES_DIR = '/cairn/services';

export const STATUSES = ['passing', 'warning', 'critical', 'maintenance'] as const;
export type ServiceStatus = (typeof STATUSES)[number];

/** What a registration key holds. `ttl` is kept so a heartbeat renews by the registered TTL. */
export interface InstanceRecord {
  instance: string;
  endpoint: string;
  meta: Record<string, string>;
  status: ServiceStatus;
  ttl: number;
}

/** One instance as service.list and service.watch report it. */
export interface Instance {
  instance: string;
  endpoint: string;
  meta: Record<string, string>;
  status: ServiceStatus;
  /** The createdIndex of the registration key: the store index its current registration began at. */
  registeredIndex: number;
}

export const serviceKey = (service: string): string => `${SERVICES_DIR}/${service}`;
export const instanceKey = (service: string, instance: string): string => `${serviceKey(service)}/${instance}`;

export const encodeRecord = (r: InstanceRecord): string =>
  JSON.stringify({ instance: r.instance, endpoint: r.endpoint, meta: r.meta, status: r.status, ttl: r.ttl });

const isStatus = (v: unknown): v is ServiceStatus => typeof v === 'string' && (STATUSES as readonly string[]).includes(v);

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/**
 * A stored value as a record, or undefined when it is not one (a key someone wrote by hand
 * with kv.set): such keys are left out of lists rather than failing every reader.
 */
export function decodeRecord(value: string | undefined): InstanceRecord | undefined {
  if (value === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r['instance'] !== 'string' || typeof r['endpoint'] !== 'string' || !isStatus(r['status'])) return undefined;
  const meta = r['meta'] === undefined ? {} : r['meta'];
  if (!isStringMap(meta)) return undefined;
  const ttl = typeof r['ttl'] === 'number' && Number.isInteger(r['ttl']) && r['ttl'] > 0 ? r['ttl'] : 10;
  return { instance: r['instance'], endpoint: r['endpoint'], meta, status: r['status'], ttl };
}

export const toInstance = (r: InstanceRecord, registeredIndex: number): Instance =>
  ({ instance: r.instance, endpoint: r.endpoint, meta: r.meta, status: r.status, registeredIndex });

/** The instance a registration key's node holds, or undefined for a directory or a foreign value. */
export function instanceOfNode(node: Node): Instance | undefined {
  if (node.dir === true) return undefined;
  const record = decodeRecord(node.value);
  // The key names the instance; a hand-written value cannot pass for another one.
  const name = node.key.slice(node.key.lastIndexOf('/') + 1);
  return record === undefined ? undefined : toInstance({ ...record, instance: name }, node.createdIndex);
}

const byName = (a: Instance, b: Instance): number => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0);

/** The instances under a service directory's node, by name, optionally only those in `status`. */
export function instancesOfDir(dir: Node, status?: ServiceStatus): Instance[] {
  const found = (dir.nodes ?? []).map(instanceOfNode).filter((i): i is Instance => i !== undefined);
  return found.filter((i) => status === undefined || i.status === status).sort(byName);
}

/**
 * The live instance set of one service, kept current from watch events of its directory
 * (recursive). Refreshes never reach it (they emit no event), so it changes only on a real
 * write, a deletion or an expiry.
 */
export class InstanceSet {
  private readonly byName = new Map<string, Instance>();

  constructor(private readonly dirKey: string, initial: readonly Instance[] = []) {
    for (const i of initial) this.byName.set(i.instance, i);
  }

  /** Applies one event; true when it touched the set (so watchers get a new list). */
  apply(event: KvEvent): boolean {
    const key = event.node.key;
    const removal = event.action === 'delete' || event.action === 'expire' || event.action === 'compareAndDelete';
    if (removal && (key === this.dirKey || this.dirKey.startsWith(`${key}/`) || key === '/')) {
      // The service directory or one above it went: every instance with it.
      const had = this.byName.size > 0;
      this.byName.clear();
      return had;
    }
    const name = this.directChild(key);
    if (name === undefined) return false;
    if (removal) return this.byName.delete(name);
    const instance = instanceOfNode(event.node);
    if (instance === undefined) return this.byName.delete(name);
    this.byName.set(name, instance);
    return true;
  }

  list(): Instance[] {
    return [...this.byName.values()].sort(byName);
  }

  /** `<dir>/<name>` → name; anything deeper or elsewhere → undefined. */
  private directChild(key: string): string | undefined {
    if (!key.startsWith(`${this.dirKey}/`)) return undefined;
    const rest = key.slice(this.dirKey.length + 1);
    return rest === '' || rest.includes('/') ? undefined : rest;
  }
}
