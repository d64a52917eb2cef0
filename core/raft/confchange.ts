// Single-server membership changes (thesis §4.1): what a change is, how it is encoded in a
// 'confChange' log entry, how it is checked, and how it transforms a configuration.
import type { ConfState, NodeId } from './types.js';

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/** `addVoter` on an existing learner promotes it; `addLearner` on a voter demotes it. */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /**
   * Opaque to Raft: what the application needs to know about the member (its name and
   * URLs), replicated with the change so every member learns it at the same log index.
   */
  readonly context?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  const { type, nodeId, context } = change;
  return encoder.encode(JSON.stringify(context === undefined ? { type, nodeId } : { type, nodeId, context }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed: unknown = JSON.parse(decoder.decode(data));
  if (!isConfChange(parsed)) {
    throw new Error(`raft: corrupt confChange entry ${decoder.decode(data)}; the log is damaged`);
  }
  return parsed;
}

export function isConfChange(value: unknown): value is ConfChange {
  if (typeof value !== 'object' || value === null) return false;
  const { type, nodeId, context } = value as Record<string, unknown>;
  return (
    (type === 'addVoter' || type === 'addLearner' || type === 'removeNode') &&
    typeof nodeId === 'string' &&
    nodeId !== '' &&
    (context === undefined || typeof context === 'string')
  );
}

/** Returns why `change` cannot apply to `conf`, or undefined when it can. */
export function validateConfChange(conf: ConfState, change: ConfChange): string | undefined {
  if (!isConfChange(change)) {
    return 'a conf change needs type addVoter, addLearner or removeNode and a non-empty nodeId';
  }
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  switch (change.type) {
    case 'addVoter':
      return isVoter ? `${change.nodeId} is already a voter` : undefined;
    case 'addLearner':
      if (isLearner) return `${change.nodeId} is already a learner`;
      if (isVoter && conf.voters.length === 1) return 'cannot demote the only voter';
      return undefined;
    case 'removeNode':
      if (!isVoter && !isLearner) return `${change.nodeId} is not a member`;
      if (isVoter && conf.voters.length === 1) return 'cannot remove the only voter';
      return undefined;
  }
}

/** The configuration after `change`; assumes validateConfChange accepted it. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== change.nodeId);
  const learners = conf.learners.filter((id) => id !== change.nodeId);
  if (change.type === 'addVoter') voters.push(change.nodeId);
  if (change.type === 'addLearner') learners.push(change.nodeId);
  return { voters: voters.sort(), learners: learners.sort() };
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}
