import { describe, expect, it } from 'vitest';
import {
  assignEvenly, encodeGroup, encodeMigration, encodeProduct, encodeProxyInfo, encodeSlot, masterOf, onlineRanges,
  parseGroup, parseMigration, parseProduct, parseProxyInfo, parseSlot, slotTable, type Group, type Slot,
} from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';

const group1: Group = { id: 1, servers: [{ addr: '127.0.0.1:7001', role: 'master' }, { addr: '127.0.0.1:7002', role: 'replica' }] };
const group2: Group = { id: 2, servers: [{ addr: '10.0.0.2:7001', role: 'master' }] };

describe('model JSON', () => {
  it('round-trips every record with a schema version', () => {
    const product = { name: 'shop', createdAt: '2026-11-25T00:00:00.000Z' };
    expect(JSON.parse(encodeProduct(product)).schema).toBe(1);
    expect(parseProduct(encodeProduct(product))).toEqual(product);
    expect(parseGroup(encodeGroup(group1))).toEqual(group1);
    for (const state of [{ kind: 'unassigned' }, { kind: 'online', group: 3 }, { kind: 'migrating', from: 1, to: 2 }] as const) {
      expect(parseSlot(encodeSlot({ id: 1023, state }))).toEqual({ id: 1023, state });
    }
    const proxy = { id: 'p-1', listen: '127.0.0.1:19000', admin: '127.0.0.1:11080', version: '0.1.0', tableRevision: '42', pid: 1234, startedAt: 'now' };
    expect(parseProxyInfo(encodeProxyInfo(proxy))).toEqual(proxy);
    const migration = { slot: 5, from: 1, to: 2, phase: 'pending' as const, createdAt: 'a', updatedAt: 'b' };
    expect(parseMigration(encodeMigration(migration))).toEqual(migration);
    expect(parseMigration(encodeMigration({ ...migration, error: 'boom' })).error).toBe('boom');
  });

  it('accepts a newer schema and ignores unknown fields (changes are additive)', () => {
    const text = JSON.stringify({ schema: 2, id: 1, servers: [], weight: 5 });
    expect(parseGroup(text)).toEqual({ id: 1, servers: [] });
  });

  it('rejects bad documents with a message naming the problem', () => {
    expect(() => parseGroup('{')).toThrow(/invalid group: not JSON/);
    expect(() => parseGroup(JSON.stringify({ id: 1, servers: [] }))).toThrow(/schema must be an integer/);
    expect(() => parseGroup(encodeRaw({ id: 0, servers: [] }))).toThrow(/id must be an integer 1\.\.9999, got 0/);
    expect(() => parseGroup(encodeRaw({ id: 4, servers: [{ addr: 'nohost', role: 'master' }] }))).toThrow(/group 4: servers\[0\]\.addr must be host:port/);
    expect(() => parseGroup(encodeRaw({ id: 4, servers: [{ addr: 'h:1', role: 'boss' }] }))).toThrow(/role must be one of master, replica/);
    expect(() => parseGroup(encodeRaw({ id: 4, servers: [{ addr: 'h:1', role: 'master' }, { addr: 'h:2', role: 'master' }] }))).toThrow(/more than one master/);
    expect(() => parseGroup(encodeRaw({ id: 4, servers: [{ addr: 'h:1', role: 'master' }, { addr: 'h:1', role: 'replica' }] }))).toThrow(/listed twice/);
    expect(() => parseSlot(encodeRaw({ id: SLOT_COUNT, state: { kind: 'unassigned' } }))).toThrow(/id must be an integer 0\.\.1023/);
    expect(() => parseSlot(encodeRaw({ id: 7, state: { kind: 'migrating', from: 2, to: 2 } }))).toThrow(/slot 7: migrating from group 2 to itself/);
    expect(() => parseSlot(encodeRaw({ id: 7, state: { kind: 'gone' } }))).toThrow(/state\.kind must be one of/);
    expect(() => parseProduct(encodeRaw({ name: 'a/b', createdAt: 'x' }))).toThrow(/name must be 1-64 of/);
    expect(() => parseProxyInfo(encodeRaw({ id: 'p', listen: 'h:1', admin: 'h:2', version: 'v', tableRevision: 3, pid: 1, startedAt: 'x' }))).toThrow(/tableRevision must be a decimal revision string/);
    expect(() => parseProxyInfo(encodeRaw({ id: 'p', listen: 'h:70000', admin: 'h:2', version: 'v', tableRevision: '3', pid: 1, startedAt: 'x' }))).toThrow(/listen must be host:port/);
    expect(() => encodeGroup({ id: 1, servers: [{ addr: 'bad', role: 'master' }] })).toThrow(/host:port/);
  });
});

function encodeRaw(value: object): string {
  return JSON.stringify({ schema: 1, ...value });
}

describe('model derivations', () => {
  it('finds a group master', () => {
    expect(masterOf(group1)).toBe('127.0.0.1:7001');
    expect(masterOf({ id: 3, servers: [{ addr: 'h:1', role: 'replica' }] })).toBeNull();
  });

  it('builds a routing table over all slots', () => {
    const slots: Slot[] = [
      { id: 0, state: { kind: 'online', group: 1 } },
      { id: 1, state: { kind: 'migrating', from: 1, to: 2 } },
      { id: 2, state: { kind: 'online', group: 9 } },
    ];
    const table = slotTable(slots, [group1, group2]);
    expect(table).toHaveLength(SLOT_COUNT);
    expect(table[0]).toEqual({ kind: 'online', group: 1, master: '127.0.0.1:7001' });
    expect(table[1]).toEqual({ kind: 'migrating', from: 1, to: 2, fromMaster: '127.0.0.1:7001', toMaster: '10.0.0.2:7001' });
    expect(table[2]).toEqual({ kind: 'online', group: 9, master: null });
    expect(table[3]).toEqual({ kind: 'unassigned' });
  });

  it('assigns slots evenly in contiguous ranges', () => {
    expect(assignEvenly([1])).toEqual([{ from: 0, to: 1023, group: 1 }]);
    const ranges = assignEvenly([3, 1, 2, 3]);
    expect(ranges).toEqual([{ from: 0, to: 341, group: 1 }, { from: 342, to: 682, group: 2 }, { from: 683, to: 1023, group: 3 }]);
    expect(() => assignEvenly([])).toThrow(/no groups/);
  });

  it('collapses online slots into ranges', () => {
    const slots: Slot[] = [];
    for (const r of assignEvenly([1, 2])) for (let id = r.from; id <= r.to; id++) slots.push({ id, state: { kind: 'online', group: r.group } });
    slots[600] = { id: 600, state: { kind: 'migrating', from: 2, to: 1 } };
    expect(onlineRanges(slots.reverse())).toEqual([
      { from: 0, to: 511, group: 1 }, { from: 512, to: 599, group: 2 }, { from: 601, to: 1023, group: 2 },
    ]);
  });
});
