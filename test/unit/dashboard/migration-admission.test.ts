// When the coordinator tells the nodes a slot migrates (dashboard/coordinator/migrations.ts,
// Reconciler.held): only after live proxies applied the table (or the bounded wait ran out), a
// proxy that let a wait run out is not waited for again until it catches up, and only a window
// of slots migrates on the nodes at a time. A slot migrating on the nodes refuses multi-key
// commands whose keys are split (-TRYAGAIN) until it is finished, so slots must not sit there
// while nothing moves them. Over a real file store and leader lock, with fake nodes that keep the
// node contract (epochs, MIGRATING/IMPORTING, keys on one side) and record what they were told.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeProxyInfo } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import { FileStore } from '../../../common/store/file-store.js';
import { proxyKey } from '../../../common/store/keys.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { Migrator } from '../../../dashboard/coordinator/migrations.js';
import type { MigrateResult, NodeApi, NodeOwnership, NodeSlotRange, SlotStats } from '../../../dashboard/coordinator/node-client.js';
import { Reconciler, Serial, readClusterState } from '../../../dashboard/coordinator/reconcile.js';
import { waitFor } from '../../helpers/wait-for.js';
import { moveSlotKeys, seedTwoGroups, setSlotRanges, slotRanges } from '../../helpers/fake-slot-node.js';

const PRODUCT = 'adm';
const A = '127.0.0.1:7101';
const B = '127.0.0.1:7102';

interface FakeNode { epoch: number; slots: string[]; keys: Map<number, number> }

class FakeNodes implements NodeApi {
  nodes = new Map<string, FakeNode>();
  /** Most slots A had migrating at once, and every state slot `watch` had on A. */
  maxMigrating = 0;
  watch = -1;
  watched: string[] = [];
  constructor() {
    for (const a of [A, B]) this.nodes.set(a, { epoch: 0, slots: new Array(SLOT_COUNT).fill('none -'), keys: new Map() });
  }
  async ownership(addr: string): Promise<NodeOwnership> {
    const n = this.nodes.get(addr)!;
    const ranges = slotRanges(n);
    return { epoch: n.epoch, confirmed: true, ranges };
  }
  async setSlots(addr: string, epoch: number, ranges: readonly NodeSlotRange[]): Promise<void> {
    const n = this.nodes.get(addr)!;
    const next = setSlotRanges(n, epoch, ranges);
    if (addr === A) {
      this.maxMigrating = Math.max(this.maxMigrating, next.filter((w) => w.startsWith('migrating')).length);
      if (this.watch >= 0 && this.watched[this.watched.length - 1] !== next[this.watch]) this.watched.push(next[this.watch]!);
    }
  }
  async confirm(): Promise<void> {}
  async migrateSlot(source: string, _lane: number, slot: number, target: string, opts: { maxKeys: number }): Promise<MigrateResult> {
    const s = this.nodes.get(source)!;
    const t = this.nodes.get(target)!;
    const { n, have } = moveSlotKeys(s, source, t, target, slot, opts.maxKeys);
    await new Promise((r) => setImmediate(r));
    return { keys: n, bytes: n * 10, remaining: have - n };
  }
  async slotStats(): Promise<SlotStats[]> {
    return [];
  }
  async close(): Promise<void> {}
}

let dir = '';
let store: FileStore;
let leader: Leadership;
let nodes: FakeNodes;
let migrator: Migrator;
let reconciler: Reconciler;
const logs: string[] = [];

async function registerProxy(id: string, tableRevision: string): Promise<void> {
  await store.put(proxyKey(PRODUCT, id), encodeProxyInfo({ id, listen: '127.0.0.1:1', admin: '127.0.0.1:2', version: 'test', tableRevision, pid: 1, startedAt: new Date().toISOString() }));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-adm-'));
  store = await FileStore.open(dir);
  leader = new Leadership(store, PRODUCT, { id: 'c1', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() }, 30, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'leadership' });
  nodes = new FakeNodes();
  await seedTwoGroups(store, PRODUCT, A, B);
  for (let s = 0; s < 512; s++) nodes.nodes.get(A)!.keys.set(s, 2);
  logs.length = 0;
  const log = (msg: string) => logs.push(msg);
  reconciler = new Reconciler(store, PRODUCT, leader, nodes, log);
  await reconciler.reconcileAll();
  migrator = new Migrator({ store, product: PRODUCT, leader, nodes, reconciler, serial: new Serial(), log });
  await migrator.start();
});

afterEach(async () => {
  await migrator.stop();
  await leader.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const phaseOf = async (id: string, slot: number) => (await migrator.get(id)).records.find((r) => r.slot === slot)!.phase;

describe('telling the nodes a slot migrates', () => {
  it('not before the live proxies applied the table: until then the source keeps owning the slot', async () => {
    await registerProxy('p1', '0');
    await migrator.updateSettings({ proxyAckTimeoutMs: 60_000 });
    nodes.watch = 5;
    const b = await migrator.create([5], 2);
    await waitFor(async () => (await phaseOf(b.id, 5)) === 'preparing', { what: 'preparing' });
    // The proxy is behind: the table says migrating, the nodes still serve the slot at A, also
    // when reconciled meanwhile (the coordinator's reconcile loop runs every second).
    await reconciler.reconcileAll();
    expect(await phaseOf(b.id, 5)).toBe('preparing');
    expect(nodes.nodes.get(A)!.slots[5]).toBe('owned -');
    expect(nodes.nodes.get(B)!.slots[5]).toBe(`none ${A}`);
    // It applies the table: now the nodes are told, the slot moves and finishes.
    await registerProxy('p1', (await readClusterState(store, PRODUCT)).revision);
    await waitFor(async () => (await migrator.get(b.id)).state === 'done', { what: 'done', timeoutMs: 20_000 });
    // The source hears of the finish after the gainer (which answered before 'done' was shown).
    await waitFor(() => nodes.watched.length >= 3, { what: 'the source told the slot finished' });
    expect(nodes.watched).toEqual(['owned -', `migrating ${B}`, `none ${B}`]); // held at the reconcile, then told
    expect(nodes.nodes.get(B)!.keys.get(5)).toBe(2);
  });

  it('a proxy that let a wait run out is not waited for again until it catches up', async () => {
    await registerProxy('dead', '0');
    await migrator.updateSettings({ proxyAckTimeoutMs: 400, batch: 2 });
    const b = await migrator.create([1, 2, 3, 4, 5, 6, 7, 8], 2);
    await waitFor(async () => (await migrator.get(b.id)).state === 'done', { what: 'done', timeoutMs: 20_000 });
    // Four prepare steps of 2 slots: one wait ran out, the others did not wait for it.
    expect(logs.filter((l) => l.includes('did not apply table revision')).length).toBe(1);
    // Once it applied a newer table it is waited for again.
    await registerProxy('dead', (await readClusterState(store, PRODUCT)).revision);
    const c = await migrator.create([9], 2);
    await waitFor(async () => (await phaseOf(c.id, 9)) === 'preparing', { what: 'preparing' });
    await waitFor(async () => (await migrator.get(c.id)).state === 'done', { what: 'done', timeoutMs: 20_000 });
    expect(logs.filter((l) => l.includes('did not apply table revision')).length).toBe(2);
  });

  it('a window of slots at a time: 300 slots with one mover never have more than 128 migrating on the nodes', async () => {
    await migrator.updateSettings({ concurrency: 1 });
    const b = await migrator.create(Array.from({ length: 300 }, (_, i) => i), 2);
    await waitFor(async () => (await migrator.get(b.id)).state === 'done', { what: 'done', timeoutMs: 60_000 });
    expect(nodes.maxMigrating).toBeGreaterThan(0);
    expect(nodes.maxMigrating).toBeLessThanOrEqual(128);
    for (let s = 0; s < 300; s++) expect(nodes.nodes.get(B)!.keys.get(s), `slot ${s}`).toBe(2);
  }, 90_000);
});
