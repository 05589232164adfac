// The router over a table built with the model's slotTable(): online and migrating slots go to
// the right master, reads go to a replica only for a settled online slot, a -MOVED override wins
// until the table is applied again, and the error texts say why a slot has no master.
import { describe, expect, it } from 'vitest';
import { type Group, type Slot, type SlotRoute, slotTable } from '../../../common/model.js';
import { Router, type RouteSource, type SlotMode } from '../../../proxy/router.js';

const groups: Group[] = [
  { id: 1, servers: [{ addr: 'm1', role: 'master' }, { addr: 'r1a', role: 'replica' }, { addr: 'r1b', role: 'replica' }] },
  { id: 2, servers: [{ addr: 'm2', role: 'master' }, { addr: 'r2', role: 'replica' }] },
  { id: 3, servers: [{ addr: 'r3', role: 'replica' }] },
];
const slots: Slot[] = [
  { id: 0, state: { kind: 'online', group: 1 } },
  { id: 1, state: { kind: 'migrating', from: 1, to: 2 } },
  { id: 2, state: { kind: 'online', group: 3 } },
  { id: 3, state: { kind: 'migrating', from: 3, to: 1 } },
];

/** A source like the Topology: a table and the -MOVED overrides it clears per revision. */
class Source implements RouteSource {
  routes: SlotRoute[] = slotTable(slots, groups);
  readonly groups = new Map(groups.map((g) => [g.id, g]));
  readonly moved = new Map<number, string>();
  readonly slotModes = new Map<string, SlotMode>();
  setSlotMode(addr: string, mode: SlotMode | null): void {
    if (mode === null) this.slotModes.delete(addr);
    else this.slotModes.set(addr, mode);
  }
  noteMoved(slot: number, addr: string): void {
    this.moved.set(slot, addr);
  }
  apply(): void {
    this.routes = slotTable(slots, groups);
    this.moved.clear();
  }
}

describe('Router', () => {
  it('online → the group master; migrating → the source master; unassigned → null with a reason', () => {
    const r = new Router(new Source(), { readFromReplica: 'never' }, 1);
    expect(r.master(0)).toBe('m1');
    expect(r.master(1)).toBe('m1');
    expect(r.unsettled(1)).toBe(true);
    expect(r.unsettled(0)).toBe(false);
    expect(r.master(2)).toBeNull();
    expect(r.routeError(2)).toBe('ERR group 3 has no master');
    expect(r.master(3)).toBeNull();
    expect(r.routeError(3)).toBe('ERR group 3 has no master');
    expect(r.master(9)).toBeNull();
    expect(r.routeError(9)).toBe('ERR slot 9 is not assigned to any group');
    expect(r.masters()).toEqual(['m1', 'm2']);
  });

  it('reads go to a replica (fixed per client) only with prefer, and never for a migrating slot', () => {
    const cfg: { readFromReplica: 'never' | 'prefer' } = { readFromReplica: 'never' };
    const r0 = new Router(new Source(), cfg, 0);
    const r1 = new Router(new Source(), cfg, 1);
    expect(r0.forRead(0)).toBe('m1');
    cfg.readFromReplica = 'prefer'; // read per call, as CONFIG SET changes it
    expect(r0.forRead(0)).toBe('r1a');
    expect(r1.forRead(0)).toBe('r1b');
    expect(r1.forRead(0)).toBe('r1b');
    expect(r0.forRead(1)).toBe('m1'); // migrating: the source master, whose answers redirect
    expect(r0.forRead(9)).toBeNull();
  });

  it('a -MOVED override wins for its slot (reads included) until the table is applied again', () => {
    const src = new Source();
    const r = new Router(src, { readFromReplica: 'prefer' }, 0);
    r.moved(0, 'm2');
    expect(r.master(0)).toBe('m2');
    expect(r.forRead(0)).toBe('m2'); // the table is known stale for it: no replica of the old group
    expect(r.unsettled(0)).toBe(true);
    expect(r.master(4)).toBeNull();
    src.apply();
    expect(r.master(0)).toBe('m1');
    expect(r.forRead(0)).toBe('r1a');
  });

  it('splits per slot for a backend until it is known to take several slots; asks each backend once', () => {
    const r = new Router(new Source(), { readFromReplica: 'never' }, 0);
    expect(r.perSlot('m1')).toBe(true); // not known: the safe answer
    expect(r.needsProbe('m1')).toBe(true);
    expect(r.needsProbe('m1')).toBe(false); // being asked
    expect(r.perSlot('m1')).toBe(true);
    r.learnSlotMode('m1', 'any');
    expect(r.perSlot('m1')).toBe(false);
    r.learnSlotMode('m1', 'one'); // a -CROSSSLOT later (restarted in cluster mode)
    expect(r.perSlot('m1')).toBe(true);
    expect(r.needsProbe('m2')).toBe(true);
    r.learnSlotMode('m2', null); // the probe failed: asked again next time
    expect(r.needsProbe('m2')).toBe(true);
  });
});
