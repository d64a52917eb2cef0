// End to end: RawNodes talking only through PeerTransports on loopback elect a leader,
// replicate and commit, and a member added after every log was compacted catches up from a
// snapshot streamed by the transport (onSnapshotStatus feeding rawNode.reportSnapshot).
// This is also the check that the decoder's rules accept all the traffic Raft really makes.
import t from 'tap';
import type { Test } from 'tap';
import { EMPTY_HARD_STATE, RawNode, seededRandom } from '../../core/raft/index.js';
import type { Message } from '../../core/raft/index.js';
import { HOST, startMember, waitFor } from './helpers.js';
import type { Member } from './helpers.js';

const TICK_MS = 10;
const text = new TextEncoder();
const fromText = new TextDecoder();

/** A member process in miniature: Raft in memory, state machine = the applied payloads. */
class Node {
  applied: string[] = [];
  snapshotsReceived = 0;
  snapshotReports: boolean[] = [];
  member!: Member;

  constructor(readonly id: string, readonly raw: RawNode) {}

  /** The Ready loop of docs/raft-api.md, with an in-memory (always durable) store. */
  process(): void {
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      this.member.transport.send(rd.messages);
      this.member.transport.send(rd.messagesAfterPersist);
      if (rd.snapshot !== undefined) this.applied = JSON.parse(fromText.decode(rd.snapshot.data)) as string[];
      for (const e of rd.committedEntries) {
        if (e.type === 'normal' && e.data.byteLength > 0) this.applied.push(fromText.decode(e.data));
      }
      this.raw.advance(rd);
    }
  }

  receive(messages: Message[]): void {
    for (const m of messages) {
      if (m.type === 'snapshot') this.snapshotsReceived++;
      this.raw.step(m);
    }
    this.process();
  }
}

async function startNode(t: Test, id: string, raw: RawNode): Promise<Node> {
  const node = new Node(id, raw);
  node.member = await startMember(t, id, {
    reconnectMinMs: 10,
    reconnectMaxMs: 200,
    snapshotChunkBytes: 4096,
  });
  // startMember records callbacks; route them into Raft as the member process will.
  const inbox = node.member.inbox;
  const deliver = setInterval(() => {
    if (inbox.length > 0) node.receive(inbox.splice(0));
    for (const peer of node.member.unreachable.splice(0)) raw.reportUnreachable(peer);
    for (const s of node.member.snapshotStatus.splice(0)) {
      node.snapshotReports.push(s.ok);
      raw.reportSnapshot(s.id, s.ok);
    }
  }, 1);
  const ticker = setInterval(() => {
    raw.tick();
    node.process();
  }, TICK_MS);
  t.teardown(() => {
    clearInterval(deliver);
    clearInterval(ticker);
  });
  return node;
}

function leaderOf(nodes: readonly Node[]): Node | undefined {
  return nodes.find((n) => n.raw.status().role === 'leader');
}

t.test('three members elect, replicate and commit over the transport; a late member catches up by snapshot', async (t) => {
  const ids = ['a', 'b', 'c'];
  const nodes: Node[] = [];
  for (const [i, id] of ids.entries()) {
    nodes.push(await startNode(t, id, RawNode.bootstrap({ id, random: seededRandom(i + 1), electionTicks: 10 }, ids)));
  }
  for (const x of nodes) for (const y of nodes) if (x !== y) x.member.transport.addPeer(y.id, y.member.url);

  await waitFor('a leader', () => leaderOf(nodes) !== undefined, 10_000);
  const payloads = Array.from({ length: 60 }, (_, i) => `entry-${i}-${'x'.repeat(i * 10)}`);
  const leader = leaderOf(nodes)!;
  const refused = payloads.map((p) => leader.raw.propose(text.encode(p))).filter((e) => e !== undefined);
  t.same(refused, [], `the leader ${leader.id} accepted 60 proposals`);
  await waitFor('every member applied all 60', () => nodes.every((n) => n.applied.length === 60), 10_000);
  for (const n of nodes) t.same(n.applied, payloads, `${n.id} applied the same entries in order`);

  // Everyone compacts: a member joining now can only be brought up to date by a snapshot.
  for (const n of nodes) {
    t.equal(n.raw.compact(n.raw.status().applied, text.encode(JSON.stringify(n.applied))), undefined, `${n.id} compacts`);
  }
  const d = await startNode(t, 'd', RawNode.restart({ id: 'd', random: seededRandom(9), electionTicks: 10 }, { hardState: EMPTY_HARD_STATE, entries: [] }));
  for (const n of nodes) {
    n.member.transport.addPeer('d', d.member.url);
    d.member.transport.addPeer(n.id, n.member.url);
  }
  t.equal(leaderOf(nodes)?.raw.proposeConfChange({ type: 'addLearner', nodeId: 'd' }), undefined, 'add d as a learner');
  const more = ['after-1', 'after-2', 'after-3'];
  await waitFor('d installed the snapshot', () => d.snapshotsReceived > 0, 10_000);
  for (const p of more) leaderOf(nodes)?.raw.propose(text.encode(p));
  await waitFor('d applied everything', () => d.applied.length === 63, 10_000);
  t.same(d.applied, [...payloads, ...more], 'd has the snapshot state and the later entries');
  t.ok(nodes.some((n) => n.snapshotReports.includes(true)), 'the leader heard onSnapshotStatus(d, true)');
  t.ok(d.member.url.startsWith(`http://${HOST}:`), 'all on loopback');
});
