// Turns the phases' outcomes into the comparison table: per figure the median of the rounds
// with min–max, and cairn/etcd as the median of the per-round ratios (both systems ran in the
// same round, so the ratio cancels much of a shared machine's drift).
import type { PhaseOutcome } from './phase.js';
import type { Kind } from './systems.js';
import type { Workload } from '../cairn-load/options.js';

export interface PhaseSpec { size: number; workload: Workload; clients: number }

/** Outcomes of one spec, by system, indexed by round (undefined where a phase failed). */
export interface SpecResults { spec: PhaseSpec; runs: Record<Kind, (PhaseOutcome | undefined)[]> }

export function describe(spec: PhaseSpec, watchers: number): string {
  switch (spec.workload) {
    case 'put': return `put, ${spec.clients} in flight`;
    case 'get-lin': return `linearizable get, ${spec.clients} in flight`;
    case 'get-ser': return `serializable get, ${spec.clients} in flight`;
    case 'watch': return `watch fan-out, ${watchers.toLocaleString('en-US')} watchers`;
    case 'failover': return `failover, ${spec.clients} puts in flight`;
  }
}

interface Metric { name: string; of: (o: PhaseOutcome) => number | undefined; digits: (v: number) => string }

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const count = (v: number): string => Math.round(v).toLocaleString('en-US');
const perOpUs = (cpuSec: number, o: PhaseOutcome): number | undefined => (o.result.ops > 0 ? (cpuSec / o.result.ops) * 1e6 : undefined);

export const THROUGHPUT: Metric[] = [
  { name: 'ops/s', of: (o) => o.result.opsPerSec, digits: count },
  { name: 'p50 ms', of: (o) => o.result.p50Ms, digits: ms },
  { name: 'p99 ms', of: (o) => o.result.p99Ms, digits: ms },
  { name: 'server CPU µs/op', of: (o) => perOpUs(o.serverCpuSec, o), digits: count },
  { name: 'client CPU µs/op', of: (o) => perOpUs(o.loadgenCpuSec, o), digits: count },
];
const WATCH: Metric[] = [{ name: 'put → last watcher, ms', of: (o) => o.result.p50Ms, digits: ms }];
const FAILOVER: Metric[] = [{ name: 'writes resume after, ms', of: (o) => o.result.gapMs, digits: ms }];

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function cell(values: readonly number[], digits: (v: number) => string): string {
  if (values.length === 0) return '—';
  if (values.length === 1) return digits(values[0]!);
  return `${digits(median(values))} [${digits(Math.min(...values))}–${digits(Math.max(...values))}]`;
}

const defined = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Per-round values of one metric for both systems, and the per-round ratios. */
export function series(r: SpecResults, of: (o: PhaseOutcome) => number | undefined): { cairn: number[]; etcd: number[]; ratios: number[] } {
  const pick = (kind: Kind): (number | undefined)[] => r.runs[kind].map((o) => (o === undefined ? undefined : of(o)));
  const [c, e] = [pick('cairn'), pick('etcd')];
  const ratios = c.flatMap((cv, i) => (defined(cv) && defined(e[i]) && e[i] !== 0 ? [cv / e[i]!] : []));
  return { cairn: c.filter(defined), etcd: e.filter(defined), ratios };
}

function metricsOf(workload: Workload): Metric[] {
  return workload === 'watch' ? WATCH : workload === 'failover' ? FAILOVER : THROUGHPUT;
}

function lostRow(r: SpecResults): string[] {
  const total = (kind: Kind, f: (o: PhaseOutcome) => number): string => {
    const runs = r.runs[kind].filter((o): o is PhaseOutcome => o !== undefined);
    return runs.length === 0 ? '—' : `${count(runs.reduce((s, o) => s + f(o), 0))} of ${count(runs.reduce((s, o) => s + o.result.ops, 0))}`;
  };
  return ['acknowledged writes lost', total('cairn', (o) => o.result.lost ?? 0), total('etcd', (o) => o.result.lost ?? 0), ''];
}

/** The markdown table: one row per figure of each phase spec. */
export function table(results: readonly SpecResults[], watchers: number): string {
  const lines = ['| members | workload | figure | cairn | etcd | cairn/etcd |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of results) {
    const rows = metricsOf(r.spec.workload).map((m) => {
      const s = series(r, m.of);
      return [m.name, cell(s.cairn, m.digits), cell(s.etcd, m.digits), cell(s.ratios, (v) => v.toFixed(2))];
    });
    if (r.spec.workload === 'failover') rows.push(lostRow(r));
    for (const row of rows) lines.push(`| ${r.spec.size} | ${describe(r.spec, watchers)} | ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** How busy the rest of the machine was: median over phases of others' CPU per second. */
export function noiseLine(results: readonly SpecResults[]): string {
  const busy = results.filter((r) => r.spec.workload !== 'failover').flatMap((r) => [...r.runs.cairn, ...r.runs.etcd])
    .flatMap((o) => (o === undefined || o.result.seconds <= 0 ? [] : [o.foreignCpuSec / o.result.seconds]));
  if (busy.length === 0) return '';
  return `other processes on the machine kept ${median(busy).toFixed(2)} CPUs busy (median over phases; `
    + `${Math.min(...busy).toFixed(2)}–${Math.max(...busy).toFixed(2)})`;
}
