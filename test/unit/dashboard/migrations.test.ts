// The migration state machine (dashboard/coordinator/migrations.ts) and reconcile, over a real file
// store and leader lock, against a fake of the node interface that enforces the node contract:
// epochs (older refused, same epoch must change nothing), TESSERA.MIGRATE only from a source
// MIGRATING to a target IMPORTING from it, keys either on the source or on the target. Covers
// every step, a crash at each step with a fresh coordinator resuming from the records, pause,
// resume, cancel (keys moved back), batching of slots into few epochs, reconcile repairs, and the
// list of migrations (its views kept per batch equal views built afresh).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeSlot, parseEpoch } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import { FileStore } from '../../../common/store/file-store.js';
import { epochKey, slotKey } from '../../../common/store/keys.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { type BatchView, type CrashPoint, Migrator } from '../../../dashboard/coordinator/migrations.js';
import type { MigrateResult, NodeApi, NodeOwnership, NodeSlotRange, SlotStats } from '../../../dashboard/coordinator/node-client.js';
import { Reconciler, Serial } from '../../../dashboard/coordinator/reconcile.js';
import { waitFor } from '../../helpers/wait-for.js';
import { moveSlotKeys, seedTwoGroups, setSlotRanges, slotRanges } from '../../helpers/fake-slot-node.js';

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
  /** Mover calls that move their keys but whose reply is lost (a TIMEOUT on the caller's side). */
  lostReplies = 0;
  constructor(addrs: string[]) {
    for (const a of addrs) this.nodes.set(a, { epoch: 0, confirmed: true, slots: new Array(SLOT_COUNT).fill('none -'), keys: new Map() });
  }
  private node(addr: string): FakeNode {
    if (this.down.has(addr)) throw new Error(`cannot reach node ${addr}`);
    return this.nodes.get(addr)!;
  }
  async ownership(addr: string): Promise<NodeOwnership> {
    const n = this.node(addr);
    const ranges = slotRanges(n);
    return { epoch: n.epoch, confirmed: n.confirmed, ranges };
  }
  async setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void> {
    const n = this.node(addr);
    const next = setSlotRanges(n, epoch, ranges);
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
    const { n, have } = moveSlotKeys(s, source, t, target, slot, opts.maxKeys);
    await new Promise((r) => (this.delayMs ? setTimeout(r, this.delayMs) : setImmediate(r)));
    if (this.lostReplies > 0 && n > 0) {
      this.lostReplies--;
      throw new Error('TIMEOUT no reply within 10000 ms');
    }
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

function newMigrator(finishCoalesceMs?: number): { m: Migrator; reconciler: Reconciler } {
  const log = (msg: string) => logs.push(msg);
  const reconciler = new Reconciler(store, PRODUCT, leader, nodes, log);
  const m = new Migrator({ store, product: PRODUCT, leader, nodes, reconciler, serial: new Serial(), log, finishCoalesceMs });
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
  await seedTwoGroups(store, PRODUCT, A, B);
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

  it('finish steps are coalesced while movers still run: fewer epochs, the same keys moved', async () => {
    nodes.delayMs = 5;
    const epochsFor = async (m: Migrator, slots: number[]): Promise<number> => {
      await m.start();
      await m.updateSettings({ concurrency: 16 });
      const before = nodes.nodes.get(A)!.epoch;
      const batch = await m.create(slots, 2);
      await waitFor(async () => (await m.list()).find((b) => b.id === batch.id)!.state === 'done', { what: 'the migration to finish', timeoutMs: 20_000 });
      await m.idle();
      await m.stop();
      return nodes.nodes.get(A)!.epoch - before;
    };
    const first = newMigrator(0);
    await first.reconciler.reconcileAll();
    const eager = await epochsFor(first.m, range(0, 255));
    // At most one finish step per 10 s while any mover runs: slots wait for the movers to drain.
    const coalesced = await epochsFor(newMigrator(10_000).m, range(256, 511));
    expect(coalesced).toBeLessThan(eager);
    expect(nodes.total(A, range(0, 511))).toBe(0);
    expect(nodes.total(B, range(0, 511))).toBe(keysOf(range(0, 511)));
    expect(await slotState(300)).toEqual({ kind: 'online', group: 2 });
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
    // Biggest slots first: 2 and 5 (5 keys each) move first, 0 and 3 (3 keys) would be last.
    await waitFor(() => nodes.total(B, [2, 5]) >= 2, { what: 'keys on the target' });
    await m.cancel(b.id);
    await waitFor(async () => (await m.get(b.id)).state === 'cancelled', { what: 'the cancel to finish', timeoutMs: 20_000 });
    expect(nodes.total(B, range(0, 5))).toBe(0);
    expect(nodes.total(A, range(0, 5))).toBe(keysOf(range(0, 5)));
    for (const s of range(0, 5)) expect(await slotState(s)).toEqual({ kind: 'online', group: 1 });
    expect(nodes.nodes.get(A)!.slots[0]).toBe('owned -');
    expect(nodes.nodes.get(B)!.slots[0]).toBe(`none ${A}`);
    // Moved back by the mover (calls on B), and pending slots never reached the nodes.
    expect(nodes.calls.some((c) => c.startsWith(`${B}:`))).toBe(true);
    expect(nodes.calls.some((c) => c.endsWith(':0') || c.endsWith(':3'))).toBe(false);
  });

  it('keys moved by calls whose reply was lost (timed out) are counted: the progress matches the data', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 2, concurrency: 1 });
    nodes.lostReplies = 3;
    const b = await m.create(range(20, 23), 2);
    await waitFor(async () => (await m.get(b.id)).state === 'done', { what: 'the migration', timeoutMs: 20_000 });
    expect(nodes.lostReplies).toBe(0);
    expect(nodes.total(B, range(20, 23))).toBe(keysOf(range(20, 23)));
    expect((await m.get(b.id)).keys.moved).toBe(keysOf(range(20, 23)));
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

describe('migration and rebalance API (inject)', () => {
  const TOKEN = 'mig-api-token';
  const auth = { authorization: `Bearer ${TOKEN}` };

  async function app() {
    const { m } = newMigrator();
    await m.start();
    const { buildApp } = await import('../../../dashboard/app.js');
    const { Cluster } = await import('../../../dashboard/coordinator/cluster.js');
    const a = buildApp({
      cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: false,
      migrations: { migrator: m, rebalance: { store, product: PRODUCT, nodes, migrator: m } },
    });
    const call = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, headers: Record<string, string> = auth) =>
      a.inject({ method, url: `/api/v1${url}`, headers, ...(body === undefined ? {} : { payload: body as object }) });
    return { a, m, call };
  }

  it('validates bodies (400 naming the field), needs the token (401), answers {code, message} errors', async () => {
    const { a, call } = await app();
    try {
      expect((await call('POST', '/migrations', { slots: '0-3', to: 2 }, {})).statusCode).toBe(401);
      for (const [body, field] of [[{ slots: '0-3' }, 'to'], [{ slots: 'abc', to: 2 }, 'slots'], [{ slots: '1', to: 2, x: 1 }, 'x'], [{ slots: '1', to: '2' }, 'to']] as const) {
        const r = await call('POST', '/migrations', body);
        expect(r.statusCode).toBe(400);
        expect(r.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(field) });
      }
      expect((await call('POST', '/migrations', { slots: '0-2000', to: 2 })).json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('0-1023') });
      expect((await call('POST', '/migrations', { slots: '0-3', to: 7 })).json()).toMatchObject({ code: 'GROUP_NOT_FOUND', message: 'group 7 does not exist' });
      const there = await call('POST', '/migrations', { slots: '600-601', to: 2 });
      expect([there.statusCode, there.json().code]).toEqual([409, 'SLOT_ALREADY_THERE']);
      await store.delete(slotKey(PRODUCT, 9));
      expect((await call('POST', '/migrations', { slots: '8-9', to: 2 })).json()).toMatchObject({ code: 'SLOT_UNASSIGNED', message: expect.stringContaining('slots 9 ') });
      const bad = await call('PUT', '/migrations/settings', { concurrency: 0 });
      expect([bad.statusCode, bad.json().code]).toEqual([400, 'BAD_REQUEST']);
      expect((await call('PUT', '/migrations/settings', {})).statusCode).toBe(400);
      expect((await call('GET', '/migrations/m-nope')).json()).toMatchObject({ code: 'NOT_FOUND' });
      const doc = (await call('GET', '/openapi.json')).json();
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
        '/api/v1/migrations', '/api/v1/migrations/{id}', '/api/v1/migrations/{id}/pause', '/api/v1/migrations/{id}/resume',
        '/api/v1/migrations/{id}/cancel', '/api/v1/migrations/settings', '/api/v1/rebalance', '/api/v1/rebalance/plan',
      ]));
    } finally {
      await a.close();
    }
  });

  it('creates, lists with progress, pauses, resumes and cancels by id or slots; settings round-trip', async () => {
    const { a, call } = await app();
    try {
      nodes.delayMs = 20;
      const s = await call('PUT', '/migrations/settings', { batchKeys: 1, concurrency: 1 });
      expect(s.json()).toMatchObject({ batchKeys: 1, concurrency: 1, keysPerSecond: 0 });
      const c = await call('POST', '/migrations', { slots: '10-13, 20', to: 2 });
      expect(c.statusCode).toBe(201);
      const id = c.json().id as string;
      expect(c.json()).toMatchObject({ to: 2, from: [1], slotList: '10-13, 20', slots: { total: 5, pending: 5 }, keys: { moved: 0, remaining: keysOf([10, 11, 12, 13, 20]) } });
      expect((await call('POST', '/migrations', { slots: '13', to: 2 })).json().code).toBe('SLOT_MIGRATING');
      await waitFor(async () => (await call('GET', `/migrations/${id}`)).json().keys.moved > 0, { what: 'progress' });
      // One mover call at a time: only slot 10 (the first) can be emptied before or while the
      // pause lands; a slot emptied by the call in flight at pause time finishes (that is fine).
      expect((await call('POST', `/migrations/${id}/pause`)).json().changed).toBeGreaterThanOrEqual(4);
      type Rec = { slot: number; phase: string; progress: { ready: boolean } | null };
      const settled = async () => {
        const v = (await call('GET', `/migrations/${id}`)).json() as { state: string; records: Rec[] };
        return v.state === 'paused' && v.records.every((r) => !r.progress?.ready) ? v.records : null;
      };
      await waitFor(async () => (await settled()) !== null, { what: 'paused, nothing left finishing' });
      const open = (await settled())!.filter((r) => r.slot >= 10 && r.slot <= 12 && r.phase !== 'done' && r.phase !== 'finished').length;
      expect(open).toBeGreaterThanOrEqual(2);
      expect((await call('POST', '/migrations/10-12/resume')).json().changed).toBe(open);
      expect((await call('POST', `/migrations/20/cancel`)).json().changed).toBe(1);
      await call('POST', `/migrations/${id}/resume`);
      await waitFor(async () => ['done', 'cancelled'].includes((await call('GET', `/migrations/${id}`)).json().records.find((r: { slot: number }) => r.slot === 13).phase), { what: 'slot 13', timeoutMs: 20_000 });
      await waitFor(async () => (await call('GET', '/migrations')).json().migrations[0].slots.cancelled === 1 && (await call('GET', '/migrations')).json().migrations[0].slots.done === 4, { what: 'the migration to end', timeoutMs: 20_000 });
      const one = (await call('GET', `/migrations/${id}`)).json();
      expect(one).toMatchObject({ state: 'done', slots: { done: 4, cancelled: 1 }, etaSeconds: 0 });
      expect(one.records.map((r: { slot: number; phase: string }) => `${r.slot}:${r.phase}`)).toEqual(['10:done', '11:done', '12:done', '13:done', '20:cancelled']);
      expect(nodes.total(A, [20])).toBe(keysOf([20]));
      expect((await call('POST', `/migrations/${id}/cancel`)).json().code).toBe('MIGRATION_FINISHED');
    } finally {
      await a.close();
    }
  });

  it('rebalance: a plan by keys from the nodes\' slot stats, then applied', async () => {
    const { a, call } = await app();
    try {
      // Group 1 owns 0-511 with keys, group 2 512-1023 and no keys: even slot counts, uneven keys.
      await new Reconciler(store, PRODUCT, leader, nodes, () => {}).reconcileAll();
      const plan = (await call('GET', '/rebalance/plan')).json();
      expect(plan.by).toBe('keys');
      expect(plan.moves).toEqual([]); // slot counts are even already (512/512): moving keys alone would unbalance slots
      // Give group 1 all slots but 1000-1023: the plan moves slots to group 2.
      const ops = range(512, 999).map((s) => ({ op: 'put' as const, key: slotKey(PRODUCT, s), value: encodeSlot({ id: s, state: { kind: 'online', group: 1 } }) }));
      for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
      const p2 = (await call('GET', '/rebalance/plan')).json();
      expect(p2.groups).toEqual([
        expect.objectContaining({ id: 1, slots: 1000, slotsAfter: 512 }), expect.objectContaining({ id: 2, slots: 24, slotsAfter: 512 }),
      ]);
      expect(p2.moves).toEqual([expect.objectContaining({ from: 1, to: 2, count: 488 })]);
      // By keys: group 2 gets about half the keys, not just the empty slots 512-999.
      expect(p2.groups[1].keysAfter).toBeGreaterThan(keysOf(range(0, 511)) / 3);
      const applied = await call('POST', '/rebalance');
      expect(applied.statusCode).toBe(200);
      expect(applied.json().migrations).toEqual([expect.objectContaining({ to: 2, slots: expect.objectContaining({ total: 488 }) })]);
      await waitFor(async () => (await call('GET', '/migrations')).json().migrations[0].state === 'done', { what: 'the rebalance', timeoutMs: 20_000 });
      const again = (await call('GET', '/rebalance/plan')).json();
      expect(again.moves).toEqual([]);
      expect(again.groups.map((g: { slots: number }) => g.slots)).toEqual([512, 512]);
    } finally {
      await a.close();
    }
  });
});

describe('fencing', () => {
  it('a coordinator that lost the leader lock writes nothing more: its steps fail the fence and it stops', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 1, concurrency: 1 });
    nodes.delayMs = 30;
    const b = await m.create([40, 41], 2);
    await waitFor(() => nodes.calls.length >= 2, { what: 'the move to run' });
    // Another coordinator took over (the lock key is gone: every fenced txn of this one fails).
    const fence = leader.fence();
    await store.delete(fence.key);
    const { NotLeaderError } = await import('../../../dashboard/coordinator/leadership.js');
    await expect(m.create([50], 2)).rejects.toBeInstanceOf(NotLeaderError);
    await waitFor(async () => {
      await m.idle();
      return !(await store.get(`/tessera/${PRODUCT}/migrations/0050`));
    }, { what: 'the refused create to have written nothing' });
    // No mover call after the one in flight, and the slots stay migrating in the table: it never
    // finished them without the lock (the next leader resumes them from the records).
    const calls = nodes.calls.length;
    await new Promise((r) => setTimeout(r, 300)); // asserting that nothing happens: nothing to poll for
    expect(nodes.calls.length).toBeLessThanOrEqual(calls + 1);
    expect(nodes.total(A, [40, 41])).toBeGreaterThan(0);
    expect(await slotState(40)).toEqual({ kind: 'migrating', from: 1, to: 2 });
    expect((await m.get(b.id).catch(() => null))?.state ?? 'running').not.toBe('done');
  });
});

describe('list of migrations', () => {
  /** Every batch's view from list() against the same view built afresh (get() by slot list), at one instant. */
  async function compareViews(m: Migrator): Promise<BatchView[]> {
    const slotLists = (await m.list()).map((v) => v.slotList);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    // Both built in this synchronous stretch (neither awaits before it builds its views while
    // leading), so no mover reply changes the progress between them.
    const listed = m.list();
    const fresh = slotLists.map((slots) => m.get(slots));
    vi.restoreAllMocks();
    const views = await listed;
    const afresh = await Promise.all(fresh);
    expect(views.map((v) => v.slotList)).toEqual(slotLists);
    views.forEach((v, i) => {
      const { id: _id, records: _records, ...want } = afresh[i]!;
      const { id: _vid, ...got } = v;
      expect(got).toEqual(want);
    });
    return views;
  }

  it('keeps each batch\'s view until one of its records changes: equal to views built afresh through moves, a pause, a resume and a cancel', async () => {
    const { m, reconciler } = newMigrator();
    await reconciler.reconcileAll();
    await m.start();
    await m.updateSettings({ batchKeys: 1, concurrency: 4 });
    nodes.delayMs = 3;
    for (let s = 100; s < 140; s++) nodes.nodes.get(A)!.keys.set(s, 20); // batch y moves slowly
    const x = await m.create(range(0, 59), 2);
    const y = await m.create(range(100, 139), 2);
    let compared = 0;
    const compareUntil = async (what: string, until: (views: BatchView[]) => boolean) => {
      await waitFor(async () => {
        compared++;
        return until(await compareViews(m));
      }, { what, timeoutMs: 30_000, intervalMs: 5 });
    };
    const view = (vs: BatchView[], b: BatchView) => vs.find((v) => v.slotList === b.slotList)!;
    await compareUntil('keys moved in both batches', (vs) => vs.every((v) => v.keys.moved > 0));
    await m.pause(y.id, true);
    await compareUntil('batch y paused', (vs) => view(vs, y).state === 'paused');
    await m.pause(y.id, false);
    await compareUntil('slots of batch x done', (vs) => view(vs, x).slots.done > 5);
    await m.cancel(y.id);
    await compareUntil('both batches over', (vs) => vs.every((v) => v.state === 'done' || v.state === 'cancelled'));
    const views = await compareViews(m);
    expect(view(views, x).state).toBe('done');
    expect(view(views, y).slots.cancelled).toBeGreaterThan(0);
    expect(compared).toBeGreaterThan(10);
  });
});
