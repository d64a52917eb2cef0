// The fault runner's recipe checks, pure functions of what a run recorded: the stream of store
// events under a recipe's keys (from a resuming client watch begun before the first write) and
// what the clients were told. Each returns its violations, how many grants the stream shows,
// and the gaps (a watch that could not resume re-reads the key: action `get`, events before it
// unseen); a client's grant whose token falls in a gap is counted unverified, not a violation.
//
// - Semaphore (docs/recipes/semaphore.md): the state key's value, tokens of 0 read as the
//   node's modifiedIndex. Never more than `max` holders at any index; every grant's token is
//   the index of the write that granted it, distinct and increasing in grant order; a holder's
//   token never changes while it holds; every token a client was granted appears as a grant.
// - Election (docs/recipes/election.md): the leader at each index is the live candidate key
//   with the lowest createdIndex. Leader tokens strictly increase; every token a client was
//   granted is distinct and was the leader at some index; and no two clients' leaderships
//   (from the campaign's answer until the handle's signal, resign or deadline) overlap in time.
// - Jobs (docs/recipes/scheduler.md): no (job, attempt) is assigned twice (two writes making it
//   `assigned`, or one naming another machine incarnation), attempts never go back, a running
//   attempt's token is its assignment's index; at the end every job is succeeded, failed or lost.
import type { KvEvent, Node } from '../../core/api/types.js';

export interface RecipeVerdict {
  readonly violations: string[];
  /** Grants (semaphore slots, leaderships, job assignments) the stream shows. */
  readonly grants: number;
  /** Re-reads in the stream (history lost across a resume); grants inside are unseen. */
  readonly gaps: number;
  /** Client grants that could not be checked against the stream because of a gap. */
  readonly unverified: number;
}

/** What a client was told: `who` holds `token` (semaphore, election), over [from, to] ms. */
export interface ClientGrant {
  readonly who: string;
  readonly token: number;
  /** When the grant's answer arrived (monotonic ms from the run's start). */
  readonly from: number;
  /** Until when the client counted on it (election only): lost, resigned or its deadline. */
  readonly to?: number;
}

const REMOVALS: ReadonlySet<string> = new Set(['delete', 'compareAndDelete', 'expire']);

/** A gap in the stream: events in (after, upTo] were not seen. */
interface Gap { readonly after: number; readonly upTo: number }

function inGap(gaps: readonly Gap[], token: number): boolean {
  return gaps.some((g) => token > g.after && token <= g.upTo);
}

function parse<T>(value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** Every leaf below `node` (a re-read's tree), itself included if it is one. */
function leaves(node: Node | undefined): Node[] {
  if (node === undefined) return [];
  if (node.dir === true || node.nodes !== undefined) return (node.nodes ?? []).flatMap(leaves);
  return node.value === undefined ? [] : [node];
}

function distinctAndKnown(clients: readonly ClientGrant[], streamTokens: ReadonlySet<number>, gaps: readonly Gap[],
  what: string, violations: string[]): number {
  let unverified = 0;
  const seen = new Map<number, string>();
  for (const g of clients) {
    const other = seen.get(g.token);
    if (other !== undefined && other !== g.who) violations.push(`${what}: token ${g.token} granted to both ${other} and ${g.who}`);
    seen.set(g.token, g.who);
    if (streamTokens.has(g.token)) continue;
    if (inGap(gaps, g.token)) unverified++;
    else violations.push(`${what}: ${g.who} was told it holds token ${g.token}, which the stream never granted`);
  }
  return unverified;
}

interface SemaphoreValue { max?: number; holders?: string[] | null; tokens?: Record<string, number> }

/** The semaphore `name`'s state events against the grants its clients reported. */
export function checkSemaphore(events: readonly KvEvent[], clients: readonly ClientGrant[], o: { name: string; max: number }): RecipeVerdict {
  const key = `/cairn/semaphore/${o.name}/state`;
  const violations: string[] = [];
  const gaps: Gap[] = [];
  const grantedTo = new Map<number, string>();
  let held = new Map<string, number>();
  let lastIndex = 0;
  let lastToken = 0;
  for (const e of events) {
    if (e.action === 'get') {
      gaps.push({ after: lastIndex, upTo: e.index });
      lastIndex = e.index;
    }
    if (e.node.key !== key) { lastIndex = Math.max(lastIndex, e.index); continue; }
    lastIndex = Math.max(lastIndex, e.index);
    if (REMOVALS.has(e.action) || e.node.value === undefined) { held = new Map(); continue; }
    const state = parse<SemaphoreValue>(e.node.value);
    if (state === undefined) { violations.push(`semaphore: index ${e.index}: a state that is not JSON`); continue; }
    const holders = state.holders ?? [];
    const tokens = state.tokens ?? {};
    if (holders.length > o.max) violations.push(`semaphore: index ${e.index}: ${holders.length} holders (${holders.join(', ')}), max ${o.max}`);
    if (new Set(holders).size !== holders.length) violations.push(`semaphore: index ${e.index}: a holder listed twice (${holders.join(', ')})`);
    const now = new Map<string, number>();
    for (const h of holders) {
      const raw = tokens[h];
      const token = raw === 0 ? e.node.modifiedIndex : raw;
      if (token === undefined) { violations.push(`semaphore: index ${e.index}: holder ${h} has no token`); continue; }
      now.set(h, token);
      const before = held.get(h);
      if (before !== undefined && e.action !== 'get') {
        if (before !== token) violations.push(`semaphore: index ${e.index}: ${h}'s token changed from ${before} to ${token} while held`);
        continue;
      }
      if (before !== undefined) continue;
      // A new grant: made by this write (after a re-read: by some write in the gap).
      if (e.action !== 'get' && token !== e.node.modifiedIndex) {
        violations.push(`semaphore: index ${e.index}: ${h} granted with token ${token}, not the granting write's index`);
      }
      if (grantedTo.has(token)) violations.push(`semaphore: token ${token} granted twice (${grantedTo.get(token)!}, ${h})`);
      else if (token <= lastToken) violations.push(`semaphore: index ${e.index}: token ${token} granted to ${h} after token ${lastToken}`);
      grantedTo.set(token, h);
      lastToken = Math.max(lastToken, token);
    }
    held = now;
  }
  const unverified = distinctAndKnown(clients, new Set(grantedTo.keys()), gaps, 'semaphore', violations);
  for (const g of clients) {
    const h = grantedTo.get(g.token);
    if (h !== undefined && h !== g.who) violations.push(`semaphore: ${g.who} was told it holds token ${g.token}, which went to ${h}`);
  }
  return { violations, grants: grantedTo.size, gaps: gaps.length, unverified };
}

interface Candidacy { readonly candidate: string; readonly token: number }

/** The election `name`'s events against the leaderships its clients reported. */
export function checkElection(events: readonly KvEvent[], clients: readonly ClientGrant[], o: { name: string }): RecipeVerdict {
  const dir = `/cairn/election/${o.name}`;
  const violations: string[] = [];
  const gaps: Gap[] = [];
  const live = new Map<string, Candidacy>();
  const leaders = new Map<number, string>();
  let leader: Candidacy | undefined;
  let lastIndex = 0;
  const add = (n: Node): void => {
    const v = parse<{ candidate?: string }>(n.value);
    live.set(n.key, { candidate: v?.candidate ?? '?', token: n.createdIndex });
  };
  for (const e of events) {
    if (e.action === 'get') {
      gaps.push({ after: lastIndex, upTo: e.index });
      live.clear();
      for (const n of leaves(e.node)) if (n.key.startsWith(`${dir}/`)) add(n);
    } else if (e.node.key.startsWith(`${dir}/`)) {
      if (REMOVALS.has(e.action)) live.delete(e.node.key);
      else if (!live.has(e.node.key)) {
        if (e.action !== 'create') violations.push(`election: index ${e.index}: candidacy ${e.node.key} appeared by ${e.action}, not create`);
        if (leader !== undefined && e.node.createdIndex < leader.token) {
          violations.push(`election: index ${e.index}: candidacy ${e.node.createdIndex} appeared below leader ${leader.token}`);
        }
        add(e.node);
      }
    }
    lastIndex = Math.max(lastIndex, e.index);
    const lowest = [...live.values()].reduce<Candidacy | undefined>((a, c) => (a === undefined || c.token < a.token ? c : a), undefined);
    if (lowest !== undefined && lowest.token !== leader?.token) {
      if (leader !== undefined && lowest.token < leader.token) {
        violations.push(`election: index ${e.index}: leader token went back from ${leader.token} to ${lowest.token}`);
      }
      leaders.set(lowest.token, lowest.candidate);
    }
    leader = lowest;
  }
  const unverified = distinctAndKnown(clients, new Set(leaders.keys()), gaps, 'election', violations);
  for (const g of clients) {
    const c = leaders.get(g.token);
    if (c !== undefined && c !== g.who) violations.push(`election: ${g.who} was told it leads with token ${g.token}, which was ${c}'s`);
  }
  violations.push(...overlaps(clients));
  return { violations, grants: leaders.size, gaps: gaps.length, unverified };
}

/** Two clients counting on leaderships with different tokens at the same moment. */
function overlaps(clients: readonly ClientGrant[]): string[] {
  // A leadership already lost when its campaign answered (to ≤ from) was never counted on.
  const sorted = [...clients].filter((g) => g.to !== undefined && g.to > g.from).sort((a, b) => a.from - b.from);
  const found: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.from < sorted[i]!.to!; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.token === b.token) continue;
      found.push(`election: ${a.who} (token ${a.token}, ${a.from.toFixed(0)}–${a.to!.toFixed(0)} ms) and ${b.who} ` +
        `(token ${b.token}, ${b.from.toFixed(0)}–${b.to!.toFixed(0)} ms) both counted on leading at once`);
    }
  }
  return found;
}

interface JobValue { job?: string; state?: string; attempt?: number; machine?: string; machineIndex?: number; token?: number }
interface Assignment { readonly machine: string; readonly machineIndex: number | undefined; readonly index: number }

/** The job events under /cairn/jobs against each job's final state (`finals`: job → state). */
export function checkJobs(events: readonly KvEvent[], finals: ReadonlyMap<string, string | undefined>): RecipeVerdict {
  const prefix = '/cairn/jobs/';
  const violations: string[] = [];
  const gaps: Gap[] = [];
  const assigned = new Map<string, Assignment>(); // `${job}#${attempt}`
  const current = new Map<string, JobValue>(); // key → last value seen
  let lastIndex = 0;
  const see = (n: Node, index: number, afterGap: boolean): void => {
    const v = parse<JobValue>(n.value);
    if (v?.job === undefined || v.state === undefined || v.attempt === undefined) return;
    const before = current.get(n.key);
    current.set(n.key, v);
    if (before?.attempt !== undefined && v.attempt < before.attempt) {
      violations.push(`jobs: index ${index}: ${v.job}'s attempt went back from ${before.attempt} to ${v.attempt}`);
    }
    const id = `${v.job}#${v.attempt}`;
    const first = assigned.get(id);
    if (v.state === 'running' && first !== undefined && v.token !== undefined && v.token !== first.index) {
      violations.push(`jobs: index ${index}: ${id} running with token ${v.token}, assigned at index ${first.index}`);
    }
    if (v.state !== 'assigned') return;
    const mine: Assignment = { machine: v.machine ?? '?', machineIndex: v.machineIndex, index: n.modifiedIndex };
    const again = before?.state === 'assigned' && before.attempt === v.attempt;
    if (first === undefined) { assigned.set(id, mine); return; }
    if (first.machine !== mine.machine || first.machineIndex !== mine.machineIndex) {
      violations.push(`jobs: index ${index}: ${id} assigned to ${mine.machine}@${String(mine.machineIndex)}, ` +
        `already assigned to ${first.machine}@${String(first.machineIndex)} at index ${first.index}`);
    } else if (!again && !afterGap && first.index !== mine.index) {
      violations.push(`jobs: index ${index}: ${id} assigned a second time (first at index ${first.index})`);
    }
  };
  for (const e of events) {
    if (e.action === 'get') {
      gaps.push({ after: lastIndex, upTo: e.index });
      for (const n of leaves(e.node)) if (n.key.startsWith(prefix)) see(n, e.index, true);
    } else if (e.node.key.startsWith(prefix) && !REMOVALS.has(e.action)) {
      see(e.node, e.index, false);
    }
    lastIndex = Math.max(lastIndex, e.index);
  }
  for (const [job, state] of finals) {
    if (state !== 'succeeded' && state !== 'failed' && state !== 'lost') violations.push(`jobs: ${job} ended ${state ?? 'missing'}`);
  }
  return { violations, grants: assigned.size, gaps: gaps.length, unverified: 0 };
}
