// A small synchronous test network for the Raft core, in the spirit of etcd-io/raft's
// `network` (raft_test.go): N RawNodes, an in-memory durable store per node, a FIFO message
// queue, link cutting/dropping/holding, and `stabilize()`, which takes Readies, persists,
// sends, applies and advances until nothing is left to do.
//
// The harness is also a safety checker: it throws when a node applies an entry that is not
// durable in its own log, applies out of order, or applies something another node applied
// differently at the same index (State Machine Safety), when two nodes lead in the same term
// (Election Safety), or when a durable term or commit index goes backwards.
import {
  RawNode, applyConfChange, decodeConfChange, seededRandom,
} from '../../core/raft/index.js';
import type {
  AppendMessage, ConfChange, ConfState, Entry, HardState, Index, Message, MessageType, NodeId,
  PersistedState, RaftOptions, ReadState, Ready, Snapshot, StateRole, Term, VoteMessage,
} from '../../core/raft/index.js';
import { EMPTY_HARD_STATE } from '../../core/raft/index.js';
import { encodeConfChange } from '../../core/raft/confchange.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** Per-node config overrides (everything but id and random, which the harness sets). */
export type NodeConfig = Omit<Partial<RaftOptions>, 'id'>;

/** What one node has made durable and applied. */
export class MemStore {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: Snapshot | undefined;
  /** The durable log after the snapshot, contiguous. */
  entries: Entry[] = [];
  applied: Index = 0;
  /** The state machine: the data of every applied non-empty normal entry, in order. */
  state: string[] = [];
  /** Every entry applied (normal and confChange), for inspection. */
  appliedEntries: Entry[] = [];
  readStates: ReadState[] = [];

  constructor(readonly id: NodeId) {}

  firstIndex(): Index {
    return (this.snapshot?.metadata.index ?? 0) + 1;
  }

  lastIndex(): Index {
    return (this.snapshot?.metadata.index ?? 0) + this.entries.length;
  }

  term(index: Index): Term | undefined {
    const snap = this.snapshot?.metadata;
    if (index === (snap?.index ?? 0)) return snap?.term ?? 0;
    return this.entries[index - this.firstIndex()]?.term;
  }

  persistedState(): PersistedState {
    return {
      hardState: this.hardState,
      ...(this.snapshot !== undefined ? { snapshot: this.snapshot } : {}),
      entries: [...this.entries],
      applied: this.applied,
    };
  }

  /** Makes a Ready's snapshot, entries and hard state durable (in that order). */
  persist(rd: Ready): void {
    if (rd.snapshot !== undefined) {
      const { index, term } = rd.snapshot.metadata;
      // Keep entries after the snapshot only if they agree with it.
      const keep = this.term(index) === term ? this.entries.filter((e) => e.index > index) : [];
      this.snapshot = rd.snapshot;
      this.entries = keep;
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      if (first > this.lastIndex() + 1) {
        throw new Error(`harness ${this.id}: Ready entries start at ${first}, leaving a gap after ${this.lastIndex()}`);
      }
      if (first < this.firstIndex()) {
        throw new Error(`harness ${this.id}: Ready entries start at ${first}, below the snapshot (${this.firstIndex()})`);
      }
      this.entries = this.entries.slice(0, first - this.firstIndex()).concat(rd.entries);
      for (let i = 1; i < this.entries.length; i++) {
        if (this.entries[i]!.index !== this.entries[i - 1]!.index + 1) {
          throw new Error(`harness ${this.id}: persisted log not contiguous at ${this.entries[i]!.index}`);
        }
      }
    }
    if (rd.hardState !== undefined) {
      if (rd.hardState.term < this.hardState.term) {
        throw new Error(`harness ${this.id}: durable term went back ${this.hardState.term} -> ${rd.hardState.term}`);
      }
      if (rd.hardState.commit < this.hardState.commit) {
        throw new Error(`harness ${this.id}: durable commit went back ${this.hardState.commit} -> ${rd.hardState.commit}`);
      }
      if (rd.hardState.commit > this.lastIndex()) {
        throw new Error(`harness ${this.id}: durable commit ${rd.hardState.commit} beyond the durable log (${this.lastIndex()})`);
      }
      this.hardState = rd.hardState;
    }
  }

  /** Installs the snapshot and applies committed entries; they must be durable here. */
  apply(rd: Ready): void {
    if (rd.snapshot !== undefined) {
      this.state = JSON.parse(text(rd.snapshot.data)) as string[];
      this.applied = rd.snapshot.metadata.index;
    }
    for (const e of rd.committedEntries) {
      if (e.index !== this.applied + 1) {
        throw new Error(`harness ${this.id}: applying ${e.index} after ${this.applied} (out of order)`);
      }
      if (this.term(e.index) !== e.term) {
        throw new Error(`harness ${this.id}: applying ${e.index}@${e.term}, not durable in the log (${this.term(e.index)})`);
      }
      if (e.index > this.hardState.commit) {
        throw new Error(`harness ${this.id}: applying ${e.index} above the durable commit ${this.hardState.commit}`);
      }
      this.applied = e.index;
      this.appliedEntries.push(e);
      if (e.type === 'normal' && e.data.byteLength > 0) this.state.push(text(e.data));
    }
    this.readStates.push(...rd.readStates);
  }

  /** The application's snapshot data at `index` (at most its applied index). */
  snapshotData(index = this.applied): Uint8Array {
    if (index > this.applied) throw new Error(`harness ${this.id}: no state at ${index}, applied ${this.applied}`);
    const later = this.appliedEntries.filter((e) => e.index > index && e.type === 'normal' && e.data.byteLength > 0).length;
    return bytes(JSON.stringify(this.state.slice(0, this.state.length - later)));
  }
}

/** Committed entries for a log prefix: one addVoter per voter (what bootstrap writes). */
export function confPrefix(voters: readonly NodeId[]): Entry[] {
  return [...voters].sort().map((id, i) => ({
    term: 1, index: i + 1, type: 'confChange' as const, data: encodeConfChange({ type: 'addVoter', nodeId: id }),
  }));
}

/**
 * A log shaped by terms (paper Figures 7 and 8): the bootstrap prefix for `voters`, then one
 * entry per element of `terms`. Entry k of `terms` lands at index voters.length + 1 + k.
 */
export function logWithTerms(voters: readonly NodeId[], terms: readonly Term[]): Entry[] {
  const prefix = confPrefix(voters);
  return prefix.concat(terms.map((term, k) => ({
    term, index: prefix.length + 1 + k, type: 'normal' as const, data: bytes(`t${term}i${prefix.length + 1 + k}`),
  })));
}

/** Durable state for a node with the given log (commit = the bootstrap prefix unless said). */
export function stateWithLog(voters: readonly NodeId[], terms: readonly Term[], term: Term, commit = voters.length): PersistedState {
  return { hardState: { term, vote: '', commit }, entries: logWithTerms(voters, terms) };
}

export function confChangeOf(e: Entry): ConfChange | undefined {
  return e.type === 'confChange' ? decodeConfChange(e.data) : undefined;
}

type MessagePredicate = (m: Message) => boolean;

export interface NetworkOptions {
  /** Config shared by every node. */
  config?: NodeConfig;
  /** Per-node overrides. */
  perNode?: Record<NodeId, NodeConfig>;
  /** Seed for the nodes' random generators (node k gets seed + k). */
  seed?: number;
}

export class Network {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly stores = new Map<NodeId, MemStore>();
  /** Messages sent and not yet delivered, in order. */
  queue: Message[] = [];
  /** Messages a hold rule kept back; deliver them with release(). */
  held: Message[] = [];
  /** Every message that reached the network (before drop rules), for inspection. */
  readonly sent: Message[] = [];
  private readonly cutLinks = new Set<string>();
  private readonly dropRules: MessagePredicate[] = [];
  private readonly holdRules: MessagePredicate[] = [];
  private readonly duplicateRules: MessagePredicate[] = [];
  /** Who led each term, for the Election Safety check. */
  readonly leaderOfTerm = new Map<Term, NodeId>();
  /** index -> "term:type:data" of the first entry any node applied there. */
  private readonly appliedAt = new Map<Index, string>();
  private seedCounter = 0;

  private constructor(private readonly options: NetworkOptions) {}

  /** A brand-new cluster whose members all bootstrap with `ids` as voters. */
  static bootstrap(ids: readonly NodeId[], options: NetworkOptions = {}): Network {
    const net = new Network(options);
    for (const id of ids) net.add(id, RawNode.bootstrap(net.optionsFor(id), ids));
    return net;
  }

  /** Nodes restarted from the given durable states (e.g. the Figure 7 / 8 log shapes). */
  static restart(states: Record<NodeId, PersistedState>, options: NetworkOptions = {}): Network {
    const net = new Network(options);
    for (const [id, state] of Object.entries(states)) net.restartNode(id, state);
    return net;
  }

  optionsFor(id: NodeId): RaftOptions {
    const seed = (this.options.seed ?? 1) * 1000 + this.seedCounter++;
    return { ...this.options.config, ...this.options.perNode?.[id], id, random: seededRandom(seed) };
  }

  private add(id: NodeId, node: RawNode, store = new MemStore(id)): void {
    this.nodes.set(id, node);
    this.stores.set(id, store);
  }

  /** (Re)starts `id` from `state`, or from its own store (a crash and restart). */
  restartNode(id: NodeId, state?: PersistedState): RawNode {
    const store = new MemStore(id);
    const from = state ?? this.store(id).persistedState();
    store.hardState = from.hardState;
    store.snapshot = from.snapshot;
    store.entries = from.entries.filter((e) => e.index > (from.snapshot?.metadata.index ?? 0));
    const old = this.stores.get(id);
    // A restart keeps the state machine as of the durable applied index.
    store.applied = from.applied ?? from.snapshot?.metadata.index ?? 0;
    if (old !== undefined && old.applied === store.applied) {
      // Same applied index as the state machine we hold: keep it (a crash and restart).
      store.state = [...old.state];
      store.appliedEntries = [...old.appliedEntries];
      store.readStates = [...old.readStates];
    } else if (from.snapshot !== undefined && store.applied === from.snapshot.metadata.index) {
      store.state = JSON.parse(text(from.snapshot.data)) as string[];
    } else if (store.entries.some((e) => e.index <= store.applied && e.type === 'normal' && e.data.byteLength > 0)) {
      // Applied entries carry data we would have to replay: a test bug, not a Raft one.
      throw new Error(`harness: cannot restart ${id} at applied ${store.applied} without its state machine`);
    }
    const node = RawNode.restart(this.optionsFor(id), from);
    this.add(id, node, store);
    return node;
  }

  /**
   * Crashes `id` mid-Ready: the Ready's early messages (which the contract lets leave before
   * the write) are sent, nothing of it is persisted, then the node restarts from its store.
   */
  crashAfterSend(id: NodeId): RawNode {
    const node = this.node(id);
    if (node.hasReady()) this.send(node.ready().messages);
    return this.restartNode(id);
  }

  /** A new member that joins an existing cluster with empty state. */
  addEmptyNode(id: NodeId): RawNode {
    return this.restartNode(id, { hardState: EMPTY_HARD_STATE, entries: [] });
  }

  /** Takes a node off the network (its queued messages are dropped). */
  removeNode(id: NodeId): void {
    this.nodes.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`harness: no node ${id}`);
    return n;
  }

  store(id: NodeId): MemStore {
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`harness: no store for ${id}`);
    return s;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  // ---- links and rules -------------------------------------------------------------------

  /** Drops every message from `from` to `to` (one direction). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}->${to}`);
  }

  /** Drops every message between a and b, both ways. */
  cut(a: NodeId, b: NodeId): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Splits the cluster: no message crosses between the groups. */
  partition(...groups: NodeId[][]): void {
    for (const g of groups) for (const h of groups) if (g !== h) for (const a of g) for (const b of h) this.cutOneWay(a, b);
  }

  /** Drops every message matching the predicate until heal(). */
  drop(pred: MessagePredicate): void {
    this.dropRules.push(pred);
  }

  dropType(...types: MessageType[]): void {
    this.drop((m) => types.includes(m.type));
  }

  /** Keeps matching messages in `held` instead of delivering them, until heal()/release(). */
  hold(pred: MessagePredicate): void {
    this.holdRules.push(pred);
  }

  /** Delivers matching messages twice (a duplicating network) until heal(). */
  duplicate(pred: MessagePredicate): void {
    this.duplicateRules.push(pred);
  }

  /** Removes every cut link, keeping drop and hold rules. */
  healLinks(): void {
    this.cutLinks.clear();
  }

  /** Removes every cut, drop rule and hold rule (held messages stay held). */
  heal(): void {
    this.cutLinks.clear();
    this.dropRules.length = 0;
    this.holdRules.length = 0;
    this.duplicateRules.length = 0;
  }

  /** Moves held messages (matching `pred`, default all) back to the front of the queue. */
  release(pred: MessagePredicate = () => true): Message[] {
    const out = this.held.filter(pred);
    this.held = this.held.filter((m) => !pred(m));
    this.queue = out.concat(this.queue);
    return out;
  }

  /** Delivers held messages (matching `pred`) now, bypassing cuts and rules. */
  deliverHeld(pred: MessagePredicate = () => true): Message[] {
    const out = this.held.filter(pred);
    this.held = this.held.filter((m) => !pred(m));
    for (const m of out) this.deliver(m);
    return out;
  }

  private isDropped(m: Message): boolean {
    return this.cutLinks.has(`${m.from}->${m.to}`) || this.dropRules.some((p) => p(m)) || !this.nodes.has(m.to);
  }

  // ---- time and inputs -------------------------------------------------------------------

  /** Ticks one node n times (no Ready processing, no delivery). */
  tick(id: NodeId, n = 1): void {
    const node = this.node(id);
    for (let i = 0; i < n; i++) node.tick();
  }

  /** Ticks every node once, then stabilizes; repeated n times. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.tick();
      this.stabilize();
    }
  }

  /** Ticks the whole cluster until `pred` holds; returns the ticks taken, throws past max. */
  tickUntil(pred: () => boolean, maxTicks = 500): number {
    for (let i = 0; i < maxTicks; i++) {
      if (pred()) return i;
      this.tickAll(1);
    }
    if (pred()) return maxTicks;
    throw new Error(`harness: condition not reached within ${maxTicks} ticks`);
  }

  /** Starts an election at `id` and stabilizes. */
  campaign(id: NodeId): void {
    const err = this.node(id).campaign();
    if (err !== undefined) throw new Error(`harness: campaign at ${id} failed: ${err.message}`);
    this.stabilize();
  }

  /** Proposes `data` at `id` and stabilizes; returns the error, if any. */
  propose(id: NodeId, data: string): ReturnType<RawNode['propose']> {
    const err = this.node(id).propose(bytes(data));
    this.stabilize();
    return err;
  }

  // ---- Ready processing and delivery -----------------------------------------------------

  /** Handles one Ready of `id` by the contract; returns it (undefined when none). */
  processReady(id: NodeId): Ready | undefined {
    const node = this.node(id);
    if (!node.hasReady()) return undefined;
    const rd = node.ready();
    const store = this.store(id);
    this.send(rd.messages);
    store.persist(rd);
    this.send(rd.messagesAfterPersist);
    store.apply(rd);
    this.checkApplied(id, rd);
    node.advance(rd);
    this.checkLeader(id);
    return rd;
  }

  /** Processes Readies of the given nodes (default all) until none has one; no delivery. */
  flush(...ids: NodeId[]): void {
    const targets = ids.length > 0 ? ids : this.ids();
    for (let round = 0; ; round++) {
      if (round > 1000) throw new Error('harness: flush did not settle');
      let any = false;
      for (const id of targets) if (this.nodes.has(id) && this.processReady(id) !== undefined) any = true;
      if (!any) return;
    }
  }

  private send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.sent.push(m);
      this.queue.push(m);
    }
  }

  /** Delivers one message by hand (ignoring cuts and rules). */
  deliver(m: Message): void {
    this.node(m.to).step(m);
  }

  /**
   * Delivers the messages queued right now (matching `pred`, default all) once, applying
   * cuts, drop and hold rules; messages they produce stay queued. Returns those delivered.
   */
  deliverQueued(pred: MessagePredicate = () => true): Message[] {
    const now = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    const delivered: Message[] = [];
    for (const m of now) {
      if (this.isDropped(m)) continue;
      if (this.holdRules.some((p) => p(m))) {
        this.held.push(m);
        continue;
      }
      this.node(m.to).step(m);
      if (this.duplicateRules.some((p) => p(m))) this.node(m.to).step(m);
      delivered.push(m);
    }
    return delivered;
  }

  /** Removes queued messages matching `pred` from the queue and returns them, undelivered. */
  take(pred: MessagePredicate = () => true): Message[] {
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  /** take() by type (and optionally sender/receiver). */
  takeType<T extends MessageType>(type: T, from?: NodeId, to?: NodeId): (Message & { type: T })[] {
    return this.take((m) => m.type === type && (from === undefined || m.from === from) && (to === undefined || m.to === to)) as (Message & { type: T })[];
  }

  /** Processes Readies and delivers messages until nothing is left; throws if it never settles. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.flush();
      if (this.queue.length === 0) return;
      this.deliverQueued();
    }
    throw new Error(`harness: the network did not settle within ${maxRounds} rounds`);
  }

  // ---- safety checks ---------------------------------------------------------------------

  private checkApplied(id: NodeId, rd: Ready): void {
    for (const e of rd.committedEntries) {
      const key = `${e.term}:${e.type}:${text(e.data)}`;
      const seen = this.appliedAt.get(e.index);
      if (seen === undefined) this.appliedAt.set(e.index, key);
      else if (seen !== key) {
        throw new Error(`harness: State Machine Safety broken: ${id} applied ${key} at ${e.index}, another node applied ${seen}`);
      }
    }
  }

  private checkLeader(id: NodeId): void {
    const st = this.node(id).status();
    if (st.role !== 'leader') return;
    const other = this.leaderOfTerm.get(st.term);
    if (other !== undefined && other !== id) {
      throw new Error(`harness: Election Safety broken: ${other} and ${id} both led term ${st.term}`);
    }
    this.leaderOfTerm.set(st.term, id);
  }

  // ---- observation helpers ---------------------------------------------------------------

  role(id: NodeId): StateRole {
    return this.node(id).status().role;
  }

  term(id: NodeId): Term {
    return this.node(id).status().term;
  }

  /** The ids of nodes that currently believe they lead. */
  leaders(): NodeId[] {
    return this.ids().filter((id) => this.role(id) === 'leader');
  }

  /** The single leader with the highest term, or undefined. */
  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    for (const id of this.leaders()) if (best === undefined || this.term(id) > this.term(best)) best = id;
    return best;
  }

  /** The terms of a node's in-memory log from firstIndex to lastIndex. */
  logTerms(id: NodeId): Term[] {
    const view = this.node(id).logView();
    const out: Term[] = [];
    for (let i = view.firstIndex; i <= view.lastIndex; i++) out.push(view.term(i)!);
    return out;
  }

  /** A node's in-memory log entries as [index, term] pairs. */
  logIds(id: NodeId): [Index, Term][] {
    const view = this.node(id).logView();
    return view.entries(view.firstIndex, view.lastIndex + 1).map((e) => [e.index, e.term]);
  }

  /** What a node's state machine holds (applied non-empty normal entries). */
  state(id: NodeId): string[] {
    return this.store(id).state;
  }

  confState(id: NodeId): ConfState {
    return this.node(id).status().confState;
  }

  /** Compacts `id` at its applied index using its own state machine as snapshot data. */
  compact(id: NodeId, index = this.store(id).applied): void {
    const err = this.node(id).compact(index, this.store(id).snapshotData(index));
    if (err !== undefined) throw new Error(`harness: compact ${id}@${index}: ${err.message}`);
    // The application may drop the compacted durable entries too.
    const store = this.store(id);
    const term = store.term(index);
    let confState: ConfState = store.snapshot?.metadata.confState ?? { voters: [], learners: [] };
    for (const e of store.entries) {
      if (e.index <= index && e.type === 'confChange') confState = applyConfChange(confState, decodeConfChange(e.data));
    }
    store.entries = store.entries.filter((e) => e.index > index);
    store.snapshot = { metadata: { index, term: term ?? 0, confState }, data: store.snapshotData(index) };
  }
}

// ---- shared helpers for the scenario tests --------------------------------------------------

/** A bootstrapped cluster whose initial Readies (the membership entries) are processed. */
export function cluster(ids: readonly NodeId[], options: NetworkOptions = {}): Network {
  const net = Network.bootstrap(ids, options);
  net.stabilize();
  return net;
}

/** Campaigns at `id`, stabilizes and throws unless `id` leads; returns its term. */
export function elect(net: Network, id: NodeId): Term {
  net.campaign(id);
  if (net.role(id) !== 'leader') {
    throw new Error(`harness: ${id} did not win the election (role ${net.role(id)}, term ${net.term(id)})`);
  }
  return net.term(id);
}

/** A normal entry (for hand-built append messages). */
export function ent(index: Index, term: Term, data = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: bytes(data) };
}

/** An append message (paper Figure 2 AppendEntries) built by hand. */
export function appendMsg(from: NodeId, to: NodeId, term: Term, prevLogIndex: Index, prevLogTerm: Term, entries: Entry[] = [], commit: Index = 0): AppendMessage {
  return { type: 'append', from, to, term, prevLogIndex, prevLogTerm, entries, commit };
}

/** A vote or pre-vote request built by hand. */
export function voteMsg(from: NodeId, to: NodeId, term: Term, lastLogIndex: Index, lastLogTerm: Term, type: 'vote' | 'preVote' = 'vote'): VoteMessage {
  return { type, from, to, term, lastLogIndex, lastLogTerm, transfer: false };
}
