// Cross-field rules of the kv methods' params: the checks a JSON schema states badly. They are
// etcd v2's request validation (../shared/notes/etcd-v2.md §2, §6) plus the combinations whose
// meaning the store would drop without a word. Params may be ill-typed here (the schema reports
// that), so each rule fires only on the exact values it is about.

/** One bad field: `field` is a JSON pointer without the leading slash. */
export interface ParamProblem { field: string; problem: string }

type Params = Record<string, unknown>;
type Rule = (p: Params) => ParamProblem | undefined;

const isObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (p: Params, name: string): boolean => Object.hasOwn(p, name);
const problem = (field: string, text: string): ParamProblem => ({ field, problem: text });

/** etcd 212 "A TTL must be provided on refresh": renewing the TTL is all a refresh does. */
const refreshNeedsTtl: Rule = (p) =>
  p['refresh'] === true && !has(p, 'ttl')
    ? problem('ttl', 'is required when refresh is true: a refresh renews the TTL (etcd error 212)')
    : undefined;

/**
 * etcd 211 "Value provided on refresh": a refresh keeps the stored value, so a new one would be
 * lost. Like etcd, only a non-empty value is refused: etcd reads `value=` as no value at all.
 */
const refreshKeepsValue: Rule = (p) =>
  p['refresh'] === true && typeof p['value'] === 'string' && p['value'] !== ''
    ? problem('value', 'must not be given when refresh is true: a refresh keeps the current value (etcd error 211)')
    : undefined;

/** etcd stores a directory and drops the value silently, which would hide a client's mistake. */
const dirHasNoValue: Rule = (p) =>
  p['dir'] === true && has(p, 'value')
    ? problem('value', 'must not be given when dir is true: a directory has no value')
    : undefined;

/**
 * minIndex makes a local read wait until this member has caught up; a linearizable read goes
 * through the leader and needs no such wait. An unknown consistency is the schema's to report.
 */
const minIndexNeedsSerializable: Rule = (p) => {
  const c = p['consistency'];
  return has(p, 'minIndex') && (c === undefined || c === 'linearizable')
    ? problem('minIndex', 'is only allowed with consistency "serializable": a linearizable read already sees every acknowledged write')
    : undefined;
};

/** `exists: false` holds only for a missing key, which has no value or index to compare. */
const absentKeyHasNo = (field: 'value' | 'index'): Rule => (p) =>
  p['exists'] === false && has(p, field)
    ? problem(field, `must not be given with exists: false: a missing key has no ${field}, so it would be ignored`)
    : undefined;

// Left to etcd's meaning on purpose (the store implements it, see core/store/store.ts):
// prevExist: false with prevValue/prevIndex is a plain create that ignores both conditions, and
// a delete with prevValue/prevIndex is a compareAndDelete that ignores dir/recursive (a
// directory then gets 102 "Not a file").
const SET_RULES: readonly Rule[] = [refreshNeedsTtl, refreshKeepsValue, dirHasNoValue];
const CREATE_RULES: readonly Rule[] = [dirHasNoValue];
const COMPARE_RULES: readonly Rule[] = [absentKeyHasNo('value'), absentKeyHasNo('index')];

/** Rules by method; a Map so that a param named like an Object.prototype member finds nothing. */
const METHOD_RULES = new Map<string, readonly Rule[]>([
  ['kv.get', [minIndexNeedsSerializable]],
  ['kv.set', SET_RULES],
  ['kv.create', CREATE_RULES],
]);

/** The rules of each kv.txn op, by the op's name. */
const OP_RULES = new Map<string, readonly Rule[]>([['set', SET_RULES], ['create', CREATE_RULES]]);

function applyRules(rules: readonly Rule[], p: unknown, prefix: string): ParamProblem[] {
  const out: ParamProblem[] = [];
  if (!isObject(p)) return out;
  for (const rule of rules) {
    const found = rule(p);
    if (found !== undefined) out.push(problem(prefix + found.field, found.problem));
  }
  return out;
}

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The rules of every compare and of every op of both branches, named by their path. */
function txnProblems(p: Params): ParamProblem[] {
  const out = listOf(p['compare']).flatMap((c, i) => applyRules(COMPARE_RULES, c, `compare/${i}/`));
  for (const branch of ['success', 'failure']) {
    listOf(p[branch]).forEach((op, i) => {
      if (!isObject(op)) return;
      for (const [name, params] of Object.entries(op)) {
        out.push(...applyRules(OP_RULES.get(name) ?? [], params, `${branch}/${i}/${name}/`));
      }
    });
  }
  return out;
}

/** Every cross-field problem of `params` for `method` (empty when there is none). */
export function ruleProblems(method: string, params: unknown): ParamProblem[] {
  const own = applyRules(METHOD_RULES.get(method) ?? [], params, '');
  return method === 'kv.txn' && isObject(params) ? [...own, ...txnProblems(params)] : own;
}
