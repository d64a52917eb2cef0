// Differential test of the etcd v2 HTTP API: one request sequence (the table below, one line
// per case) goes to a real etcd 3.4 (--enable-v2, one member) and to a one-member cairn, step
// by step under the same key prefix. For every step the status, the compared headers and the
// JSON body field by field must agree once store indexes are made relative to each system's
// baseline (both consume exactly one index per successful write). Each step also asserts
// what etcd itself answered (status, errorCode), so the table documents etcd's behaviour.
import t from 'tap';
import { startEtcd } from './etcd-reference.js';
import { waitFor } from './processes.js';
import { diffLines, flattenResponse, rawRequest, storeIndexOf } from './v2-compare.js';
import type { RawResponse } from './v2-compare.js';
import { startV2Target } from './v2-targets.js';

interface Step {
  /** HTTP method. */
  readonly m: string;
  /** Relative to /v2/keys/diff/ unless it starts with `/`. `{N}` is baseline + N. */
  readonly p: string;
  /** A urlencoded form body (`{N}` as in p). */
  readonly b?: string;
  /** etcd's status, and its errorCode for error answers. */
  readonly s: number;
  readonly e?: number;
  /** Fields left out of the comparison, each with its reason in a comment on the line. */
  readonly skip?: readonly string[];
  /** With m 'FILL': PUT p this many times on both systems (no comparison), e.g. to age out history. */
  readonly n?: number;
}

// Relative indexes: the Nth successful write of the sequence gets index {N}.
const STEPS: readonly Step[] = [
  { m: 'PUT', p: 'a', b: 'value=hello', s: 201 }, // {1} set, new key
  { m: 'PUT', p: 'a', b: 'value=world', s: 200 }, // {2} set over a file: new createdIndex, prevNode
  { m: 'GET', p: 'a', s: 200 },
  { m: 'PUT', p: 'b?prevExist=false', b: 'value=1', s: 201 }, // {3} create
  { m: 'PUT', p: 'b?prevExist=false', b: 'value=2', s: 412, e: 105 },
  { m: 'PUT', p: 'a?prevExist=true', b: 'value=w3', s: 200 }, // {4} update keeps createdIndex
  { m: 'PUT', p: 'nope?prevExist=true', b: 'value=x', s: 404, e: 100 },
  { m: 'PUT', p: 'a?prevValue=w3', b: 'value=w4', s: 200 }, // {5} compareAndSwap by value
  { m: 'PUT', p: 'a?prevValue=nope', b: 'value=x', s: 412, e: 101 },
  { m: 'PUT', p: 'a?prevIndex={5}', b: 'value=w5', s: 200 }, // {6} compareAndSwap by index
  { m: 'PUT', p: 'a?prevIndex={1}', b: 'value=x', s: 412, e: 101 },
  { m: 'PUT', p: 'a?prevIndex={1}&prevValue=nope', b: 'value=x', s: 412, e: 101 }, // both causes
  { m: 'PUT', p: 'a?prevExist=true&prevValue=w5', b: 'value=w6', s: 200 }, // {7} prevExist + prevValue = CAS
  { m: 'PUT', p: 'nope?prevValue=x', b: 'value=x', s: 404, e: 100 },
  { m: 'PUT', p: 'c', b: 'value=v', s: 201 }, // {8}
  { m: 'DELETE', p: 'c?prevValue=x', s: 412, e: 101 },
  { m: 'DELETE', p: 'c', b: 'prevValue=x', s: 200 }, // {9} a DELETE body is ignored: plain delete
  { m: 'PUT', p: 'c', b: 'value=v', s: 201 }, // {10}
  { m: 'DELETE', p: 'c?prevValue=v', s: 200 }, // {11} compareAndDelete by value
  { m: 'PUT', p: 'c', b: 'value=v', s: 201 }, // {12}
  { m: 'DELETE', p: 'c?prevIndex={12}', s: 200 }, // {13} compareAndDelete by index
  { m: 'DELETE', p: 'nope?prevValue=x', s: 404, e: 100 },
  { m: 'PUT', p: 'dir1', b: 'dir=true', s: 201 }, // {14} mkdir
  { m: 'PUT', p: 'dir1', b: 'value=x', s: 403, e: 102 },
  { m: 'PUT', p: 'dir1', b: 'dir=true', s: 403, e: 102 },
  { m: 'DELETE', p: 'dir1', s: 403, e: 102 },
  { m: 'PUT', p: 'dir1?prevValue=x', b: 'value=y', s: 403, e: 102 },
  { m: 'PUT', p: 'dir1/k', b: 'value=1', s: 201 }, // {15}
  { m: 'DELETE', p: 'dir1?dir=true', s: 403, e: 108 },
  { m: 'DELETE', p: 'dir1?recursive=true', s: 200 }, // {16} one event for the dir
  { m: 'PUT', p: 'dir2?dir=true', s: 201 }, // {17}
  { m: 'DELETE', p: 'dir2?dir=true', s: 200 }, // {18} an empty dir
  { m: 'PUT', p: 'a/sub', b: 'value=x', s: 400, e: 104 },
  { m: 'GET', p: 'a/sub', s: 400, e: 104 },
  { m: 'GET', p: 'nope1/deeper/x', s: 404, e: 100 }, // cause: the first missing component
  { m: 'POST', p: 'q', b: 'value=job1', s: 201 }, // {19} in-order key q/{19}
  { m: 'POST', p: 'q', b: 'value=job2', s: 201 }, // {20}
  { m: 'POST', p: 'a', b: 'value=x', s: 400, e: 104 },
  { m: 'GET', p: 'q?sorted=true', s: 200 },
  { m: 'GET', p: 'q', s: 200 },
  { m: 'PUT', p: 'tree/x/y', b: 'value=1', s: 201 }, // {21} implicit dirs
  { m: 'PUT', p: 'tree/_hidden', b: 'value=h', s: 201 }, // {22}
  { m: 'PUT', p: 'tree/b', b: 'value=2', s: 201 }, // {23}
  { m: 'GET', p: 'tree?recursive=true&sorted=true', s: 200 }, // no _hidden
  { m: 'GET', p: 'tree', s: 200 }, // sub-dirs without nodes
  { m: 'GET', p: 'tree/_hidden', s: 200 },
  { m: 'PUT', p: 'ttlk', b: 'value=t&ttl=100', s: 201 }, // {24}
  { m: 'PUT', p: 'ttlk?refresh=true&prevExist=true', b: 'ttl=200', s: 200 }, // {25} refresh: update
  { m: 'PUT', p: 'ttlk?refresh=true', b: 'ttl=100', s: 200 }, // {26} refresh as a set
  { m: 'PUT', p: 'ttlk?refresh=true', b: 'value=x&ttl=100', s: 400, e: 211 },
  { m: 'PUT', p: 'ttlk?refresh=true', s: 400, e: 212 },
  { m: 'PUT', p: 'nope?refresh=true', b: 'ttl=5', s: 404, e: 100 },
  { m: 'PUT', p: 'ttlk', b: 'value=t2', s: 200 }, // {27} no ttl: permanent again
  { m: 'GET', p: 'ttlk?wait=true&waitIndex={25}', s: 200 }, // history skips the refreshes {25}, {26}: the set at {27}
  { m: 'PUT', p: 'ttlk', b: 'value=1&ttl=abc', s: 400, e: 202 },
  { m: 'PUT', p: 'nv?noValueOnSuccess=true', b: 'value=1', s: 201 }, // {28}
  { m: 'DELETE', p: 'nv?noValueOnSuccess=true', s: 200 }, // {29} deletes keep their nodes
  { m: 'GET', p: 'a?quorum=true', s: 200 },
  { m: 'GET', p: 'a?wait=true&quorum=true', s: 200 }, // a quorum GET, not a watch
  { m: 'HEAD', p: 'a', s: 200 },
  { m: 'HEAD', p: 'nope', s: 404 },
  { m: 'GET', p: 'a?wait=true&waitIndex={1}', s: 200 }, // the first event at or after {1}: the set at {1}
  { m: 'GET', p: 'a?wait=true&waitIndex={6}', s: 200 },
  { m: 'GET', p: 'dir1/k?wait=true&waitIndex={16}', s: 200 }, // the ancestor dir's delete
  { m: 'GET', p: 'a?wait=true&waitIndex=abc', s: 400, e: 203 },
  { m: 'PUT', p: 'a?wait=true', b: 'value=x', s: 400, e: 209 },
  { m: 'GET', p: 'a?recursive=yes', s: 400, e: 209 },
  { m: 'PUT', p: 'a?prevExist=maybe', b: 'value=x', s: 400, e: 209 },
  { m: 'PUT', p: 'a?prevValue=', b: 'value=x', s: 400, e: 201 },
  { m: 'PUT', p: 'a?prevIndex=abc', b: 'value=x', s: 400, e: 203 },
  { m: 'PUT', p: 'a', b: 'value=%zz', s: 400, e: 210 },
  { m: 'PUT', p: 'a?value=q', b: 'value=body', s: 200 }, // {30} the body wins over the query
  { m: 'PUT', p: '/v2/keys/', b: 'value=x', s: 400, e: 107 },
  { m: 'DELETE', p: '/v2/keys/?dir=true', s: 400, e: 107 },
  { m: 'PUT', p: 'trail/', b: 'value=1', s: 201 }, // {31} stored as /diff/trail
  { m: 'GET', p: 'trail/', s: 200 },
  { m: 'PUT', p: 'with%20space', b: 'value=1', s: 201 }, // {32} "/diff/with space"
  { m: 'PUT', p: 'x%2Fy', b: 'value=1', s: 201 }, // {33} %2F is a slash: /diff/x/y
  { m: 'PATCH', p: 'a', b: 'value=x', s: 405 },
  { m: 'OPTIONS', p: 'a', s: 200 },
  { m: 'GET', p: '/v2/foo', s: 404 },
  { m: 'GET', p: 'c/../a', s: 301 }, // Location: the cleaned path
  { m: 'PUT', p: 'q//b', b: 'value=x', s: 301 },
  { m: 'GET', p: '/v2/keys/?recursive=true&sorted=true', s: 200 }, // the whole store at the end
  { m: 'GET', p: '/health', s: 200 },
  { m: 'PUT', p: 'ef', b: 'value=1&ttl=', s: 201 }, // {34} an empty ttl: permanent
  { m: 'PUT', p: 'ef?prevIndex=0', b: 'value=2', s: 200 }, // {35} prevIndex=0 is no condition: a set
  { m: 'PUT', p: 'ef', b: 'dir=true&value=zzz', s: 200 }, // {36} a file replaced by a dir, value ignored
  { m: 'PUT', p: 'ef?prevExist=true', b: 'dir=true&ttl=100', s: 200 }, // {37} a dir TTL update
  { m: 'GET', p: 'ef', s: 200 }, // etcd quirk (#5148): the stored dir keeps modifiedIndex {36}
  { m: 'DELETE', p: 'b?dir=true', s: 200 }, // {38} dir=true deletes a file too
  { m: 'DELETE', p: '/v2/keys/?prevValue=x', s: 403, e: 102 }, // a CAD on the root: 102, no cause
  { m: 'FILL', p: 'fill/k', n: 1000, s: 200 }, // {39}..{1038}: the 1000-event history now starts at {39}
  { m: 'GET', p: 'a?wait=true&waitIndex={38}', s: 400, e: 401 }, // cleared: cause [{39}/{38}]
  { m: 'GET', p: 'fill?recursive=true&wait=true&waitIndex={39}', s: 200 }, // the oldest event kept
];

const PREFIX = '/v2/keys/diff/';
/** V2_DIFF_TRACE=1 prints every etcd answer (handy when adding a case). */
const TRACE = process.env['V2_DIFF_TRACE'] === '1';

/** The step's path and body for a system whose store index was `baseline` before the sequence. */
function concrete(step: Step, baseline: number): { path: string; body: string | undefined } {
  const fill = (s: string): string => s.replace(/\{(\d+)\}/g, (_, n: string) => String(baseline + Number(n)));
  const path = step.p.startsWith('/') ? step.p : PREFIX + step.p;
  return { path: fill(path), body: step.b === undefined ? undefined : fill(step.b) };
}

/**
 * The store index once nothing moves it any more: three reads 100 ms apart that agree (a fresh
 * etcd publishes its member attributes and cluster version just after it reports healthy).
 */
async function settledIndex(url: string): Promise<number> {
  let seen: number[] = [];
  return waitFor(`a settled store index on ${url}`, 10_000, async () => {
    seen = [...seen, await storeIndexOf(url)].slice(-3);
    return seen.length === 3 && seen.every((i) => i === seen[0]) ? seen[0] : undefined;
  }, 100);
}

/** Sends step.n PUTs of step.p (8 at a time); returns how many succeeded. */
async function fill(url: string, step: Step): Promise<number> {
  let [next, succeeded] = [0, 0];
  const worker = async (): Promise<void> => {
    for (let i = next++; i < (step.n ?? 0); i = next++) {
      // The same value each time: which of the concurrent writes lands first does not matter.
      const res = await rawRequest(url, 'PUT', PREFIX + step.p, 'value=fill');
      if (res.status === 200 || res.status === 201) succeeded++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return succeeded;
}

function errorCodeOf(res: RawResponse): number | undefined {
  try {
    const code = (JSON.parse(res.body) as { errorCode?: unknown }).errorCode;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

const etcd = await startEtcd(t, 1);
// With V2_TARGET=etcd the other side is a second etcd: a check of the harness itself.
const other = await startV2Target(t, 1);
const etcdUrl = etcd.clientUrls[0]!;
const cairnUrl = other.clientUrls[0]!;

t.test('the same v2 request sequence gets the same answers from etcd 3.4 and cairn', async (t) => {
  await waitFor(`${cairnUrl}/v2/keys/ to answer`, 15_000, async () => {
    const res = await rawRequest(cairnUrl, 'GET', '/v2/keys/');
    return res.status === 200 ? true : undefined;
  });
  const [etcdBase, cairnBase] = [await settledIndex(etcdUrl), await settledIndex(cairnUrl)];
  t.comment(`baselines: etcd ${etcdBase}, cairn ${cairnBase}`);
  const failed: string[] = [];
  for (const [i, step] of STEPS.entries()) {
    const name = `#${i + 1} ${step.m} ${step.p}${step.b === undefined ? '' : ` -d ${step.b}`}`;
    if (step.m === 'FILL') {
      const [filledEtcd, filledCairn] = await Promise.all([fill(etcdUrl, step), fill(cairnUrl, step)]);
      t.same([filledEtcd, filledCairn], [step.n, step.n], `${name}: ${step.n} writes succeeded on both`);
      continue;
    }
    const e = concrete(step, etcdBase);
    const c = concrete(step, cairnBase);
    const [etcdRes, cairnRes] = await Promise.all([
      rawRequest(etcdUrl, step.m, e.path, e.body),
      rawRequest(cairnUrl, step.m, c.path, c.body),
    ]);
    if (TRACE) t.comment(`${name}\n  etcd : ${etcdRes.status} ${JSON.stringify(etcdRes.headers)} ${etcdRes.body.trim()}`);
    t.same([etcdRes.status, errorCodeOf(etcdRes)], [step.s, step.e], `${name}: etcd answers ${step.s}${step.e === undefined ? '' : `/${step.e}`}`);
    const sortNodes = !step.p.includes('sorted=true');
    const diff = diffLines(flattenResponse(etcdRes, etcdBase, sortNodes), flattenResponse(cairnRes, cairnBase, sortNodes), step.skip);
    if (!t.same(diff, [], `${name}: cairn answers as etcd does`)) {
      failed.push(name);
      t.comment(`${name}\n  etcd : ${etcdRes.status} ${etcdRes.body.trim()}\n  cairn: ${cairnRes.status} ${cairnRes.body.trim()}\n  ${diff.join('\n  ')}`);
    }
  }
  if (failed.length > 0) t.comment(`steps where cairn differs (${failed.length}/${STEPS.length}):\n  ${failed.join('\n  ')}`);
});
