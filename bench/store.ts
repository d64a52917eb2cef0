// `npm run bench:store`: the store alone (no log, no network): the CPU time of one set, one txn
// that succeeds and one txn that rolls back, at 1,000, 10,000 and 100,000 keys of 256 bytes.
// A txn's cost should not grow with the store: it should pay for what it touches. Then the
// time to encode a whole snapshot in the member's slices, which does grow with the store: at
// the default --snapshot-count of 10,000, every member spends a ten-thousandth of it per put.
// The first snapshot encodes every key; the later ones, with 10,000 writes in between as at
// that default, copy the keys unchanged since the one before.
import { Store, StoreError } from '../core/store/index.js';
import type { TxnRequest } from '../core/store/index.js';

const SIZES = [1_000, 10_000, 100_000];
const ROUNDS = 5;
const OPS_PER_ROUND = 2_000;
const VALUE = 'x'.repeat(256);
const T0 = Date.UTC(2026, 0, 1);

function filled(keys: number): Store {
  const s = new Store();
  // 100 directories of keys, as services or jobs would be laid out.
  for (let i = 0; i < keys; i++) s.set(`/fill/d${i % 100}/k${i}`, { value: VALUE }, T0);
  return s;
}

/** Median µs per call of `op` over ROUNDS rounds of OPS_PER_ROUND calls. */
function measure(op: (i: number) => void): number {
  const perOp: number[] = [];
  let i = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let n = 0; n < OPS_PER_ROUND; n++) op(i++);
    perOp.push(Number(process.hrtime.bigint() - start) / 1000 / OPS_PER_ROUND);
  }
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(ROUNDS / 2)]!;
}

/**
 * Ns per key to encode a snapshot of `s` in 250-node steps: the first one, then the median
 * of ROUNDS more, each after 10,000 writes (a tenth of them overwrites, the rest new keys).
 */
function snapshotNsPerKey(s: Store, keys: number): { first: number; later: number } {
  let size = keys;
  const encode = (): number => {
    const start = process.hrtime.bigint();
    s.beginSnapshot();
    while (s.continueSnapshot(250) === undefined);
    return Number(process.hrtime.bigint() - start) / size;
  };
  const first = encode();
  const later: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < 1_000; i++) s.set(`/fill/d${i % 100}/k${(i * 7919) % keys}`, { value: `${VALUE}${round}` }, T0);
    for (let i = 0; i < 9_000; i++, size++) s.set(`/fill/d${size % 100}/k${size}`, { value: VALUE }, T0);
    later.push(encode());
  }
  later.sort((a, b) => a - b);
  return { first, later: later[Math.floor(ROUNDS / 2)]! };
}

function succeeding(i: number): TxnRequest {
  return {
    compare: [{ key: '/epoch', exists: true }],
    success: [{ set: { key: `/fill/d${i % 100}/k${i % 1000}`, value: VALUE } }, { set: { key: '/epoch', value: String(i) } }],
  };
}

function failing(i: number): TxnRequest {
  // The second op fails (no such key): the first is rolled back.
  return { compare: [], success: [{ set: { key: `/fill/d${i % 100}/k${i % 1000}`, value: VALUE } }, { delete: { key: '/no/such/key' } }] };
}

function main(): void {
  console.log('keys      set µs   txn µs   rolled-back txn µs');
  for (const keys of SIZES) {
    const s = filled(keys);
    s.set('/epoch', { value: '0' }, T0);
    const set = measure((i) => s.set(`/fill/d${i % 100}/k${i % 1000}`, { value: VALUE }, T0));
    const txn = measure((i) => s.txn(succeeding(i), T0));
    const rolledBack = measure((i) => {
      try {
        s.txn(failing(i), T0);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    });
    console.log(`${String(keys).padEnd(9)} ${set.toFixed(2).padStart(6)}   ${txn.toFixed(2).padStart(6)}   ${rolledBack.toFixed(2).padStart(8)}`);
  }
  console.log('\nsnapshot ns per key, sliced as the member does (250 nodes per step); later: after 10,000 more writes');
  console.log('keys      first   later');
  for (const keys of SIZES) {
    const { first, later } = snapshotNsPerKey(filled(keys), keys);
    console.log(`${String(keys).padEnd(9)} ${first.toFixed(0).padStart(5)}   ${later.toFixed(0).padStart(5)}`);
  }
}

main();
