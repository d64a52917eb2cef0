// Issue 8's targets (3 members, 64 in flight), checked against a run's medians: where cairn
// stands, met or not, with the figure it was judged on.
import { THROUGHPUT, median, series } from './report.js';
import type { PhaseSpec, SpecResults } from './report.js';
import type { PhaseOutcome } from './phase.js';

interface Target {
  text: string;
  spec: Omit<PhaseSpec, 'size'>;
  /** The judged figure: a cairn/etcd ratio or cairn's own value. */
  figure: (r: SpecResults) => number;
  met: (v: number) => boolean;
  show: (v: number) => string;
}

const metric = (name: string): ((o: PhaseOutcome) => number | undefined) => THROUGHPUT.find((m) => m.name === name)!.of;
const ratio = (name: string) => (r: SpecResults): number => median(series(r, metric(name)).ratios);
const cairnMedian = (of: (o: PhaseOutcome) => number | undefined) => (r: SpecResults): number => median(series(r, of).cairn);
const times = (v: number): string => `${v.toFixed(2)}× etcd`;

const TARGETS: Target[] = [
  { text: 'put throughput ≥ 2× etcd', spec: { workload: 'put', clients: 64 }, figure: ratio('ops/s'), met: (v) => v >= 2, show: times },
  { text: 'put p99 no higher than etcd', spec: { workload: 'put', clients: 64 }, figure: ratio('p99 ms'), met: (v) => v <= 1, show: times },
  { text: 'server CPU per put ≤ ½ etcd', spec: { workload: 'put', clients: 64 }, figure: ratio('server CPU µs/op'), met: (v) => v <= 0.5, show: times },
  { text: 'linearizable get ≥ 2× etcd', spec: { workload: 'get-lin', clients: 64 }, figure: ratio('ops/s'), met: (v) => v >= 2, show: times },
  {
    text: '1,000-watcher fan-out ≤ 20 ms', spec: { workload: 'watch', clients: 1 },
    figure: cairnMedian((o) => o.result.p50Ms), met: (v) => v <= 20, show: (v) => `${v.toFixed(1)} ms`,
  },
  {
    text: 'failover ≤ 0.5 s', spec: { workload: 'failover', clients: 16 },
    figure: cairnMedian((o) => o.result.gapMs), met: (v) => v <= 500, show: (v) => `${(v / 1000).toFixed(2)} s`,
  },
];

/** One line per target whose phase ran on 3 members. */
export function targetLines(results: readonly SpecResults[]): string[] {
  const lines: string[] = [];
  for (const t of TARGETS) {
    const r = results.find((x) => x.spec.size === 3 && x.spec.workload === t.spec.workload
      && (t.spec.workload === 'watch' || t.spec.workload === 'failover' || x.spec.clients === t.spec.clients));
    if (r === undefined) continue;
    const v = t.figure(r);
    const verdict = Number.isNaN(v) ? 'no figure' : t.met(v) ? 'met' : 'NOT met';
    lines.push(`- ${t.text}: ${Number.isNaN(v) ? '—' : t.show(v)} — ${verdict}`);
  }
  return lines;
}
