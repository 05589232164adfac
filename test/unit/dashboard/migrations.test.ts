// The migration state machine (dashboard/coordinator/migrations.ts) and reconcile, over a real file
// store and leader lock, against a fake of the node interface that enforces the node contract:
// epochs (older refused, same epoch must change nothing), TESSERA.MIGRATE only from a source
// MIGRATING to a target IMPORTING from it, keys either on the source or on the target. Covers
// every step, a crash at each step with a fresh coordinator resuming from the records, pause,
// resume, cancel (keys moved back), batching of slots into few epochs, and reconcile repairs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGroup, encodeSlot, parseEpoch } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import { FileStore } from '../../../common/store/file-store.js';
import { epochKey, groupKey, slotKey } from '../../../common/store/keys.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { type CrashPoint, Migrator } from '../../../dashboard/coordinator/migrations.js';
import type { MigrateResult, NodeApi, NodeOwnership, NodeSlotRange, SlotStats } from '../../../dashboard/coordinator/node-client.js';
import { Reconciler, Serial } from '../../../dashboard/coordinator/reconcile.js';
import { waitFor } from '../../helpers/wait-for.js';

const PRODUCT = 'mig';
const A = '127.0.0.1:7001';
const B = '127.0.0.1:7002';

interface FakeNode { epoch: number; confirmed: boolean; slots: string[]; keys: Map<number, number> }

/** Nodes as the contract describes them, in memory. */
class FakeNodes implements NodeApi {
  nodes = new Map<string, FakeNode>();
  calls: string[] = [];
  down = new Set<string>();
  setCount = 0;
  /** How long one mover call takes (a real one moves keys over the network). */
  delayMs = 0;
  constructor(addrs: string[]) {
    for (const a of addrs) this.nodes.set(a, { epoch: 0, confirmed: true, slots: new Array(SLOT_COUNT).fill('none -'), keys: new Map() });
  }
  private node(addr: string): FakeNode {
    if (this.down.has(addr)) throw new Error(`cannot reach node ${addr}`);
    return this.nodes.get(addr)!;
  }
  async ownership(addr: string): Promise<NodeOwnership> {
    const n = this.node(addr);
    const ranges: NodeSlotRange[] = [];
    n.slots.forEach((w, s) => {
      const [state, peer] = w.split(' ') as [NodeSlotRange['state'], string];
      const last = ranges[ranges.length - 1];
      const p = peer === '-' ? null : peer;
      if (last && last.state === state && last.peer === p) last.end = s;
      else ranges.push({ start: s, end: s, state, peer: p });
    });
    return { epoch: n.epoch, confirmed: n.confirmed, ranges };
  }
  async setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void> {
    const n = this.node(addr);
    const next = [...n.slots];
    for (const r of ranges) for (let s = r.start; s <= r.end; s++) next[s] = `${r.state} ${r.peer ?? '-'}`;
    if (epoch < n.epoch) throw new Error(`STALEEPOCH configuration epoch ${epoch} is older than this node's ${n.epoch}`);
    if (epoch === n.epoch && next.some((w, s) => w !== n.slots[s])) throw new Error('STALEEPOCH already in force with a different slot state');
    n.slots = next;
    n.epoch = epoch;
    n.confirmed = true;
    this.setCount++;
  }
  async confirm(addr: string, epoch: number): Promise<void> {
    const n = this.node(addr);
    if (epoch !== n.epoch) throw new Error('cannot confirm');
    n.confirmed = true;
  }
  async migrateSlot(source: string, _lane: number, slot: number, target: string, opts: { maxKeys: number }): Promise<MigrateResult> {
    const s = this.node(source);
    const t = this.node(target);
    this.calls.push(`${source}:${slot}`);
    if (s.slots[slot] !== `migrating ${target}`) throw new Error(`ERR slot ${slot} is not migrating to ${target}`);
    if (t.slots[slot] !== `importing ${source}`) throw new Error(`ERR target refused: slot ${slot} not importing`);
    const have = s.keys.get(slot) ?? 0;
    const n = Math.min(have, opts.maxKeys);
    s.keys.set(slot, have - n);
    t.keys.set(slot, (t.keys.get(slot) ?? 0) + n);
    await new Promise((r) => (this.delayMs ? setTimeout(r, this.delayMs) : setImmediate(r)));
    return { keys: n, bytes: n * 10, remaining: have - n };
  }
  async slotStats(addr: string, slots: readonly number[]): Promise<SlotStats[]> {
    const n = this.node(addr);
    return slots.filter((s) => (n.keys.get(s) ?? 0) > 0).map((s) => ({ slot: s, keys: n.keys.get(s)!, bytes: n.keys.get(s)! * 10 }));
  }
  async close(): Promise<void> {}
  total(addr: string, slots: number[]): number {
    return slots.reduce((n, s) => n + (this.nodes.get(addr)!.keys.get(s) ?? 0), 0);
  }
}

let dir = '';
let store: FileStore;
let leader: Leadership;
let nodes: FakeNodes;
const logs: string[] = [];
const migrators: Migrator[] = [];

function newMigrator(): { m: Migrator; reconciler: Reconciler } {
  const log = (msg: string) => logs.push(msg);
  const reconciler = new Reconciler(store, PRODUCT, leader, nodes, log);
  const m = new Migrator({ store, product: PRODUCT, leader, nodes, reconciler, serial: new Serial(), log });
  migrators.push(m);
  return { m, reconciler };
}

async function slotState(slot: number): Promise<unknown> {
  const e = await store.get(slotKey(PRODUCT, slot));
  return e ? JSON.parse(e.value).state : null;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-mig-'));
  store = await FileStore.open(dir);
  leader = new Leadership(store, PRODUCT, { id: 'c1', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() }, 3, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'leadership' });
  nodes = new FakeNodes([A, B]);
  await store.put(groupKey(PRODUCT, 1), encodeGroup({ id: 1, servers: [{ addr: A, role: 'master' }] }));
  await store.put(groupKey(PRODUCT, 2), encodeGroup({ id: 2, servers: [{ addr: B, role: 'master' }] }));
  const ops = [];
  for (let s = 0; s < SLOT_COUNT; s++) ops.push({ op: 'put' as const, key: slotKey(PRODUCT, s), value: encodeSlot({ id: s, state: { kind: 'online', group: s < 512 ? 1 : 2 } }) });
  for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
  // 0..511 hold 3..5 keys each on A
  for (let s = 0; s < 512; s++) nodes.nodes.get(A)!.keys.set(s, 3 + (s % 3));
  logs.length = 0;
});

afterEach(async () => {
  await Promise.allSettled(migrators.splice(0).map((m) => m.stop()));
  await leader.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const keysOf = (slots: number[]) => slots.reduce((n, s) => n + 3 + (s % 3), 0);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('reconcile', () => {
  it('tells every master its slots at a new epoch, confirms a restarted node that agrees, repairs one that disagrees', async () => {
    const { reconciler } = newMigrator();
    const r1 = await reconciler.reconcileAll();
    expect(r1.epoch).toBe(1); // nodes at epoch 0 disagreed with the table at the store's epoch 0
    expect(r1.set.sort()).toEqual([A, B]);
    expect(nodes.nodes.get(A)!.slots[0]).toBe('owned -');
    expect(nodes.nodes.get(A)!.slots[600]).toBe(`none ${B}`);
    expect(nodes.nodes.get(B)!.slots[600]).toBe('owned -');
    expect(parseEpoch((await store.get(epochKey(PRODUCT)))!.value)).toBe(1);
    // Agreeing: nothing sent.
    const sets = nodes.setCount;
    expect((await reconciler.reconcileAll()).agreed.sort()).toEqual([A, B]);
    expect(nodes.setCount).toBe(sets);
    // A restarted node (unconfirmed, same state): CONFIRM.
    nodes.nodes.get(A)!.confirmed = false;
    expect((await reconciler.reconcileAll()).confirmed).toEqual([A]);
    expect(nodes.nodes.get(A)!.confirmed).toBe(true);
    // A node that disagrees at the store's epoch: a newer epoch repairs it, and it is logged.
    nodes.nodes.get(B)!.slots[700] = 'none -';
    const r4 = await reconciler.reconcileAll();
    expect(r4.epoch).toBe(2);
    expect(nodes.nodes.get(B)!.slots[700]).toBe('owned -');
    expect(logs.some((l) => l.includes(`node ${B} (group 2)`) && l.includes('differed in 1 slot'))).toBe(true);
    // A node ahead of the store (e.g. told by a coordinator of a restored store): raised past it.
    nodes.nodes.get(A)!.epoch = 9;
    expect((await reconciler.reconcileAll()).epoch).toBe(10);
    // An unreachable node is reported, not fatal.
    nodes.down.add(B);
    expect((await reconciler.reconcileAll()).failed.map((f) => f.addr)).toEqual([B]);
  });
});

describe('migration state machine', () => {
  it('moves 512 slots in few epochs and txns: every key on the target, table online(2), records done', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ concurrency: 16 });
    const epochBefore = nodes.nodes.get(A)!.epoch;
    const batch = await m.create(range(0, 511), 2);
    expect(batch.slots.total).toBe(512);
    expect(batch.keys.remaining).toBe(keysOf(range(0, 511)));
    await waitFor(async () => (await m.list())[0]!.state === 'done', { what: 'the migration to finish', timeoutMs: 20_000 });
    expect(nodes.total(A, range(0, 511))).toBe(0);
    expect(nodes.total(B, range(0, 511))).toBe(keysOf(range(0, 511)));
    expect(await slotState(0)).toEqual({ kind: 'online', group: 2 });
    expect(await slotState(511)).toEqual({ kind: 'online', group: 2 });
    expect(nodes.nodes.get(A)!.slots[5]).toBe(`none ${B}`);
    expect(nodes.nodes.get(B)!.slots[5]).toBe('owned -');
    const view = (await m.list())[0]!;
    expect(view.keys.moved).toBe(keysOf(range(0, 511)));
    // Batched: one epoch to prepare all 512, and far fewer than 512 to finish them.
    const epochs = nodes.nodes.get(A)!.epoch - epochBefore;
    expect(epochs).toBeLessThan(100);
    expect(m.stats.steps).toBe(epochs);
  });

  it('refuses unknown groups, unassigned slots, slots already there or already migrating', async () => {
    const { m } = newMigrator();
    await m.start();
    await expect(m.create([1], 9)).rejects.toMatchObject({ status: 400, code: 'GROUP_NOT_FOUND' });
    await expect(m.create([600], 2)).rejects.toMatchObject({ status: 409, code: 'SLOT_ALREADY_THERE' });
    await store.delete(slotKey(PRODUCT, 3));
    await expect(m.create([2, 3], 2)).rejects.toMatchObject({ status: 409, code: 'SLOT_UNASSIGNED', message: expect.stringContaining('slots 3 ') });
    await m.pause('0-511', true).catch(() => {});
    await m.create([0, 1], 2);
    await expect(m.create([1, 2], 2)).rejects.toMatchObject({ status: 409, code: 'SLOT_MIGRATING' });
  });

  const crashPoints: CrashPoint[] = ['after-prepare-txn', 'after-prepare-reconcile', 'after-move-call', 'after-finish-txn', 'after-finish-reconcile'];
  for (const point of crashPoints) {
    it(`a coordinator that crashes ${point} is resumed by the next one with nothing lost`, async () => {
      const first = newMigrator();
      await first.reconciler.reconcileAll();
      await first.m.start();
      first.m.crashAt = point;
      const slots = range(100, 139);
      await first.m.create(slots, 2);
      await waitFor(() => first.m.crashAt === null, { what: `the crash at ${point}`, timeoutMs: 10_000 });
      await first.m.stop();
      const second = newMigrator();
      await second.m.start();
      expect(logs.some((l) => l.startsWith('resuming '))).toBe(true);
      await waitFor(async () => (await second.m.list())[0]?.state === 'done', { what: 'the resumed migration to finish', timeoutMs: 20_000 });
      expect(nodes.total(A, slots)).toBe(0);
      expect(nodes.total(B, slots)).toBe(keysOf(slots));
      for (const s of [100, 139]) {
        expect(await slotState(s)).toEqual({ kind: 'online', group: 2 });
        expect(nodes.nodes.get(B)!.slots[s]).toBe('owned -');
        expect(nodes.nodes.get(A)!.slots[s]).toBe(`none ${B}`);
      }
    });
  }

  it('pause stops new mover calls; resume finishes', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 1, concurrency: 1 });
    nodes.delayMs = 20;
    const b = await m.create(range(0, 9), 2);
    await waitFor(() => nodes.calls.length >= 3, { what: 'some mover calls' });
    await m.pause(b.id, true);
    await m.idle();
    const calls = nodes.calls.length;
    expect((await m.get(b.id)).state).toBe('paused');
    await new Promise((r) => setTimeout(r, 300)); // a paused migration makes no call for a while: nothing to poll for
    expect(nodes.calls.length).toBe(calls);
    expect(nodes.total(A, range(0, 9))).toBeGreaterThan(0);
    await m.pause(b.id, false);
    await waitFor(async () => (await m.get(b.id)).state === 'done', { what: 'the resumed migration', timeoutMs: 20_000 });
    expect(nodes.total(B, range(0, 9))).toBe(keysOf(range(0, 9)));
  });

  it('cancel of a moving slot moves its keys back to the source; a pending one is just cancelled', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 1, concurrency: 1, batch: 2 });
    nodes.delayMs = 30;
    const b = await m.create(range(0, 5), 2);
    await waitFor(() => nodes.total(B, [0, 1]) >= 2, { what: 'keys on the target' });
    await m.cancel(b.id);
    await waitFor(async () => (await m.get(b.id)).state === 'cancelled', { what: 'the cancel to finish', timeoutMs: 20_000 });
    expect(nodes.total(B, range(0, 5))).toBe(0);
    expect(nodes.total(A, range(0, 5))).toBe(keysOf(range(0, 5)));
    for (const s of range(0, 5)) expect(await slotState(s)).toEqual({ kind: 'online', group: 1 });
    expect(nodes.nodes.get(A)!.slots[0]).toBe('owned -');
    expect(nodes.nodes.get(B)!.slots[0]).toBe(`none ${A}`);
    // Moved back by the mover (calls on B), and pending slots never reached the nodes.
    expect(nodes.calls.some((c) => c.startsWith(`${B}:`))).toBe(true);
    expect(nodes.calls.some((c) => c.endsWith(':5'))).toBe(false);
  });

  it('a crash during a cancel resumes the move back', async () => {
    const first = newMigrator();
    await first.reconciler.reconcileAll();
    await first.m.start();
    await first.m.updateSettings({ batchKeys: 1, concurrency: 2 });
    nodes.delayMs = 30;
    const b = await first.m.create(range(0, 3), 2);
    await waitFor(() => nodes.total(B, range(0, 3)) >= 2, { what: 'keys on the target' });
    first.m.crashAt = 'after-cancel-txn';
    await first.m.cancel(b.id);
    await waitFor(() => first.m.crashAt === null, { what: 'the crash' });
    await first.m.stop();
    const second = newMigrator();
    await second.m.start();
    await waitFor(async () => (await second.m.get(b.id)).state === 'cancelled', { what: 'the resumed cancel', timeoutMs: 20_000 });
    expect(nodes.total(A, range(0, 3))).toBe(keysOf(range(0, 3)));
    expect(nodes.total(B, range(0, 3))).toBe(0);
  });

  it('a node down during the move: the mover retries and finishes when it is back', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 1, concurrency: 1 });
    nodes.delayMs = 50;
    const b = await m.create([7], 2);
    await waitFor(() => nodes.calls.length >= 1, { what: 'a mover call' });
    nodes.down.add(A);
    await waitFor(async () => (await m.get(b.id)).errors.length > 0, { what: 'the error to show' });
    nodes.down.delete(A);
    await waitFor(async () => (await m.get(b.id)).state === 'done', { what: 'the migration', timeoutMs: 20_000 });
    expect(nodes.total(B, [7])).toBe(keysOf([7]));
  });
});
