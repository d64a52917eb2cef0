// Failover: a steady put load through one client given every endpoint; after `leader-after`
// seconds the leader is named on stdout and the runner kills it with SIGKILL. Reports the
// longest gap between two acknowledged writes (the time until writes succeeded again) and
// how many acknowledged writes a linearizable read of the whole prefix afterwards misses.
import { connect } from '../../clients/index.js';
import type { CairnClient, Node } from '../../clients/index.js';
import type { LoadOptions, LoadResult } from './options.js';
import { emit, sleep } from './common.js';

interface Ack { at: number; key: string }

/** Names the endpoint whose member leads, as its own status says. */
async function announceLeader(o: LoadOptions): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const endpoint of o.endpoints) {
      const probe = await connect({ endpoints: [endpoint], connectTimeoutMs: 1000, maxRetries: 0 }).catch(() => undefined);
      const status = await probe?.status({ timeoutMs: 1000 }).catch(() => undefined);
      probe?.close();
      if (status !== undefined && status.leaderId !== '' && status.leaderId === status.memberId) {
        emit({ event: 'leader', endpoint });
        return;
      }
    }
    await sleep(100);
  }
  throw new Error('no leader found to kill');
}

/** The longest time without an acknowledged write, the run's ends included. */
function longestGap(start: number, end: number, acks: readonly Ack[]): number {
  let prev = start;
  let gap = 0;
  for (const a of acks) {
    gap = Math.max(gap, a.at - prev);
    prev = a.at;
  }
  return Math.max(gap, end - prev);
}

async function lostWrites(o: LoadOptions, client: CairnClient, acks: readonly Ack[]): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const read = await client.get(o.prefix, { recursive: true, timeoutMs: 5000 }).catch(() => undefined);
    if (read === undefined) {
      await sleep(500);
      continue;
    }
    const found = new Set((read.node.nodes ?? []).map((n: Node) => n.key));
    return acks.filter((a) => !found.has(a.key)).length;
  }
  throw new Error('could not read the written keys back');
}

export async function runFailover(o: LoadOptions): Promise<LoadResult> {
  const client = await connect({ endpoints: o.endpoints, requestTimeoutMs: o.timeoutMs });
  try {
    const value = 'x'.repeat(o.valueSize);
    const acks: Ack[] = [];
    let issued = 0;
    let errors = 0;
    emit({ event: 'start' });
    const start = performance.now();
    const deadline = start + o.seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && issued < o.total) {
        const key = `${o.prefix}/${issued++}`;
        try {
          await client.set(key, value, { timeoutMs: o.timeoutMs });
          acks.push({ at: performance.now(), key });
        } catch {
          errors++;
          await sleep(10); // a refused write is retried, not spun on
        }
      }
    };
    const workers = Array.from({ length: o.clients }, () => worker());
    await sleep(o.leaderAfterSec * 1000);
    await announceLeader(o);
    await Promise.all(workers);
    const end = performance.now();
    emit({ event: 'end' });
    const seconds = (end - start) / 1000;
    return {
      workload: 'failover', ops: acks.length, errors, seconds, opsPerSec: acks.length / seconds,
      gapMs: longestGap(start, end, acks), lost: await lostWrites(o, client, acks),
    };
  } finally {
    client.close();
  }
}
