// Watch fan-out: `watchers` watches on one key over `watch-conns` connections spread over the
// members; each round is one put, timed from sending it until the last watcher has its event.
import { connect } from '../../clients/index.js';
import type { CairnClient, Watch } from '../../clients/index.js';
import { percentile } from '../helpers.js';
import type { LoadOptions, LoadResult } from './options.js';
import { cpuSeconds, emit, sleep } from './common.js';

class Fanout {
  private readonly counts: number[];
  private readonly doneAt: number[];
  private readonly waiting: ((at: number) => void)[] = [];
  private readonly done: Promise<number>[];

  constructor(private readonly want: number, rounds: number) {
    this.counts = new Array<number>(rounds + 1).fill(0);
    this.doneAt = new Array<number>(rounds + 1).fill(NaN);
    this.done = this.counts.map((_, r) => new Promise<number>((resolve) => { this.waiting[r] = resolve; }));
  }

  /** One watcher's event for `round`; the last one records the time. */
  seen(round: number): void {
    if (!(round >= 0 && round < this.counts.length)) return;
    if (++this.counts[round]! === this.want) {
      this.doneAt[round] = performance.now();
      this.waiting[round]!(this.doneAt[round]!);
    }
  }

  async follow(watch: Watch): Promise<void> {
    for await (const event of watch) {
      const m = /^round-(\d+)$/.exec(event.node.value ?? '');
      if (m !== null) this.seen(Number(m[1]));
    }
  }

  /** Puts "round-r"; ms from sending it until every watcher had it. */
  async round(writer: CairnClient, key: string, r: number): Promise<number> {
    const sent = performance.now();
    await writer.set(key, `round-${r}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round ${r}: only ${this.counts[r]} of ${this.want} watchers notified within 30 s`)), 30_000);
    });
    try {
      return (await Promise.race([this.done[r]!, timeout])) - sent;
    } finally {
      clearTimeout(timer);
    }
  }
}

export async function runWatch(o: LoadOptions): Promise<LoadResult> {
  const key = `${o.prefix}/watched`;
  const writer = await connect({ endpoints: o.endpoints, requestTimeoutMs: o.timeoutMs });
  const conns = await Promise.all(Array.from({ length: o.watchConns }, (_, j) => connect({ endpoints: [o.endpoints[j % o.endpoints.length]!] })));
  try {
    const { index } = await writer.get(key).catch(() => writer.set(key, 'before'));
    const f = new Fanout(o.watchers, o.watchRounds);
    const watches = Array.from({ length: o.watchers }, (_, w) => conns[w % conns.length]!.watch(key, { waitIndex: index + 1 }));
    const following = watches.map((w) => f.follow(w).catch(() => undefined));
    await f.round(writer, key, 0); // warm-up: every watch is registered once all have seen it
    const cpu0 = cpuSeconds();
    emit({ event: 'start' });
    const start = performance.now();
    const samples: number[] = [];
    for (let r = 1; r <= o.watchRounds; r++) {
      await sleep(50);
      samples.push(await f.round(writer, key, r));
    }
    const seconds = (performance.now() - start) / 1000;
    emit({ event: 'end' });
    const clientCpuSec = cpuSeconds() - cpu0;
    for (const w of watches) w.close();
    await Promise.all(following);
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      workload: 'watch', ops: samples.length, errors: 0, seconds, opsPerSec: samples.length / seconds,
      p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.at(-1) ?? NaN, samplesMs: samples, clientCpuSec,
    };
  } finally {
    for (const c of [writer, ...conns]) c.close();
  }
}
