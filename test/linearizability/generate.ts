// Random kv histories that are linearizable by construction, for the checker's randomized
// tests and its benchmark. Clients issue one operation at a time; each operation gets a
// linearization point inside [call, return] (anywhere after its call for an unknown outcome
// that happened), and the outputs are computed by running the operations on the sequential
// model in the order of those points. So an order that explains the history always exists.
import type { Rng } from '../sim/rng.js';
import type { KvInput, KvOutput, Operation } from './history.js';
import { effect, failureCode, type KeyState } from './model.js';

export interface GenerateOptions {
  readonly ops: number;
  readonly keys: number;
  readonly clients: number;
  /** Distinct values per key: few values make cas succeed often and the search work harder. */
  readonly valuesPerKey: number;
  /** Probability that an outcome is recorded as unknown (302, timeout). */
  readonly unknownRate: number;
  /** Longest operation, in ms; times are integers, so calls and returns often tie. */
  readonly maxDurationMs: number;
}

export const DEFAULT_GENERATE: GenerateOptions = {
  ops: 200,
  keys: 3,
  clients: 4,
  valuesPerKey: 4,
  unknownRate: 0.02,
  maxDurationMs: 10,
};

interface Planned {
  readonly client: number;
  readonly call: number;
  readonly return: number;
  readonly input: KvInput;
  /** When it takes effect; +infinity for an unknown outcome that never happened. */
  readonly point: number;
  readonly unknown: boolean;
  /** A get of an absent key answered as 404 (fail 100) rather than ok null. */
  readonly absentAsFail: boolean;
}

export function generateHistory(
  rng: Rng,
  options: GenerateOptions = DEFAULT_GENERATE,
): Operation[] {
  const freeAt = new Array<number>(options.clients).fill(0);
  const planned: Planned[] = [];
  for (let i = 0; i < options.ops; i++) {
    const client = rng.int(0, options.clients - 1);
    const call = freeAt[client]! + rng.int(0, 3);
    const ret = call + rng.int(0, options.maxDurationMs);
    freeAt[client] = ret;
    const unknown = rng.chance(options.unknownRate);
    const point = unknown
      ? rng.chance(0.5) ? call + rng.float() * 5 * options.maxDurationMs : Infinity
      : call + rng.float() * (ret - call);
    const input = randomInput(rng, options);
    const absentAsFail = rng.chance(0.5);
    planned.push({ client, call, return: ret, input, point, unknown, absentAsFail });
  }
  return execute(planned);
}

function randomInput(rng: Rng, options: GenerateOptions): KvInput {
  const key = `k${rng.int(0, options.keys - 1)}`;
  const value = (): string => `v${rng.int(0, options.valuesPerKey - 1)}`;
  switch (rng.weighted({ get: 4, set: 2, cas: 2, delete: 1, create: 1 })) {
    case 'get':
      return { kind: 'get', key };
    case 'set':
      return { kind: 'set', key, value: value() };
    case 'cas':
      return { kind: 'cas', key, expected: value(), value: value() };
    case 'delete':
      return { kind: 'delete', key };
    case 'create':
      return { kind: 'create', key, value: value() };
  }
}

/** Run the planned ops in linearization order and record what each would have seen. */
function execute(planned: readonly Planned[]): Operation[] {
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.point - planned[b]!.point);
  const outputs = new Array<KvOutput>(planned.length);
  const states = new Map<string, KeyState>();
  for (const i of order) {
    const p = planned[i]!;
    const state = states.get(p.input.key) ?? null;
    if (p.point !== Infinity) states.set(p.input.key, effect(state, p.input));
    outputs[i] = p.unknown ? { status: 'unknown' } : observe(state, p);
  }
  return planned.map((p, i) => ({
    client: p.client,
    call: p.call,
    return: p.return,
    input: p.input,
    output: outputs[i]!,
  }));
}

function observe(state: KeyState, p: Planned): KvOutput {
  if (p.input.kind === 'get') {
    if (state === null && p.absentAsFail) return { status: 'fail', code: 100 };
    return { status: 'ok', value: state };
  }
  const code = failureCode(state, p.input);
  return code === null ? { status: 'ok' } : { status: 'fail', code };
}
