// The coordinator's state after its own txn (stateAfterTxn, dashboard/coordinator/cluster-state.ts)
// equals the state built whole from the store's entries (stateOf), over generated txns of slot,
// group and epoch writes (fast-check); it never changes the state it started from (readers share
// it); and where only a rebuild is exact (a delete, a slot under another key) it says so (null).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Group, type SlotState, encodeEpoch, encodeGroup, encodeSlot } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import type { StoreEntry, TxnOp } from '../../../common/store/coord-store.js';
import { FileStore } from '../../../common/store/file-store.js';
import { epochKey, groupKey, groupsPrefix, migrationKey, slotKey, slotsPrefix } from '../../../common/store/keys.js';
import { type ClusterState, StateCachingStore, readClusterState, stateAfterTxn, stateOf } from '../../../dashboard/coordinator/cluster-state.js';

const PRODUCT = 'inc';

const slotState: fc.Arbitrary<SlotState> = fc.oneof(
  fc.constant({ kind: 'unassigned' as const }),
  fc.integer({ min: 1, max: 4 }).map((group) => ({ kind: 'online' as const, group })),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).map(([from, d]) => ({ kind: 'migrating' as const, from, to: 1 + ((from - 1 + d) % 4) })),
);

/** A group with a master, or (mid-failover) without one. */
const group = (id: number): fc.Arbitrary<Group> => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()).map(([p, master]) => {
  const port = 7000 + id * 10 + p;
  return { id, servers: master ? [{ addr: `127.0.0.1:${port}`, role: 'master' }, { addr: `127.0.0.1:${port + 5}`, role: 'replica' }] : [{ addr: `127.0.0.1:${port}`, role: 'replica' }] };
});

/** One op a coordinator's txn might hold: slot entries (some of slots not in the store yet), groups, the epoch, other keys. */
const op: fc.Arbitrary<TxnOp> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: SLOT_COUNT - 1 }), slotState).map(([id, state]): TxnOp => ({ op: 'put', key: slotKey(PRODUCT, id), value: encodeSlot({ id, state }) })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: SLOT_COUNT - 1 }).map((id): TxnOp => ({ op: 'put', key: migrationKey(PRODUCT, id), value: '{"not":"state"}' })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).chain((id) => group(id)).map((g): TxnOp => ({ op: 'put', key: groupKey(PRODUCT, g.id), value: encodeGroup(g) })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1000 }).map((e): TxnOp => ({ op: 'put', key: epochKey(PRODUCT), value: encodeEpoch(e) })) },
  { weight: 1, arbitrary: fc.constant<TxnOp>({ op: 'delete', key: epochKey(PRODUCT) }) },
  { weight: 1, arbitrary: fc.constant<TxnOp>({ op: 'put', key: `${slotsPrefix(PRODUCT)}notes`, value: 'not a slot' }) },
);

/** Txns of a few ops, now and then one of a step's size. */
const txn = fc.oneof({ weight: 4, arbitrary: fc.array(op, { minLength: 1, maxLength: 8 }) }, { weight: 1, arbitrary: fc.array(op, { minLength: 50, maxLength: 130 }) });

/** What the store holds after `ops` at `revision` (as etcd: one mod revision per txn, create revision kept). */
function applyToEntries(entries: Map<string, StoreEntry>, ops: readonly TxnOp[], revision: string): void {
  for (const op of ops) {
    if (op.op === 'delete') entries.delete(op.key);
    else entries.set(op.key, { key: op.key, value: op.value, revision, createRevision: entries.get(op.key)?.createRevision ?? revision });
  }
}

/** The entries of the cluster state (what readFromStore keeps): slots, groups, the epoch. */
function stateEntries(all: Map<string, StoreEntry>): Map<string, StoreEntry> {
  const out = new Map<string, StoreEntry>();
  for (const [k, e] of all) {
    if (k.startsWith(slotsPrefix(PRODUCT)) || k.startsWith(groupsPrefix(PRODUCT)) || k === epochKey(PRODUCT)) out.set(k, e);
  }
  return out;
}

/** Plain data of a state, for deep comparison (groups in id order). */
function plain(st: ClusterState): unknown {
  return { ...st, groups: [...st.groups].sort(([a], [b]) => a - b) };
}

/** Deep equality of two states: as JSON first (fast), with toEqual's diff where that differs. */
function expectSame(a: ClusterState, b: ClusterState, what: string): void {
  if (JSON.stringify(plain(a)) !== JSON.stringify(plain(b))) expect(plain(a), what).toEqual(plain(b));
}

/** The store before the txns: three groups, every slot but every seventh (those come with later txns), epoch 1. */
function seeded(): Map<string, StoreEntry> {
  const entries = new Map<string, StoreEntry>();
  const ops: TxnOp[] = [];
  for (let g = 1; g <= 3; g++) ops.push({ op: 'put', key: groupKey(PRODUCT, g), value: encodeGroup({ id: g, servers: [{ addr: `127.0.0.1:${7000 + g}`, role: 'master' }] }) });
  for (let s = 0; s < SLOT_COUNT; s++) if (s % 7 !== 3) ops.push({ op: 'put', key: slotKey(PRODUCT, s), value: encodeSlot({ id: s, state: { kind: 'online', group: 1 + (s % 3) } }) });
  ops.push({ op: 'put', key: epochKey(PRODUCT), value: encodeEpoch(1) });
  applyToEntries(entries, ops, '5');
  return entries;
}

describe('stateAfterTxn', () => {
  it('equals the state built whole, txn after txn, and leaves the state it started from as it was', () => {
    fc.assert(fc.property(fc.array(txn, { minLength: 1, maxLength: 25 }), (txns) => {
      const entries = seeded();
      let st = stateOf(PRODUCT, stateEntries(entries));
      txns.forEach((ops, i) => {
        const revision = String(10 + i * 3);
        const before = JSON.stringify(plain(st));
        const next = stateAfterTxn(PRODUCT, st, ops, revision);
        applyToEntries(entries, ops, revision);
        expect(next, `txn ${i}`).not.toBeNull();
        expectSame(next!, stateOf(PRODUCT, stateEntries(entries)), `txn ${i}`);
        expect(JSON.stringify(plain(st)) === before, `txn ${i}: the old state is shared by readers`).toBe(true);
        st = next!;
      });
    }), { numRuns: 60 });
  });

  it('keeps what a txn did not change (the same objects), and the revision of an epoch-only txn', () => {
    const st = stateOf(PRODUCT, stateEntries(seeded()));
    const epochOnly = stateAfterTxn(PRODUCT, st, [{ op: 'put', key: epochKey(PRODUCT), value: encodeEpoch(7) }], '50')!;
    expect(epochOnly.epoch).toBe(7);
    expect(epochOnly.revision).toBe(st.revision);
    expect(epochOnly.slots).toBe(st.slots);
    expect(epochOnly.table).toBe(st.table);
    expect(epochOnly.groups).toBe(st.groups);
    const oneSlot = stateAfterTxn(PRODUCT, st, [{ op: 'put', key: slotKey(PRODUCT, 4), value: encodeSlot({ id: 4, state: { kind: 'migrating', from: 1, to: 2 } }) }], '51')!;
    expect(oneSlot.revision).toBe('51');
    expect(oneSlot.groups).toBe(st.groups);
    expect(oneSlot.table[5]).toBe(st.table[5]);
    expect(oneSlot.table[4]).toMatchObject({ kind: 'migrating', from: 1, to: 2, fromMaster: '127.0.0.1:7001', toMaster: '127.0.0.1:7002' });
    expect(st.table[4]).toMatchObject({ kind: 'online' });
    // A slot the store did not hold yet goes in its place by id.
    const added = stateAfterTxn(PRODUCT, oneSlot, [{ op: 'put', key: slotKey(PRODUCT, 3), value: encodeSlot({ id: 3, state: { kind: 'online', group: 2 } }) }], '52')!;
    expect(added.slots.length).toBe(st.slots.length + 1);
    expect(added.slots.map((x) => x.id).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(added.table[3]).toMatchObject({ kind: 'online', group: 2, master: '127.0.0.1:7002' });
  });

  it('asks for a rebuild where only one is exact: a slot or group deleted, a slot under another key', () => {
    const st = stateOf(PRODUCT, stateEntries(seeded()));
    expect(stateAfterTxn(PRODUCT, st, [{ op: 'delete', key: slotKey(PRODUCT, 2) }], '60')).toBeNull();
    expect(stateAfterTxn(PRODUCT, st, [{ op: 'delete', key: groupKey(PRODUCT, 2) }], '61')).toBeNull();
    expect(stateAfterTxn(PRODUCT, st, [{ op: 'put', key: slotKey(PRODUCT, 2), value: encodeSlot({ id: 9, state: { kind: 'unassigned' } }) }], '62')).toBeNull();
    expect(() => stateAfterTxn(PRODUCT, st, [{ op: 'put', key: slotKey(PRODUCT, 2), value: 'not json' }], '63')).toThrow(/invalid slot/);
  });
});

it('the caching store applies its own txns to the state: what it serves is what the store holds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-cluster-state-inc-'));
  const other = await FileStore.open(dir);
  const cached = new StateCachingStore(await FileStore.open(dir), PRODUCT);
  try {
    await other.txn([], [...seeded().values()].map((e): TxnOp => ({ op: 'put', key: e.key, value: e.value })));
    await readClusterState(cached, PRODUCT);
    const reads = cached.stats.reads;
    const txns = fc.sample(txn, { numRuns: 40 });
    for (let i = 0; i < txns.length; i++) {
      await cached.txn([], txns[i]!);
      const st = await readClusterState(cached, PRODUCT);
      const direct = await readClusterState(other, PRODUCT);
      expectSame(st, direct, `txn ${i}`);
    }
    expect(cached.stats.reads).toBe(reads); // every txn applied, none read again
    await cached.txn([], [{ op: 'delete', key: slotKey(PRODUCT, 5) }]);
    const st = await readClusterState(cached, PRODUCT);
    expect(cached.stats.reads).toBe(reads + 1); // a delete: read again
    expectSame(st, await readClusterState(other, PRODUCT), 'after the delete');
  } finally {
    await cached.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  }
});
