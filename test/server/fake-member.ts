// An in-process stand-in for a member: a real StateMachine and WatchHub, with "the log" being
// a synchronous apply. It lets the JSON-RPC layer and the kv service be tested without Raft,
// sockets or timers; the real thing is tested black-box in test/integration.
import type { ConfChange } from '../../core/raft/index.js';
import type { Store } from '../../core/store/index.js';
import type { ApplyResult } from '../../server/apply.js';
import { MemberError } from '../../server/errors.js';
import { memberIdFor } from '../../server/identity.js';
import type { MemberApi } from '../../server/member-api.js';
import { VERSION } from '../../server/member-status.js';
import type { MemberStatus } from '../../server/member-status.js';
import { PeerStats } from '../../server/peer-stats.js';
import type { RpcContext } from '../../server/rpc.js';
import { handleRpcText } from '../../server/rpc.js';
import { subscriptionNotice } from '../../server/notification-batch.js';
import type { Command, KvWrite, MemberInfo } from '../../server/state-machine.js';
import { StateMachine } from '../../server/state-machine.js';
import { SubscriptionSet } from '../../server/subscriptions.js';
import type { Subscription } from '../../server/subscriptions.js';
import { WatchHub } from '../../server/watch-hub.js';

export class FakeMember implements MemberApi {
  readonly memberId = 'm1';
  readonly clusterToken = 'tok';
  readonly watchHub = new WatchHub();
  readonly metrics = undefined;
  readonly peerStats = new PeerStats();
  connectionCount = 0;
  readonly sm: StateMachine;
  raftIndex = 10;
  /** The proposer's clock stamped on kv writes (ms). */
  nowMs = 1_000_000;
  leaderId = 'm1';

  constructor(eventHistory = 1000) {
    this.sm = new StateMachine(eventHistory);
  }

  get store(): Store {
    return this.sm.store;
  }

  /** Applies a command as the log would, telling the watchers. */
  apply(command: Command): ApplyResult {
    this.raftIndex += 1;
    const outcome = this.sm.apply(command);
    if (outcome.events.length > 0) this.watchHub.notify(outcome.events);
    return { index: this.raftIndex, term: 2, outcome };
  }

  /** The leader's clock entry: expires whatever is due at `at`. */
  tickClock(at: number): void {
    this.apply({ requestId: 't', op: 'time', at });
  }

  status(): MemberStatus {
    return { clusterId: 'c', memberId: 'm1', name: 'one', leaderId: this.leaderId, term: 2, commitIndex: this.raftIndex, appliedIndex: this.raftIndex, index: this.store.index, version: VERSION };
  }

  members(): MemberInfo[] {
    return [{ id: memberIdFor(['http://127.0.0.1:7001'], 'tok'), name: 'one', peerUrls: ['http://127.0.0.1:7001/'], clientUrls: [] }];
  }

  voters(): readonly string[] {
    return ['m1'];
  }

  async proposeKv(write: KvWrite): Promise<ApplyResult> {
    if (this.leaderId === '') throw new MemberError(301, 'no leader', true);
    return this.apply({ requestId: 'r', op: 'kv', at: this.nowMs, write });
  }

  async proposeConfChange(_change: ConfChange): Promise<ApplyResult> {
    return { index: ++this.raftIndex, term: 2 };
  }

  async readBarrier(): Promise<number> {
    if (this.leaderId === '') throw new MemberError(301, 'no leader', true);
    return this.raftIndex;
  }

  waitForStoreIndex(index: number): Promise<boolean> {
    return Promise.resolve(this.store.index >= index);
  }

  transferLeader(): void {
    throw new MemberError(301, 'no leader', true);
  }

  caughtUp(): boolean {
    return this.leaderId !== '';
  }
}

/** A fake connection: frames sent to it are collected in `sent`. */
export class FakeConnection {
  readonly sent: unknown[] = [];
  buffered = 0;
  private readonly closing = new AbortController();
  readonly subscriptions = new SubscriptionSet({
    send: (text) => this.sent.push(JSON.parse(text)),
    notify: (text) => this.sent.push(JSON.parse(text)),
    notifyResult: (id, resultJson) => this.sent.push(JSON.parse(subscriptionNotice(id, resultJson))),
    bufferedAmount: () => this.buffered,
  }, 100, 1000);

  constructor(readonly member: FakeMember, readonly maxRequestBytes = 1024 * 1024) {}

  /** Sends one frame and returns the parsed reply; streams it opened start after it, as on a socket. */
  async call(body: unknown): Promise<unknown> {
    const opened: Subscription[] = [];
    const subscriptions = {
      open: (): Subscription => { const sub = this.subscriptions.open(); opened.push(sub); return sub; },
      unsubscribe: (id: string): boolean => this.subscriptions.unsubscribe(id),
    };
    const context: RpcContext = { member: this.member, subscriptions, closed: this.closing.signal, maxRequestBytes: this.maxRequestBytes };
    const reply = await handleRpcText(context, typeof body === 'string' ? body : JSON.stringify(body));
    for (const sub of opened) sub.activate();
    return reply === undefined ? undefined : JSON.parse(reply);
  }

  /** One request by method and params; returns the reply object. */
  async rpc(method: string, params?: Record<string, unknown>): Promise<{ result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }> {
    return await this.call({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }) as { result?: unknown };
  }

  close(): void {
    this.closing.abort();
    this.subscriptions.closeAll();
  }
}
