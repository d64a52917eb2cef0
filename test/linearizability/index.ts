// The linearizability checker's public surface: the history types the fault runner records,
// the checker, and the per-key model (exported so tests and tools can replay a history).
export type { CheckResult, KvInput, KvOutput, Operation } from './history.js';
export {
  checkHistory,
  checkKey,
  describeOperation,
  DEFAULT_STATE_BUDGET,
  DEFAULT_TIME_BUDGET_MS,
  type CheckOptions,
  type HistoryReport,
  type KeyReport,
} from './check.js';
export type { KeyVerdict } from './search.js';
export {
  CODE_COMPARE_FAILED,
  CODE_KEY_NOT_FOUND,
  CODE_NODE_EXISTS,
  ILLEGAL,
  INITIAL_STATE,
  step,
  type KeyState,
} from './model.js';
