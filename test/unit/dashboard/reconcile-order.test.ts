// Reconcile tells the node that GAINS a slot (comes to own or import it) before the node that
// loses it, so the loser's -MOVED/-ASK never points at a node that does not serve the slot yet
// (the proxy would bounce between the two). gains() decides who is first.
import { describe, expect, it } from 'vitest';
import { type Group, type Slot, type SlotState, encodeEpoch, slotTable } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import type { CoordStore } from '../../../common/store/coord-store.js';
import { epochKey } from '../../../common/store/keys.js';
import type { LeaderView } from '../../../dashboard/coordinator/leadership.js';
import type { NodeApi, NodeOwnership, NodeSlotRange } from '../../../dashboard/coordinator/node-client.js';
import { type ClusterState, Reconciler, gains } from '../../../dashboard/coordinator/reconcile.js';

const A = '127.0.0.1:7001';
const B = '127.0.0.1:7002';
const PRODUCT = 'order';

/** Nodes whose SET takes a while (the loser's would overtake if both were told in parallel). */
class SlowNodes {
  readonly events: string[] = [];
  constructor(private readonly have: Map<string, NodeOwnership>, private readonly delay: Map<string, number>) {}
  async ownership(addr: string): Promise<NodeOwnership> { return this.have.get(addr)!; }
  async setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void> {
    this.events.push(`start ${addr}`);
    await new Promise((r) => setTimeout(r, this.delay.get(addr) ?? 0));
    this.have.set(addr, { epoch, confirmed: true, ranges: [...ranges] });
    this.events.push(`end ${addr}`);
  }
  async confirm(): Promise<void> {}
  async migrateSlot(): Promise<never> { throw new Error('unused'); }
  async slotStats(): Promise<never> { throw new Error('unused'); }
  async close(): Promise<void> {}
}

const groups: Group[] = [{ id: 1, servers: [{ addr: A, role: 'master' }] }, { id: 2, servers: [{ addr: B, role: 'master' }] }];

function state(slot0: SlotState, epoch: number): ClusterState {
  const slots: Slot[] = Array.from({ length: SLOT_COUNT }, (_, id) => ({ id, state: id === 0 ? slot0 : { kind: 'online', group: id < 512 ? 1 : 2 } }));
  const epochEntry = { key: epochKey(PRODUCT), value: encodeEpoch(epoch), revision: String(epoch), createRevision: '1' };
  return { slots, groups: new Map(groups.map((g) => [g.id, g])), table: slotTable(slots, groups), epoch, epochEntry, revision: String(epoch) };
}

/** The ranges a node has for "slot 0 in `s0`, the rest as at the start (0-511 on A)". */
function ranges(s0: NodeSlotRange['state'], peer: string | null, rest: 'A' | 'B'): NodeSlotRange[] {
  const mine = rest === 'A' ? { start: 1, end: 511, state: 'owned' as const, peer: null } : { start: 1, end: 511, state: 'none' as const, peer: A };
  const theirs = rest === 'A' ? { start: 512, end: SLOT_COUNT - 1, state: 'none' as const, peer: B } : { start: 512, end: SLOT_COUNT - 1, state: 'owned' as const, peer: null };
  return [{ start: 0, end: 0, state: s0, peer }, mine, theirs];
}

function reconciler(nodes: SlowNodes, st: ClusterState): Reconciler {
  const store = { get: async () => st.epochEntry } as unknown as CoordStore;
  const leader = { fence: () => { throw new Error('no raise expected'); }, stillLeader: async () => true } as unknown as LeaderView;
  return new Reconciler(store, PRODUCT, leader, nodes as unknown as NodeApi, () => {});
}

describe('reconcile order: the gainer is told first', () => {
  it('finish: the target (importing → owned) is told and done before the source gives the slot up', async () => {
    const have = new Map([[A, { epoch: 5, confirmed: true, ranges: ranges('migrating', B, 'A') }], [B, { epoch: 5, confirmed: true, ranges: ranges('importing', A, 'B') }]]);
    // The target is the slow one: told in parallel, the source would be done first.
    const nodes = new SlowNodes(have, new Map([[B, 30], [A, 0]]));
    const st = state({ kind: 'online', group: 2 }, 6);
    const rep = await reconciler(nodes, st).reconcileAll(st, true);
    expect(rep.failed).toEqual([]);
    expect(nodes.events).toEqual([`start ${B}`, `end ${B}`, `start ${A}`, `end ${A}`]);
    expect(have.get(B)!.ranges.find((r) => r.start === 0)).toMatchObject({ state: 'owned' });
    expect(have.get(A)!.ranges.find((r) => r.start === 0)).toMatchObject({ state: 'none', peer: B });
  });

  it('start moving: the target (none → importing) is told before the source (owned → migrating)', async () => {
    const have = new Map([[A, { epoch: 5, confirmed: true, ranges: ranges('owned', null, 'A') }], [B, { epoch: 5, confirmed: true, ranges: ranges('none', A, 'B') }]]);
    const nodes = new SlowNodes(have, new Map([[B, 30], [A, 0]]));
    const st = state({ kind: 'migrating', from: 1, to: 2 }, 6);
    await reconciler(nodes, st).reconcileAll(st, true);
    expect(nodes.events).toEqual([`start ${B}`, `end ${B}`, `start ${A}`, `end ${A}`]);
  });

  it('gains(): owned or importing where the node served less; giving up or keeping is not a gain', () => {
    const r = (state: NodeSlotRange['state']): NodeSlotRange[] => [{ start: 0, end: 0, state, peer: state === 'owned' ? null : B }];
    expect(gains(r('importing'), r('owned'))).toBe(true);
    expect(gains(r('none'), r('importing'))).toBe(true);
    expect(gains(r('none'), r('owned'))).toBe(true);
    expect(gains(r('migrating'), r('importing'))).toBe(true); // a cancel: the source imports its keys back
    expect(gains(r('migrating'), r('none'))).toBe(false);
    expect(gains(r('owned'), r('migrating'))).toBe(false);
    expect(gains(r('importing'), r('migrating'))).toBe(false);
    expect(gains(r('owned'), r('owned'))).toBe(false);
  });
});
