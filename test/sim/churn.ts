// Leader churn: a fault episode that builds the Raft paper's Figure 8. Random faults almost
// never line up the three leaders that figure needs, so this one does it on purpose:
//   1. the leader L1 (term a) is cut off with a minority and handed a burst of writes: they
//      reach only that minority;
//   2. the majority elects L2 (term b) without them; L2 is isolated the moment it wins, so
//      its entries (at the same indexes) stay on L2 alone;
//   3. everyone but L2 reconnects and a member holding L1's entries wins term c; it starts
//      re-replicating them: the window in which a leader that commits an earlier term's
//      entries by counting replicas would do so. Its disk often stalls now, so followers
//      acknowledge its entries of term c before it does itself;
//   4. right after its commit index first moves (or a little later), it is cut off with
//      every member that holds an entry of term c, and maybe crashed; L2 comes back. L2's
//      last term beats what the others hold, so it can win and overwrite their entries of
//      term a. That is safe only if none of them was committed, which the checker verifies.
// Elections are watched through the cluster's step observer, so each cut happens in the
// same step as the election it reacts to, before any message of the new leader arrives.
// Random faults and power losses hold off during an episode (it owns the network), every
// phase has a deadline, episodes are few, and nothing happens after the chaos phase.
import type { Index, NodeId, Term } from '../../core/raft/index.js';
import type { MemberObservation } from './checker.js';
import type { Cluster } from './cluster.js';
import type { Member } from './member.js';
import type { Rng } from './rng.js';

export interface ChurnOptions {
  /** Episodes per run at most; 0 turns the mode off for the seed. */
  readonly maxEpisodes: number;
  /** Quiet time before the first episode and between episodes. */
  readonly gapMs: readonly [number, number];
  /** How long a phase may wait for the election it needs before the episode gives up. */
  readonly phaseTimeoutMs: number;
}

type Phase =
  | { readonly kind: 'idle' }
  /** Step 1: waiting for a member outside the minority to win a term after `oldTerm`. */
  | { readonly kind: 'awaitRival'; readonly minority: readonly NodeId[]; readonly oldTerm: Term }
  /** Step 3: L2 is isolated; waiting for another member to win a later term. */
  | { readonly kind: 'awaitReturn'; readonly rival: NodeId; readonly rivalTerm: Term }
  /** Step 3, won: the new leader re-replicates; it is stopped at its first commit. */
  | { readonly kind: 'leading'; readonly leader: NodeId; readonly term: Term; readonly commit: Index }
  /** Step 4: it is gone; waiting for the rest (with L2) to elect someone. */
  | { readonly kind: 'awaitOverwrite'; readonly term: Term }
  /** Someone did: it replicates for a moment before the network heals. */
  | { readonly kind: 'dwell' };

export class LeaderChurn {
  private phase: Phase = { kind: 'idle' };
  private episodes = 0;
  /** Bumped at every phase change: a deadline set in an earlier phase is void. */
  private epoch = 0;
  private endMs = 0;
  /** The cluster's power-loss rate, held at 0 during an episode. */
  private powerLossRate = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: Rng,
    private readonly options: ChurnOptions,
  ) {}

  /** While an episode runs, it owns the network: random faults hold off. */
  busy(): boolean {
    return this.phase.kind !== 'idle';
  }

  /** Schedules episodes until virtual time `endMs`. */
  start(endMs: number): void {
    if (this.options.maxEpisodes === 0) return;
    this.endMs = endMs;
    this.cluster.stepObserver = (member, obs) => this.observe(member, obs);
    this.scheduleEpisode();
  }

  private scheduleEpisode(): void {
    if (this.episodes >= this.options.maxEpisodes) return;
    const [lo, hi] = this.options.gapMs;
    this.cluster.queue.after(this.rng.int(lo, hi), () => this.begin());
  }

  private over(): boolean {
    return this.cluster.now >= this.endMs;
  }

  /** Step 1: cut the leader off with a minority, then hand it a burst of writes. */
  private begin(): void {
    if (this.over()) return;
    const leader = this.cluster.leader();
    const voters = leader?.node!.status().confState.voters ?? [];
    if (leader === undefined || voters.length < 3) {
      this.cluster.queue.after(50, () => this.begin()); // no leader to churn yet: look again soon
      return;
    }
    this.episodes++;
    this.powerLossRate = this.cluster.powerLossRate;
    this.cluster.powerLossRate = 0;
    this.restartEveryone();
    const partners = this.shuffled(voters.filter((id) => id !== leader.id)).slice(0, Math.floor((voters.length - 1) / 2) - 1);
    const minority = [leader.id, ...partners].sort();
    this.cut(minority);
    this.cluster.record(`leader churn #${this.episodes}: ${leader.id} keeps its writes to {${minority.join(',')}}`);
    this.burst(leader, this.rng.int(2, 10));
    this.enter({ kind: 'awaitRival', minority, oldTerm: leader.node!.status().term });
  }

  /** The majority side needs every member up to elect L2 without the minority. */
  private restartEveryone(): void {
    for (const id of this.cluster.ids()) {
      if (!this.cluster.removed.has(id)) this.cluster.start(id);
    }
  }

  /**
   * Writes proposed straight to `leader`. Longer payloads fill the size-limited appends
   * sooner, so a follower catches up in more batches, each ending on an old-term entry.
   */
  private burst(leader: Member, count: number): void {
    const pad = '.'.repeat(this.rng.pick([0, 8, 24]));
    for (let i = 1; i <= count; i++) {
      if (this.cluster.propose(leader.id, `churn${this.episodes}.${i}${pad}`) !== undefined) return;
    }
  }

  /** Every step: react to the election (or commit) the current phase waits for. */
  private observe(member: Member, obs: MemberObservation): void {
    const phase = this.phase;
    if (phase.kind === 'idle' || phase.kind === 'dwell' || obs.role !== 'leader') return;
    if (this.over()) {
      this.phase = { kind: 'idle' }; // the liveness phase owns the network now
      return;
    }
    switch (phase.kind) {
      case 'awaitRival':
        if (obs.term > phase.oldTerm && !phase.minority.includes(member.id)) this.isolateRival(member.id, obs.term);
        return;
      case 'awaitReturn':
        if (obs.term > phase.rivalTerm && member.id !== phase.rival) this.watchReturn(member.id, obs);
        return;
      case 'leading':
        if (member.id === phase.leader && obs.log.committed > phase.commit) this.stopReturned();
        return;
      case 'awaitOverwrite':
        if (obs.term > phase.term) this.settle();
        return;
    }
  }

  /** Step 2: L2 won; keep its entries on itself and let everyone else reconnect. */
  private isolateRival(rival: NodeId, rivalTerm: Term): void {
    this.cut([rival]);
    this.cluster.record(`leader churn: ${rival} won term ${rivalTerm}; isolated at once`);
    this.enter({ kind: 'awaitReturn', rival, rivalTerm });
  }

  /** Step 3: someone else won a later term; stop it at its first commit or a little later. */
  private watchReturn(leader: NodeId, obs: MemberObservation): void {
    // A stalled disk leaves the leader's own entries of its term unacknowledged by itself
    // while followers acknowledge them: a quorum then ends on an entry of an older term.
    const stallMs = this.rng.chance(0.75) ? this.rng.int(20, 150) : 0;
    if (stallMs > 0) this.cluster.member(leader).disk.stall(this.cluster.now + stallMs);
    this.cluster.record(`leader churn: ${leader} won term ${obs.term} (commit ${obs.log.committed}); ` +
      `${stallMs > 0 ? `its disk stalls ${stallMs}ms; ` : ''}stopping it soon`);
    const epoch = this.enter({ kind: 'leading', leader, term: obs.term, commit: obs.log.committed });
    this.cluster.queue.after(this.rng.int(1, 300), () => {
      if (epoch === this.epoch) this.stopReturned();
    });
  }

  /**
   * Step 4: the returning leader is cut off with the members its term reached (a cut also
   * eats what it still has in flight), and maybe crashed. L2 rejoins the others.
   */
  private stopReturned(): void {
    const phase = this.phase;
    if (phase.kind !== 'leading' || this.over()) return;
    const { leader, term } = phase;
    const reached = this.reached(leader, term);
    this.cut([leader, ...reached]);
    // A crash that loses the leader's own entries of its term undoes its acknowledgement
    // of them, which nothing else can; otherwise a crash and a cut are both worth trying.
    const lost = !this.durableInTerm(leader, term);
    const crash = (lost || this.rng.chance(0.5)) && this.cluster.mayCrash(leader);
    const needed = lost && !this.majorityWithout(leader, reached);
    if (crash) this.cluster.crash(leader);
    this.cluster.record(`leader churn: ${crash ? 'crashed' : 'cut'} ${leader}; {${reached.join(',')}} cut off with it`);
    const epoch = this.enter({ kind: 'awaitOverwrite', term });
    if (crash && needed) this.rejoinAfterCrash(leader, reached, epoch);
  }

  /**
   * The other members that already hold an entry of the leader's term: they would refuse
   * L2 their votes and could win themselves, so they leave with the leader. Those left
   * with L2 hold at most the older entries it can overwrite.
   */
  private reached(leader: NodeId, term: Term): NodeId[] {
    return this.cluster.upMembers().filter((m) => {
      const log = m.node!.logView();
      return m.id !== leader && (log.term(log.lastIndex) ?? 0) >= term;
    }).map((m) => m.id);
  }

  /** Whether `id`'s disk holds an entry of `term` (or later) for good. */
  private durableInTerm(id: NodeId, term: Term): boolean {
    const { entries, snapshot } = this.cluster.member(id).disk.durableState();
    return (entries.at(-1)?.term ?? snapshot?.metadata.term ?? 0) >= term;
  }

  /** Whether the voters outside `leader` and `reached` still form a majority. */
  private majorityWithout(leader: NodeId, reached: readonly NodeId[]): boolean {
    const voters = this.cluster.member(leader).node!.status().confState.voters;
    const left = voters.filter((id) => id !== leader && !reached.includes(id));
    return 2 * left.length > voters.length;
  }

  /**
   * A leader that lost its term's entries in the crash comes back soon on L2's side when
   * L2 needs its vote (for a log of an older term) to win. Otherwise it stays down and cut
   * off until the episode ends: with its newer log, or its longer one, it would compete.
   */
  private rejoinAfterCrash(leader: NodeId, reached: readonly NodeId[], epoch: number): void {
    this.cluster.queue.after(this.rng.int(5, 100), () => {
      if (this.over() || this.phase.kind === 'idle') return;
      if (epoch === this.epoch) this.cut(reached);
      this.cluster.start(leader);
    });
  }

  /** Someone on L2's side won: give it a moment to replicate, then heal. */
  private settle(): void {
    const epoch = this.enter({ kind: 'dwell' });
    this.cluster.queue.after(this.rng.int(20, 200), () => {
      if (epoch === this.epoch) this.end('done');
    });
  }

  private end(why: string): void {
    this.phase = { kind: 'idle' };
    this.epoch++;
    if (this.over()) return; // the liveness phase heals and restarts on its own terms
    this.cluster.powerLossRate = this.powerLossRate;
    this.cluster.network.heal();
    this.restartEveryone();
    this.cluster.record(`leader churn #${this.episodes} ends (${why}); network healed, everyone up`);
    this.scheduleEpisode();
  }

  /** Moves to `phase` with a fresh deadline; returns the new epoch. */
  private enter(phase: Phase): number {
    this.phase = phase;
    const epoch = ++this.epoch;
    this.cluster.queue.after(this.options.phaseTimeoutMs, () => {
      if (epoch === this.epoch) this.end(`timed out waiting in ${phase.kind}`);
    });
    return epoch;
  }

  /** Heals, then cuts `side` off from every other member. */
  private cut(side: readonly NodeId[]): void {
    const rest = this.cluster.ids().filter((id) => !side.includes(id) && !this.cluster.member(id).retired);
    this.cluster.network.heal();
    this.cluster.network.partition(side, rest);
  }

  private shuffled(ids: readonly NodeId[]): NodeId[] {
    const out = [...ids];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
