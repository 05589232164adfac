// Reconcile logs a node's state changes, not every pass: a master that stays down (its error text
// changing from pass to pass: the health check's down-for time, a reconnecting link) is logged
// once when it starts failing and once when it answers again.
import { describe, expect, it } from 'vitest';
import { type Group, type Slot, encodeEpoch, slotTable } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import type { CoordStore } from '../../../common/store/coord-store.js';
import { epochKey } from '../../../common/store/keys.js';
import type { LeaderView } from '../../../dashboard/coordinator/leadership.js';
import type { NodeApi, NodeOwnership } from '../../../dashboard/coordinator/node-client.js';
import { type ClusterState, Reconciler } from '../../../dashboard/coordinator/reconcile.js';

const A = '127.0.0.1:7001';
const PRODUCT = 'relog';
const EPOCH = 5;

/** One master owning every slot at the store's epoch, or failing with `error` when set. */
class FlakyNode {
  error: string | null = null;
  async ownership(): Promise<NodeOwnership> {
    if (this.error !== null) throw new Error(this.error);
    return { epoch: EPOCH, confirmed: true, ranges: [{ start: 0, end: SLOT_COUNT - 1, state: 'owned', peer: null }] };
  }
  async setSlots(): Promise<void> { throw new Error('the node agrees: nothing to set'); }
  async confirm(): Promise<void> {}
  async migrateSlot(): Promise<never> { throw new Error('unused'); }
  async slotStats(): Promise<never> { throw new Error('unused'); }
  async close(): Promise<void> {}
}

function state(): ClusterState {
  const groups: Group[] = [{ id: 1, servers: [{ addr: A, role: 'master' }] }];
  const slots: Slot[] = Array.from({ length: SLOT_COUNT }, (_, id) => ({ id, state: { kind: 'online', group: 1 } }));
  const epochEntry = { key: epochKey(PRODUCT), value: encodeEpoch(EPOCH), revision: '9', createRevision: '1' };
  return { slots, groups: new Map(groups.map((g) => [g.id, g])), table: slotTable(slots, groups), epoch: EPOCH, epochEntry, revision: '9' };
}

describe('reconcile log of a failing node', () => {
  it('logs going down once and coming back once, whatever the error says meanwhile', async () => {
    const st = state();
    const node = new FlakyNode();
    const lines: string[] = [];
    const store = { get: async () => st.epochEntry } as unknown as CoordStore;
    const leader = { fence: () => { throw new Error('no raise expected'); }, stillLeader: async () => true } as unknown as LeaderView;
    const r = new Reconciler(store, PRODUCT, leader, node as unknown as NodeApi, (msg) => lines.push(msg));
    let downFor = 0;
    const pass = async () => (await r.reconcileAll(st)).failed.map((f) => f.addr);

    expect(await pass()).toEqual([]);
    // Down, as the health check sees it: the reason carries a growing duration.
    r.skipNode = () => (downFor > 0 ? `down for ${downFor} ms (health check); not asked` : null);
    for (downFor = 600; downFor <= 5600; downFor += 1000) expect(await pass()).toEqual([A]);
    // Still down, now asked (the health check lags): the link's own error, alternating.
    downFor = 0;
    for (const error of [`${A} is not connected (reconnecting): connect ECONNREFUSED ${A}`, `${A} is not reachable (connection closed): connect ECONNREFUSED ${A}`, `${A} did not answer TESSERA.SLOTS GET within 1000 ms`]) {
      node.error = error;
      expect(await pass()).toEqual([A]);
    }
    expect(lines).toEqual([`reconcile: node ${A}: down for 600 ms (health check); not asked (retried every second)`]);

    node.error = null;
    expect(await pass()).toEqual([]);
    expect(await pass()).toEqual([]);
    expect(lines.slice(1)).toEqual([`reconcile: node ${A} answers again`]);

    // Down again: a new state change, logged again (once).
    node.error = `${A} is not connected (reconnecting): connect ECONNREFUSED ${A}`;
    for (let i = 0; i < 3; i++) expect(await pass()).toEqual([A]);
    expect(lines.slice(2)).toEqual([`reconcile: node ${A}: ${node.error} (retried every second)`]);
  });
});
