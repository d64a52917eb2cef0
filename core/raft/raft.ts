// The Raft state machine of one member (paper Figure 2, thesis chapters 3, 4, 6 and 9):
// terms, roles, elections with PreVote and CheckQuorum, the follower side of replication
// and snapshots. Pure: it reacts to step() and tick() and queues messages; it performs no
// I/O and reads no clock. Leader-only behaviour lives in leader.ts.
import { decodeConfChange } from './confchange.js';
import type { RaftConfig } from './config.js';
import type { AppendOutcome } from './follower.js';
import { receiveAppend, receiveSnapshot } from './follower.js';
import { LeaderState } from './leader.js';
import { RaftLog } from './log.js';
import type { AppendMessage, HeartbeatMessage, Message, SnapshotMessage, VoteMessage, VoteResponseMessage } from './messages.js';
import { assertNever } from './messages.js';
import { voteResult } from './quorum.js';
import type { NodeId, ReadState, Snapshot, StateRole, Term } from './types.js';
import { NO_NODE } from './types.js';

type CampaignKind = 'preElection' | 'election' | 'transfer';

/**
 * Messages whose meaning depends on state this member has not yet made durable (a vote, an
 * acknowledged append, a new term). They wait until the Ready that carries that state is
 * persisted. Everything else may leave at once, notably the leader's appends, so the leader
 * writes its own log in parallel with replication (thesis §10.2.1).
 */
const SENT_AFTER_PERSIST = new Set<Message['type']>([
  'appendResponse', 'vote', 'voteResponse', 'preVoteResponse', 'heartbeatResponse',
]);

export class Raft {
  readonly id: NodeId;
  term: Term = 0;
  vote: NodeId = NO_NODE;
  leader: NodeId = NO_NODE;
  role: StateRole = 'follower';
  readonly log = new RaftLog();
  /** The latest snapshot (ours or received), kept to send to followers that lag behind it. */
  snapshot: Snapshot | undefined;
  leaderState: LeaderState | undefined;

  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  /** Outbox, split by whether the message may leave before the next persist. */
  messages: Message[] = [];
  messagesAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  constructor(readonly config: RaftConfig) {
    this.id = config.id;
    this.resetRandomizedElectionTimeout();
  }

  send(message: Message): void {
    if (SENT_AFTER_PERSIST.has(message.type)) this.messagesAfterPersist.push(message);
    else this.messages.push(message);
  }

  /** May this member campaign? Only voters of the latest configuration in its log may. */
  promotable(): boolean {
    return this.log.confState().voters.includes(this.id);
  }

  private resetRandomizedElectionTimeout(): void {
    const { electionTicks, random } = this.config;
    this.randomizedElectionTimeout = electionTicks + Math.floor(random() * electionTicks);
  }

  private reset(term: Term): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.leader = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.leaderState = undefined;
  }

  becomeFollower(term: Term, leader: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  /** PreVote changes neither term nor vote: a failed pre-election leaves no trace. */
  private becomePreCandidate(): void {
    this.votes.clear();
    this.leaderState = undefined;
    this.leader = NO_NODE;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    const leaderState = new LeaderState(this);
    this.leaderState = leaderState;
    // The no-op lets the leader commit, and so learn the commit index, in its own term.
    const noop = { term: this.term, index: this.log.lastIndex() + 1, type: 'normal' as const, data: new Uint8Array(0) };
    leaderState.appendEntries([noop]);
  }

  completeRead(read: ReadState, from: NodeId): void {
    if (from === this.id) {
      this.readStates.push(read);
    } else {
      this.send({ type: 'readIndexResponse', from: this.id, to: from, term: this.term, index: read.index, context: read.context });
    }
  }

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.config.preVote ? 'preElection' : 'election');
    }
  }

  /**
   * A hint from the I/O layer that its connection to the leader closed (a killed process
   * closes its sockets at once). With PreVote this is safe to act on: the follower forgets
   * the leader, so it no longer holds the others off with its lease, and campaigns within a
   * few ticks instead of a full election timeout. If the leader is in fact alive, the others
   * still hear from it and refuse the PreVote, and its next heartbeat restores it here.
   * Followers campaign in member-id order, one tick apart, so that all of them seeing the
   * same close does not split the vote.
   */
  leaderLost(id: NodeId): void {
    if (!this.config.preVote || this.role !== 'follower' || this.leader !== id || id === NO_NODE) return;
    this.leader = NO_NODE;
    const rank = this.log.confState().voters.filter((v) => v !== id).sort().indexOf(this.id);
    if (rank < 0) return;
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - (rank + 1));
  }

  private tickHeartbeat(): void {
    const leaderState = this.leaderState!;
    this.heartbeatElapsed++;
    this.electionElapsed++;
    leaderState.tickSnapshots();
    if (leaderState.leadTransferee !== NO_NODE && ++leaderState.transferElapsed >= this.config.electionTicks) {
      leaderState.leadTransferee = NO_NODE; // the target did not take over in time: lead on
    }
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !leaderState.checkQuorumActive()) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      leaderState.broadcastHeartbeat();
    }
  }

  campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: Term;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    const type = kind === 'preElection' ? 'preVote' : 'vote';
    this.votes.set(this.id, true);
    if (this.tallyVotes()) return;
    for (const id of this.log.confState().voters) {
      if (id === this.id) continue;
      this.send({
        type, from: this.id, to: id, term: voteTerm,
        lastLogIndex: this.log.lastIndex(), lastLogTerm: this.log.lastTerm(), transfer: kind === 'transfer',
      });
    }
  }

  /** Acts on the election outcome so far; returns whether the campaign is decided. */
  private tallyVotes(): boolean {
    const result = voteResult(this.log.confState().voters, this.votes);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('election');
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NO_NODE);
    }
    return result !== 'pending';
  }

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        this.maybeStepDownAfterRemoval();
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  /** Handles a message from a later term; returns false if it must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      // Leader stickiness: while we hear from a live leader, nobody else may campaign
      // (thesis §4.2.3) unless the leader itself asked for it (a transfer).
      const inLease = this.config.checkQuorum && this.leader !== NO_NODE && this.electionElapsed < this.config.electionTicks;
      if (inLease && !m.transfer) return false;
    }
    if (m.type === 'preVote') return true; // a PreVote never changes our term
    if (m.type === 'preVoteResponse' && !m.reject) return true; // granted for our future term
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : NO_NODE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // A stale leader (or a member stranded at a lower term) learns our term from this
      // reply and steps down, instead of being ignored forever (etcd PR #5468).
      this.respondAppend(m.from, { index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'preVote') {
      // Reject with our term so a pre-candidate stuck at a lower term catches up (etcd #8501).
      this.send({ type: 'preVoteResponse', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote =
      this.vote === m.from ||
      (this.vote === NO_NODE && this.leader === NO_NODE) ||
      (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      // A grant echoes the request's term: for a PreVote that is a term we have not reached.
      this.send({ type: responseType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleFromLeader(m);
        break;
      case 'timeoutNow':
        this.campaign('transfer');
        break;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        break;
      case 'propose':
      case 'readIndex':
        // Forwarded to us by a member that took us for the leader. Passing it on could
        // bounce between two confused members; the caller's timeout and retry is safer.
        break;
      case 'appendResponse':
      case 'heartbeatResponse':
      case 'voteResponse':
      case 'preVoteResponse':
      case 'vote':
      case 'preVote':
        break; // stale replies from an earlier role in this term
      default:
        assertNever(m);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // A leader of our term exists: concede (paper §5.2).
        this.becomeFollower(m.term, m.from);
        this.handleFromLeader(m);
        break;
      case 'voteResponse':
      case 'preVoteResponse':
        this.handleVoteResponse(m);
        break;
      case 'propose':
      case 'readIndex':
      case 'timeoutNow':
      case 'appendResponse':
      case 'heartbeatResponse':
      case 'readIndexResponse':
      case 'vote':
      case 'preVote':
        break;
      default:
        assertNever(m);
    }
  }

  private handleVoteResponse(m: VoteResponseMessage): void {
    const expected = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
    if (m.type !== expected) return;
    this.votes.set(m.from, !m.reject);
    this.tallyVotes();
  }

  private stepLeader(m: Message): void {
    const leaderState = this.leaderState!;
    switch (m.type) {
      case 'appendResponse':
        leaderState.handleAppendResponse(m);
        break;
      case 'heartbeatResponse':
        leaderState.handleHeartbeatResponse(m);
        break;
      case 'propose':
        this.proposeAsLeader(m.entries.map((e) => ({ type: e.type, data: e.data })));
        break;
      case 'readIndex':
        leaderState.readIndex(m.context, m.from);
        break;
      case 'append':
      case 'heartbeat':
      case 'snapshot':
      case 'timeoutNow':
      case 'voteResponse':
      case 'preVoteResponse':
      case 'readIndexResponse':
      case 'vote':
      case 'preVote':
        break; // nothing another member of our own term can tell a leader here
      default:
        assertNever(m);
    }
  }

  /**
   * A leader whose own removal has committed stops leading (thesis §4.2.2); the remaining
   * members elect a successor once their election timeout passes.
   */
  maybeStepDownAfterRemoval(): void {
    if (this.role === 'leader' && !this.promotable() && this.log.lastConfIndex() <= this.log.committed) {
      this.becomeFollower(this.term, NO_NODE);
    }
  }

  /** Appends proposed payloads to the leader's log; returns false if they were dropped. */
  proposeAsLeader(payloads: readonly { type: 'normal' | 'confChange'; data: Uint8Array }[]): boolean {
    const leaderState = this.leaderState!;
    if (leaderState.leadTransferee !== NO_NODE || !this.promotable()) return false;
    // Forwarded membership changes get the same checks as local ones; one per batch at most.
    const changes = payloads.filter((p) => p.type === 'confChange');
    if (changes.length > 1) return false;
    if (changes.length === 1 && leaderState.confChangeRejection(decodeConfChange(changes[0]!.data)) !== undefined) return false;
    const bytes = payloads.reduce((sum, p) => sum + p.data.byteLength, 0);
    if (leaderState.exceedsUncommittedLimit(bytes)) return false;
    let index = this.log.lastIndex();
    leaderState.appendEntries(payloads.map((p) => ({ term: this.term, index: ++index, type: p.type, data: p.data })));
    return true;
  }

  private handleFromLeader(m: AppendMessage | HeartbeatMessage | SnapshotMessage): void {
    switch (m.type) {
      case 'append':
        this.respondAppend(m.from, receiveAppend(this.log, m));
        break;
      case 'heartbeat':
        this.log.commitTo(m.commit);
        this.send({ type: 'heartbeatResponse', from: this.id, to: m.from, term: this.term, context: m.context });
        break;
      case 'snapshot': {
        const { outcome, restored } = receiveSnapshot(this.log, m);
        if (restored) this.snapshot = m.snapshot;
        this.respondAppend(m.from, outcome);
        break;
      }
    }
  }

  private respondAppend(to: NodeId, outcome: AppendOutcome): void {
    this.send({ type: 'appendResponse', from: this.id, to, term: this.term, ...outcome });
  }
}
