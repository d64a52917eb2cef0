// machine.* methods: a machine is alive while its TTL key /cairn/machines/<id> exists. Its agent
// renews it with machine.heartbeat (a TTL-only refresh: no watch event, so heartbeats do not
// wake the scheduler or fill the event history). A lapsed registration answers heartbeats with
// 100 (key not found), the store's own code: API.md has no machine code, 521 means a job and
// 530 a service; the agent registers again (a new incarnation, which owns none of the old work).
import { MemberError } from '../../server/errors.js';
import { kvDelete, kvGet, kvSet } from '../../server/kv-service.js';
import type { RecipeMethod } from '../method.js';
import type { MachineRecord } from './job.js';
import { OWNED_STATES, machineKey, parseMachine } from './job.js';
import { schemas } from './schemas.js';
import { readJobs, readMachines } from './store-io.js';

const DEFAULT_TTL_S = 10;

const register: RecipeMethod = {
  name: 'machine.register',
  schema: schemas['machine.register'],
  async run(ctx, p) {
    const record: MachineRecord = {
      machine: p.machine as string,
      labels: (p.labels as Record<string, string> | undefined) ?? {},
      capacity: (p.capacity as number | undefined) ?? 1,
      ttl: (p.ttl as number | undefined) ?? DEFAULT_TTL_S,
    };
    const r = await kvSet(ctx.member, { key: machineKey(record.machine), value: JSON.stringify(record), ttl: record.ttl });
    return { machine: { ...record, registeredIndex: r.node.createdIndex } };
  },
};

const lapsed = (machine: string): MemberError =>
  new MemberError(100, `machine ${machine} is not registered (its ttl lapsed or it deregistered); register it again with machine.register — its unfinished jobs were or will be given back`, false);

const heartbeat: RecipeMethod = {
  name: 'machine.heartbeat',
  schema: schemas['machine.heartbeat'],
  async run(ctx, p) {
    const machine = p.machine as string;
    const key = machineKey(machine);
    let record: MachineRecord | undefined;
    try {
      record = parseMachine((await kvGet(ctx.member, { key })).node);
    } catch (error) {
      if (error instanceof MemberError && error.code === 100) throw lapsed(machine);
      throw error;
    }
    const ttl = record?.ttl ?? DEFAULT_TTL_S;
    try {
      await kvSet(ctx.member, { key, ttl, refresh: true, prevExist: true });
    } catch (error) {
      if (error instanceof MemberError && error.code === 100) throw lapsed(machine);
      throw error;
    }
    return { ttl };
  },
};

const deregister: RecipeMethod = {
  name: 'machine.deregister',
  schema: schemas['machine.deregister'],
  async run(ctx, p) {
    try {
      await kvDelete(ctx.member, { key: machineKey(p.machine as string) });
    } catch (error) {
      // Already gone: deregistering is idempotent. The scheduler gives its jobs back either way.
      if (!(error instanceof MemberError) || error.code !== 100) throw error;
    }
    return {};
  },
};

const list: RecipeMethod = {
  name: 'machine.list',
  schema: schemas['machine.list'],
  async run(ctx) {
    const [machines, jobs] = [await readMachines(ctx.member), await readJobs(ctx.member, false)];
    const owned = new Map<string, number>();
    for (const { job } of jobs) {
      if (job.machine !== undefined && OWNED_STATES.has(job.state)) owned.set(job.machine, (owned.get(job.machine) ?? 0) + 1);
    }
    const out = machines.map((m) => ({
      machine: m.machine, labels: m.labels, capacity: m.capacity, alive: true, jobs: owned.get(m.machine) ?? 0,
    }));
    // A machine that lapsed but still holds jobs (the scheduler has not given them back yet).
    for (const [machine, count] of owned) {
      if (!machines.some((m) => m.machine === machine)) out.push({ machine, labels: {}, capacity: 0, alive: false, jobs: count });
    }
    out.sort((a, b) => a.machine.localeCompare(b.machine));
    return { machines: out };
  },
};

export const machineMethods: readonly RecipeMethod[] = [register, heartbeat, deregister, list];
