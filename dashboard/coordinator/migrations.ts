// The per-slot migration state machine (issue 8, ../shared/ARCHITECTURE.md "Coordinator").
//
//   pending → preparing → migrating → finished → done        (model phases; "migrating" is the
//                                                              moving step, "finished" finishing)
//
// Every step is one store write (the slot's record and, where the step changes ownership, its
// table entry and a raised epoch, in the same fenced txn) made BEFORE it takes effect; then the
// nodes are reconciled with the table (reconcile.ts: the node state is a function of the table).
//   prepare:  epoch+1, table migrating(from,to), record preparing; the nodes keep serving the slot
//             as the source's (Reconciler.held) while live proxies apply the revision (a bounded
//             wait outside the Serial: other steps go on) → admitted, a window at a time
//             (ADMIT_WINDOW): reconcile (target IMPORTING, source MIGRATING) → record migrating
//   move:     TESSERA.MIGRATE SLOT on the source until remaining 0 (throttled; errors retried)
//   finish:   epoch+1, table online(to), record finished → reconcile (target OWNED, source NONE
//             OWNER target) → record done
// Steps of many slots share one epoch and as few txns as the store allows (slotsPerTxn), and
// run one at a time (Serial), so the slots that became ready while a step ran go in the next one.
//
// A coordinator that crashes anywhere resumes from the records: preparing/finished re-run the
// reconcile (idempotent: the same epoch is accepted again), migrating calls the mover again (safe
// to retry by contract; remaining 0 at once if the slot is already empty).
//
// Pause: no new mover call starts for the slot (it stays migrating and is served through ASK; a
// slot paused before the nodes were told stays with its source until resumed).
// Cancel: pending → cancelled at once. Once the nodes were told (preparing, migrating), keys may
// already be on the target (moved, or created there through ASK), so a cancel MOVES THEM BACK:
// the record gets `reverse` and the same phases run from the target to the source (table
// migrating(to,from)); at the end the slot is online in its source again and the record is
// `cancelled`. Nothing is lost because the reverse move is the same mover. A finished slot cannot
// be cancelled (it is done; migrate it back).
import { randomBytes } from 'node:crypto';
import {
  type Migration, type MigrationSettings, type SlotState, DEFAULT_MIGRATION_SETTINGS,
  encodeMigration, encodeMigrationSettings, encodeSlot, masterOf, parseMigration, parseMigrationSettings, parseProxyInfo,
  type MigrationBatchView,
} from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';
import type { CoordStore, TxnOp } from '../../common/store/coord-store.js';
import { migrationKey, migrationSettingsKey, migrationSlotOf, migrationsPrefix, proxiesPrefix, slotKey } from '../../common/store/keys.js';
import { ApiError, conflict, formatSlotList } from '../api-error.js';
import { type LeaderView, NotLeaderError } from './leadership.js';
import type { NodeApi } from './node-client.js';
import type { ScriptCopier } from './script-copy.js';
import { type ClusterState, type Reconciler, Serial, epochBump, readClusterState } from './reconcile.js';

/**
 * Ops per store txn when the store does not say (etcd's default --max-txn-ops is 128); a slot
 * takes 2 (table entry + record), the epoch 1. A store without a limit (the file store) says
 * `maxTxnOps: Infinity`: a step is then one txn whatever its size.
 */
const DEFAULT_MAX_TXN_OPS = 128;
/** TIMEOUT of one mover call. */
const MIGRATE_TIMEOUT_MS = 10_000;
/** Back-off after a failed mover call (node down, target unreachable), growing to the max. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** The scheduler also wakes up this often (a step that failed on a store or node error retries). */
const TICK_MS = 1_000;
/**
 * Slots emptied while other movers still run are finished at most this often (the slots emptied
 * meanwhile share the step). Each finish step is a table revision every proxy applies and acks, an
 * ownership change each master persists (fsync) and replicates, and a reconcile of every master;
 * the admissions that follow it ride along. With 16 movers steps had run back to back every
 * 60-120 ms (92 epochs for the Codis-sized bench's 512 slots); at 250 ms it took 32, the move no
 * slower (the admission window keeps every mover busy meanwhile) and every process used less CPU.
 * The last slots (no mover running) finish at once: waiting would only lengthen the move.
 */
const FINISH_COALESCE_MS = 250;
/** The proxies' acks are read again after this, doubling up to the max (they usually ack at once). */
const PROXY_POLL_MIN_MS = 20;
const PROXY_POLL_MAX_MS = 200;
/** stop() waits at most this long for in-flight steps and mover calls. */
const STOP_WAIT_MS = 2_000;
/**
 * Slots told to the nodes (migrating there) but not moved yet: at most this many per mover of
 * `concurrency` (and at least ADMIT_MIN). A slot migrating on the nodes answers a multi-key
 * command whose keys are not all on one side with -TRYAGAIN until it is finished, so slots
 * waiting for a mover are kept out of that state; a window keeps the steps few. Not more: with
 * 32 per mover (512 slots on the nodes at once) slots waited over the proxy's 5 s -TRYAGAIN
 * budget for a mover and multi-key commands failed (migration-faults.test.ts).
 */
const ADMIT_PER_MOVER = 8;
const ADMIT_MIN = 128;

export interface SlotProgress {
  keysMoved: number;
  bytesMoved: number;
  /** From the last mover reply, or the source's slot stats before it; null = unknown. */
  keysRemaining: number | null;
  bytesTotal: number | null;
  /** Wall-clock ms of the first and last move by this coordinator (rate). */
  startedAt: number | null;
  lastAt: number | null;
  /** The slot is empty on its source: ready to finish. */
  ready: boolean;
  error: string | null;
  calls: number;
}

/** What the API shows of one migration (a batch of slots to one group); shared with the CLI. */
export type BatchView = MigrationBatchView;

export interface BatchDetail extends BatchView {
  records: Array<Migration & { progress: SlotProgress | null }>;
}

export interface MigratorDeps {
  store: CoordStore;
  product: string;
  leader: LeaderView;
  nodes: NodeApi;
  reconciler: Reconciler;
  serial: Serial;
  log: (msg: string) => void;
  /** Step timings (debug level); none if absent. */
  debug?: (msg: string) => void;
  /** Tests make time pass faster (throttle, back-off). */
  sleep?: (ms: number) => Promise<void>;
  /** Least time between two finish steps while movers still run (FINISH_COALESCE_MS if absent). */
  finishCoalesceMs?: number;
  /** Copies libraries and scripts to a target before it imports (script-copy.ts); none in unit tests with fake nodes. */
  scripts?: ScriptCopier;
}

/** A test hook: throws at a named point of a step, to simulate a crash there. */
export type CrashPoint = 'after-prepare-txn' | 'after-prepare-reconcile' | 'after-move-call' | 'after-finish-txn' | 'after-finish-reconcile' | 'after-cancel-txn';

export class Migrator {
  readonly stats = { steps: 0, txns: 0, moverCalls: 0, moverErrors: 0, keysMoved: 0, bytesMoved: 0 };
  /** Records of this product, mirrored from the store while leading (the one writer). */
  private records = new MigrationRecords();
  private progress = new Map<number, SlotProgress>();
  private workers = new Map<number, Promise<void>>();
  private settings: MigrationSettings = { ...DEFAULT_MIGRATION_SETTINGS };
  private running = false;
  private generation = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  /** Token bucket of the keys-per-second throttle, shared by all movers. */
  private throttleNextAt = 0;
  /** Preparing slots → their wait for the proxies' acks (over = the movers may be told to start). */
  private acks = new Map<number, { over: boolean }>();
  /**
   * Proxies that let an ack wait run out, with the revision they missed: not waited for again
   * until they applied it, so a dead or cut-off proxy costs one timeout, not one per step.
   */
  private laggards = new Map<string, bigint>();
  /** Proxy waits in progress (idle() waits for them too). */
  private ackWaits = new Set<Promise<void>>();
  /** Tests: throw at this point once. */
  crashAt: CrashPoint | null = null;

  private readonly sleep: (ms: number) => Promise<void>;
  private readonly finishCoalesceMs: number;
  /** When the last finish step started, and the pending wait for the next one (idle() waits for it). */
  private lastFinishAt = 0;
  private finishWait: { timer: NodeJS.Timeout; done: Promise<void>; end(): void } | null = null;

  constructor(private readonly d: MigratorDeps) {
    this.sleep = d.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.finishCoalesceMs = d.finishCoalesceMs ?? FINISH_COALESCE_MS;
  }

  // ---- leadership ----

  /** On election: load every record and resume each from its phase. */
  async start(): Promise<void> {
    const gen = ++this.generation;
    for (;;) {
      try {
        await this.load();
        break;
      } catch (err) {
        if (gen !== this.generation) return;
        this.d.log(`cannot load the migration records (${(err as Error).message}); retrying`);
        await this.sleep(TICK_MS);
      }
    }
    if (gen !== this.generation) return;
    this.acks.clear();
    this.d.reconciler.held.clear();
    this.running = true;
    const open = [...this.records.values()].filter((m) => !isFinal(m));
    if (open.length > 0) this.d.log(`resuming ${open.length} slot migration(s): ${summarize(open)}`);
    // A slot the last leader finished (done in the store) may not have reached the nodes yet:
    // tell them from the table before anything else (the reconcile loop would, within a second).
    await this.d.serial.run(() => this.d.reconciler.reconcileAll()).catch((err: unknown) => {
      if (!(err instanceof NotLeaderError)) this.d.log(`reconcile on resume failed (${(err as Error).message}); the reconcile loop retries`);
    });
    if (gen !== this.generation) return;
    this.tickTimer = setInterval(() => this.kick(), TICK_MS);
    this.kick();
  }

  /** On losing leadership: no new step or mover call; in-flight ones end on their own (fenced). */
  async stop(): Promise<void> {
    this.generation++;
    this.running = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.endFinishWait();
    this.tickTimer = null;
    this.acks.clear();
    this.d.reconciler.held.clear();
    // In-flight mover calls end on their own (bounded by their TIMEOUT); do not hold a shutdown for them.
    await Promise.race([Promise.allSettled([this.ticking, ...this.workers.values(), ...this.ackWaits]), this.sleep(STOP_WAIT_MS)]);
  }

  private async load(): Promise<void> {
    const [entries, settings] = await Promise.all([
      this.d.store.list(migrationsPrefix(this.d.product)),
      this.d.store.get(migrationSettingsKey(this.d.product)),
    ]);
    this.records.clear();
    this.progress.clear();
    for (const e of entries) {
      if (migrationSlotOf(this.d.product, e.key) === null) continue;
      try {
        const m = parseMigration(e.value);
        this.records.set(m.slot, m);
        if (m.phase === 'done' || m.phase === 'cancelled') continue;
        this.progress.set(m.slot, freshProgress(m));
      } catch (err) {
        this.d.log(`ignoring unreadable migration record ${e.key}: ${(err as Error).message}`);
      }
    }
    this.settings = settings ? parseMigrationSettings(settings.value) : { ...DEFAULT_MIGRATION_SETTINGS };
  }

  // ---- API ----

  /** Creates pending records for `slots` → group `to` (all or none); returns the batch id. */
  async create(slots: number[], to: number): Promise<BatchView> {
    this.requireRunning();
    return this.d.serial.run(async () => {
      const st = await readClusterState(this.d.store, this.d.product);
      const target = st.groups.get(to);
      if (!target) throw new ApiError(400, 'GROUP_NOT_FOUND', `group ${to} does not exist`);
      if (masterOf(target) === null) throw conflict('GROUP_HAS_NO_MASTER', `group ${to} has no master to move slots to`);
      const bySlot = new Map(st.slots.map((s) => [s.id, s.state]));
      const unassigned: number[] = [];
      const there: number[] = [];
      const moving: number[] = [];
      const noMaster: number[] = [];
      for (const s of slots) {
        const state = bySlot.get(s) ?? { kind: 'unassigned' };
        const rec = this.records.get(s);
        if ((rec && !isFinal(rec)) || state.kind === 'migrating') moving.push(s);
        else if (state.kind === 'unassigned') unassigned.push(s);
        else if (state.group === to) there.push(s);
        else if (masterOf(st.groups.get(state.group) ?? { id: 0, servers: [] }) === null) noMaster.push(s);
      }
      if (unassigned.length) throw conflict('SLOT_UNASSIGNED', `slots ${formatSlotList(unassigned)} are unassigned: assign them (slots assign) instead of migrating`);
      if (moving.length) throw conflict('SLOT_MIGRATING', `slots ${formatSlotList(moving)} are already migrating`);
      if (there.length) throw conflict('SLOT_ALREADY_THERE', `slots ${formatSlotList(there)} are already in group ${to}`);
      if (noMaster.length) throw conflict('GROUP_HAS_NO_MASTER', `the groups of slots ${formatSlotList(noMaster)} have no master`);
      const id = `m-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const now = new Date().toISOString();
      const recs: Migration[] = slots.map((slot) => {
        const s = bySlot.get(slot) as Extract<SlotState, { kind: 'online' }>;
        return { slot, from: s.group, to, phase: 'pending', createdAt: now, updatedAt: now, batch: id };
      });
      await this.writeSteps(recs.map((m) => ({ record: m })), null);
      for (const m of recs) {
        this.records.set(m.slot, m);
        this.progress.set(m.slot, freshProgress(m));
      }
      await this.estimate(recs, st);
      this.d.log(`migration ${id}: slots ${formatSlotList(slots)} to group ${to} (${recs.length} slot(s)) pending`);
      this.kick();
      return this.batchView(id)!;
    });
  }

  /** The slots a selector names: a batch id (`m-…`) or a slot list ("0-511,600"). */
  select(selector: string): Migration[] {
    const out = selector.startsWith('m-')
      ? [...this.records.values()].filter((m) => m.batch === selector)
      : parseSlotList(selector).map((s) => this.records.get(s)).filter((m): m is Migration => m !== undefined);
    if (out.length === 0) throw new ApiError(404, 'NOT_FOUND', `no migration ${selector}`);
    return out.sort((a, b) => a.slot - b.slot);
  }

  async pause(selector: string, paused: boolean): Promise<{ changed: number }> {
    this.requireRunning();
    return this.d.serial.run(async () => {
      const todo = this.select(selector).filter((m) => !isFinal(m) && Boolean(m.paused) !== paused && m.phase !== 'finished');
      const now = new Date().toISOString();
      await this.writeSteps(todo.map((m) => ({ record: { ...m, paused, updatedAt: now } })), null);
      this.kick();
      return { changed: todo.length };
    });
  }

  async cancel(selector: string): Promise<{ changed: number }> {
    this.requireRunning();
    return this.d.serial.run(async () => {
      const sel = this.select(selector);
      const late = sel.filter((m) => m.phase === 'finished' || (m.phase === 'done' && !m.reverse));
      const todo = sel.filter((m) => !isFinal(m) && !m.reverse && !m.cancelRequested && m.phase !== 'finished');
      if (todo.length === 0 && late.length > 0) {
        throw conflict('MIGRATION_FINISHED', `slots ${formatSlotList(late.map((m) => m.slot))} already moved; migrate them back instead`);
      }
      const now = new Date().toISOString();
      await this.writeSteps(todo.map((m) => ({ record: { ...m, cancelRequested: true, updatedAt: now } })), null);
      this.kick();
      return { changed: todo.length };
    });
  }

  async getSettings(): Promise<MigrationSettings> {
    const e = await this.d.store.get(migrationSettingsKey(this.d.product));
    return e ? parseMigrationSettings(e.value) : { ...DEFAULT_MIGRATION_SETTINGS };
  }

  async updateSettings(change: Partial<MigrationSettings>): Promise<MigrationSettings> {
    this.requireRunning();
    return this.d.serial.run(async () => {
      const next = { ...(await this.getSettings()), ...change };
      const key = migrationSettingsKey(this.d.product);
      const value = encodeMigrationSettings(next); // validates
      await this.txn([], [{ op: 'put', key, value }]);
      this.settings = parseMigrationSettings(value);
      this.kick();
      return this.settings;
    });
  }

  /** Records from the store (a standby answers reads too), grouped by batch. */
  async list(): Promise<BatchView[]> {
    if (!this.running) await this.loadForRead();
    return [...this.records.batchIds()].map((id) => this.batchView(id)!).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  async get(selector: string): Promise<BatchDetail> {
    if (!this.running) await this.loadForRead();
    const recs = this.select(selector);
    const view = selector.startsWith('m-') ? this.batchView(selector)! : this.viewOf(selector, recs);
    return { ...view, records: recs.map((m) => ({ ...m, progress: this.progress.get(m.slot) ?? null })) };
  }

  private async loadForRead(): Promise<void> {
    const entries = await this.d.store.list(migrationsPrefix(this.d.product));
    const recs = new MigrationRecords();
    for (const e of entries) {
      if (migrationSlotOf(this.d.product, e.key) === null) continue;
      try {
        const m = parseMigration(e.value);
        recs.set(m.slot, m);
      } catch { /* reported by the leader's load */ }
    }
    this.records = recs;
  }

  private batchView(id: string): BatchView | null {
    const of = this.records.batchRecords(id);
    return of ? this.liveView(id, of) : null;
  }

  private viewOf(id: string, recs: Migration[]): BatchView {
    return this.liveView(id, recordsView(recs));
  }

  /** A batch's view: what its records decide (`of`, cached per batch) and the movers' live progress. */
  private liveView(id: string, of: RecordsView): BatchView {
    const { recs } = of;
    let moved = 0, bytes = 0, live = 0, liveBytes = 0, first = Infinity, last = 0;
    let remaining: number | null = 0, bytesTotal: number | null = 0;
    const errors: BatchView['errors'] = [];
    for (const m of recs) {
      const p = this.progress.get(m.slot);
      moved += p?.keysMoved ?? m.keysMoved ?? 0;
      bytes += p?.bytesMoved ?? m.bytesMoved ?? 0;
      live += p?.keysMoved ?? 0;
      liveBytes += p?.bytesMoved ?? 0;
      const final = isFinal(m);
      if (!final) {
        const r = p?.ready ? 0 : p?.keysRemaining ?? null;
        remaining = remaining === null || r === null ? null : remaining + r;
        const bt = p?.bytesTotal ?? null;
        bytesTotal = bytesTotal === null || bt === null ? null : bytesTotal + bt;
      } else bytesTotal = bytesTotal === null ? null : bytesTotal + (m.bytesMoved ?? 0);
      if (p?.startedAt) first = Math.min(first, p.startedAt);
      if (p?.lastAt) last = Math.max(last, p.lastAt);
      if (p?.error && !final) errors.length < 10 && errors.push({ slot: m.slot, error: p.error });
      else if (m.error && !final && errors.length < 10) errors.push({ slot: m.slot, error: m.error });
    }
    const elapsed = last > first ? (Math.max(last, Date.now()) - first) / 1000 : 0;
    const keysPerSecond = elapsed > 0 ? live / elapsed : 0;
    const done = of.open === 0;
    return {
      id, to: of.to, from: [...of.from], createdAt: of.createdAt, updatedAt: of.updatedAt,
      state: of.state, slots: { ...of.slots }, slotList: of.slotList,
      keys: { moved, remaining: done ? 0 : remaining },
      bytes: { moved: bytes, total: bytesTotal === null ? null : Math.max(bytesTotal, bytes) },
      rate: { keysPerSecond: Math.round(keysPerSecond), bytesPerSecond: elapsed > 0 ? Math.round(liveBytes / elapsed) : 0 },
      etaSeconds: done ? 0 : remaining !== null && keysPerSecond > 0 ? Math.round((remaining / keysPerSecond) * 10) / 10 : null,
      errors,
    };
  }

  /** Keys and bytes per slot from the sources' slot stats (best effort: progress works without it). */
  private async estimate(recs: Migration[], st: ClusterState): Promise<void> {
    const bySource = new Map<string, number[]>();
    for (const m of recs) {
      const addr = masterOf(st.groups.get(m.from)!);
      if (!addr) continue;
      bySource.set(addr, [...(bySource.get(addr) ?? []), m.slot]);
    }
    await Promise.all([...bySource].map(async ([addr, slots]) => {
      try {
        const stats = await this.d.nodes.slotStats(addr, slots);
        const found = new Map(stats.map((s) => [s.slot, s]));
        for (const slot of slots) {
          const p = this.progress.get(slot);
          if (!p || p.keysRemaining !== null) continue;
          p.keysRemaining = found.get(slot)?.keys ?? 0;
          p.bytesTotal = found.get(slot)?.bytes ?? 0;
        }
      } catch (err) {
        this.d.log(`slot stats of ${addr} unavailable (${(err as Error).message}); progress without totals`);
      }
    }));
  }

  // ---- the scheduler ----

  private requireRunning(): void {
    if (!this.running) throw new NotLeaderError('this coordinator is not leading (migrations run on the leader)');
  }

  /** Runs the scheduler soon (coalesced: one pass at a time, one more if kicked during it). */
  kick(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    const gen = this.generation;
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.d.serial.run(() => this.pass(gen));
        } catch (err) {
          if (err instanceof NotLeaderError) return;
          this.d.log(`migration step failed (${(err as Error).message}); retrying`);
          await this.sleep(RETRY_MIN_MS * 2);
        }
      } while (this.again && this.running && gen === this.generation);
    })().finally(() => {
      this.ticking = null;
    });
  }

  /** Waits until no scheduler pass or mover call is running (tests). */
  async idle(): Promise<void> {
    while (this.ticking || this.workers.size > 0 || this.ackWaits.size > 0 || this.finishWait) {
      await Promise.allSettled([this.ticking, this.finishWait?.done, ...this.workers.values(), ...this.ackWaits]);
    }
  }

  /** One scheduler pass: at most one of each kind of step, in this order. */
  private async pass(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    const open = [...this.records.values()].filter((m) => !isFinal(m));
    if (open.length === 0) return;
    const busy = (m: Migration) => this.workers.has(m.slot);
    // 1. cancels whose mover call is over
    const cancels = open.filter((m) => m.cancelRequested && !m.reverse && !busy(m));
    if (cancels.length) await this.cancelStep(cancels);
    // 2. finished: tell the nodes (again, after a crash), then done
    const finished = open.filter((m) => m.phase === 'finished');
    if (finished.length) await this.completeStep(finished);
    // 3. slots that are empty on their source: finish them together (makes room for step 4)
    const ready = open.filter((m) => m.phase === 'migrating' && !m.cancelRequested && !busy(m) && this.progress.get(m.slot)?.ready);
    if (ready.length) {
      const wait = this.lastFinishAt + this.finishCoalesceMs - Date.now();
      if (wait > 0 && this.workers.size > 0) this.finishLater(wait, gen);
      else {
        this.endFinishWait();
        this.lastFinishAt = Date.now();
        await this.finishStep(ready);
      }
    }
    // 4. preparing: once the proxies applied the table, tell the nodes and start moving
    const preparing = open.filter((m) => m.phase === 'preparing' && !m.cancelRequested);
    if (preparing.length) await this.admitStep(preparing);
    // 5. pending slots, up to the window
    const active = [...this.records.values()].filter((m) => !isFinal(m) && m.phase !== 'pending').length;
    const room = this.settings.batch - active;
    // Biggest first (estimate() read their bytes): the long moves start early, the small ones fill in.
    const pending = open.filter((m) => m.phase === 'pending' && !m.paused && !m.cancelRequested).sort(this.biggestFirst).slice(0, Math.max(0, room));
    if (pending.length) await this.prepareStep(pending);
    // 6. movers
    this.startWorkers(gen);
  }

  /** Runs the scheduler again once the finish steps' interval has passed (one wait at a time). */
  private finishLater(ms: number, gen: number): void {
    if (this.finishWait) return;
    let end!: () => void;
    const done = new Promise<void>((r) => (end = r));
    const timer = setTimeout(() => {
      this.endFinishWait();
      if (gen === this.generation) this.kick();
    }, ms);
    this.finishWait = { timer, done, end };
  }

  /** The wait is over: it ran out, a finish step runs now anyway, or this coordinator stops. */
  private endFinishWait(): void {
    const w = this.finishWait;
    if (w === null) return;
    this.finishWait = null;
    clearTimeout(w.timer);
    w.end();
  }

  /** Orders slots by their bytes on the source (unknown = 0), biggest first, then by slot. */
  private readonly biggestFirst = (a: Migration, b: Migration): number =>
    (this.progress.get(b.slot)?.bytesTotal ?? 0) - (this.progress.get(a.slot)?.bytesTotal ?? 0) || a.slot - b.slot;

  private async prepareStep(recs: Migration[]): Promise<void> {
    const now = new Date().toISOString();
    const next = recs.map((m) => ({ ...m, phase: 'preparing' as const, updatedAt: now }));
    const st = await this.tableStep(next.map((m) => ({ record: m, slot: { kind: 'migrating', from: src(m), to: dst(m) } as SlotState })));
    this.crash('after-prepare-txn');
    // The nodes are not told yet: they serve the slots as before while the proxies catch up.
    for (const m of next) this.d.reconciler.held.add(m.slot);
    this.awaitProxies(next.map((m) => m.slot), st.revision);
  }

  /**
   * Preparing slots whose proxy wait is over go to the nodes and the movers, up to the window of
   * slots migrating on the nodes (reverse moves of a cancel first). A preparing slot without a
   * wait (resumed after a crash) gets one for the table as it is now.
   */
  private async admitStep(preparing: Migration[]): Promise<void> {
    const unwaited = preparing.filter((m) => !this.acks.has(m.slot));
    if (unwaited.length) this.awaitProxies(unwaited.map((m) => m.slot), (await readClusterState(this.d.store, this.d.product)).revision);
    const moving = [...this.records.values()].filter((m) => m.phase === 'migrating' && !m.paused).length;
    const room = Math.max(ADMIT_MIN, this.settings.concurrency * ADMIT_PER_MOVER) - moving;
    const acked = preparing.filter((m) => this.acks.get(m.slot)?.over && !m.paused)
      .sort((a, b) => Number(Boolean(b.reverse)) - Number(Boolean(a.reverse)) || this.biggestFirst(a, b))
      .slice(0, Math.max(0, room));
    if (acked.length) await this.startMovingStep(acked);
  }

  /**
   * preparing → migrating: the records and a new epoch in the store (the nodes' slot state
   * changes), then the nodes told (source MIGRATING, target IMPORTING). Should telling fail, the
   * reconcile loop tells them (nothing is held any more) and the mover retries until they know.
   */
  private async startMovingStep(recs: Migration[]): Promise<void> {
    const now = new Date().toISOString();
    this.stats.steps++;
    const before = await readClusterState(this.d.store, this.d.product);
    recs = await this.copyScripting(recs, before);
    if (recs.length === 0) return;
    await this.writeSteps(recs.map((m) => ({ record: { ...m, phase: 'migrating' as const, updatedAt: now } })), before);
    for (const m of recs) {
      this.d.reconciler.held.delete(m.slot);
      this.acks.delete(m.slot);
    }
    const st = await readClusterState(this.d.store, this.d.product);
    const rep = await this.d.reconciler.reconcileAll(st, true);
    if (rep.failed.length) throw new Error(`nodes not told yet: ${rep.failed.map((f) => `${f.addr}: ${f.error}`).join('; ')}`);
    this.crash('after-prepare-reconcile');
  }

  /**
   * Before a target imports, it gets its source's function libraries and cached scripts (once per
   * source/target pair of the step; not for a cancel's move back). The slots of a pair whose copy
   * failed stay preparing with the error in their progress (retried at the next pass, as the tick
   * runs it); the others go on, so one unreachable target never holds up other migrations.
   */
  private async copyScripting(recs: Migration[], st: ClusterState): Promise<Migration[]> {
    if (!this.d.scripts) return recs;
    const pairs = new Map<string, { from: number; to: number; recs: Migration[] }>();
    const go: Migration[] = [];
    for (const m of recs) {
      // A cancel's move back goes to the group that served the slot before: it has them already.
      if (m.reverse) {
        go.push(m);
        continue;
      }
      const key = `${src(m)}>${dst(m)}`;
      let p = pairs.get(key);
      if (!p) pairs.set(key, (p = { from: src(m), to: dst(m), recs: [] }));
      p.recs.push(m);
    }
    for (const { from, to, recs: group } of pairs.values()) {
      const fromAddr = masterOf(st.groups.get(from) ?? { id: from, servers: [] });
      const toAddr = masterOf(st.groups.get(to) ?? { id: to, servers: [] });
      let error: string | null = null;
      try {
        if (fromAddr === null || toAddr === null) throw new Error(`group ${fromAddr === null ? from : to} has no master to copy libraries and scripts ${fromAddr === null ? 'from' : 'to'}`);
        await this.d.scripts.copy({ group: from, addr: fromAddr }, { group: to, addr: toAddr });
      } catch (err) {
        error = (err as Error).message;
        this.d.log(`migration of slots ${formatSlotList(group.map((m) => m.slot).sort((a, b) => a - b))} waits: ${error}; retrying`);
      }
      for (const m of group) {
        const p = this.progress.get(m.slot);
        if (p) p.error = error;
      }
      if (error === null) go.push(...group);
    }
    return go;
  }

  /**
   * Starts the bounded wait for live proxies to apply `revision`, outside the Serial (finishing
   * and other steps go on meanwhile); when it is over the scheduler runs again.
   */
  private awaitProxies(slots: number[], revision: string): void {
    const w = { over: false };
    for (const s of slots) this.acks.set(s, w);
    const gen = this.generation;
    const p: Promise<void> = this.waitForProxies(revision, gen).catch(() => {}).finally(() => {
      this.ackWaits.delete(p);
      w.over = true;
      if (gen === this.generation) this.kick();
    });
    this.ackWaits.add(p);
  }

  /**
   * migrating → done (cancelled for a reverse move) in ONE write: the table online(to) and the
   * final record together. The nodes' state is a function of the table, so the record needs no
   * "finished" stop on the way: if telling the nodes fails or this coordinator dies, reconcile
   * (the loop, and start() of the next leader) tells them from the table. In memory the slots
   * stay `finished` until the nodes were told, so "done" in the API means the nodes switched.
   */
  private async finishStep(recs: Migration[]): Promise<void> {
    const t0 = Date.now();
    const now = new Date().toISOString();
    const finished = recs.map((m) => {
      const p = this.progress.get(m.slot);
      return { ...m, phase: 'finished' as const, updatedAt: now, keysMoved: (m.keysMoved ?? 0) + (p?.keysMoved ?? 0), bytesMoved: (m.bytesMoved ?? 0) + (p?.bytesMoved ?? 0) };
    });
    const st = await this.tableStep(finished.map((m) => ({ record: finalRecord(m, now), slot: { kind: 'online', group: dst(m) } as SlotState })));
    for (const m of finished) this.records.set(m.slot, m);
    const t1 = Date.now();
    this.crash('after-finish-txn');
    for (const m of finished) {
      const p = this.progress.get(m.slot);
      if (p) { p.keysMoved = 0; p.bytesMoved = 0; }
    }
    const rep = await this.d.reconciler.reconcileAll(st, true);
    if (rep.failed.length) throw new Error(`nodes not told yet: ${rep.failed.map((f) => `${f.addr}: ${f.error}`).join('; ')}`);
    this.crash('after-finish-reconcile');
    for (const m of finished) this.records.set(m.slot, finalRecord(m, now));
    this.ended(finished);
    this.debug(`finish step: ${recs.length} slot(s), store ${t1 - t0} ms, nodes ${Date.now() - t1} ms`);
  }

  /** finished → done (or cancelled, for a reverse move): once every master was told. */
  private async completeStep(recs: Migration[], state?: ClusterState): Promise<void> {
    const rep = await this.d.reconciler.reconcileAll(state, true);
    if (rep.failed.length) throw new Error(`nodes not told yet: ${rep.failed.map((f) => `${f.addr}: ${f.error}`).join('; ')}`);
    this.crash('after-finish-reconcile');
    const now = new Date().toISOString();
    const next = recs.map((m) => finalRecord(m, now));
    await this.writeSteps(next.map((m) => ({ record: m })), null);
    this.ended(next);
  }

  /** Slots that reached their final phase: progress dropped, finished batches logged. */
  private ended(recs: Migration[]): void {
    for (const m of recs) this.progress.delete(m.slot);
    const batches = new Set(recs.map((m) => m.batch));
    for (const b of batches) {
      const v = b ? this.batchView(b) : null;
      if (v && (v.state === 'done' || v.state === 'cancelled')) this.d.log(`migration ${b}: ${v.state} (${v.slots.total} slot(s), ${v.keys.moved} keys)`);
    }
  }

  private async cancelStep(recs: Migration[]): Promise<void> {
    const now = new Date().toISOString();
    // Never told to the nodes: nothing to undo.
    const early = recs.filter((m) => m.phase === 'pending');
    if (early.length) {
      await this.writeSteps(early.map((m) => {
        const { cancelRequested: _c, paused: _p, ...rest } = m;
        return { record: { ...rest, phase: 'cancelled' as const, updatedAt: now } };
      }), null);
      for (const m of early) this.progress.delete(m.slot);
    }
    // Told: move back whatever reached the target (reverse direction, same phases).
    const told = recs.filter((m) => m.phase === 'preparing' || m.phase === 'migrating');
    if (told.length) {
      const next = told.map((m) => {
        const { cancelRequested: _c, paused: _p, ...rest } = m;
        return { ...rest, reverse: true, phase: 'preparing' as const, updatedAt: now };
      });
      const st = await this.tableStep(next.map((m) => ({ record: m, slot: { kind: 'migrating', from: src(m), to: dst(m) } as SlotState })));
      this.crash('after-cancel-txn');
      for (const m of next) {
        const p = this.progress.get(m.slot);
        if (p) { p.ready = false; p.keysRemaining = null; p.error = null; }
      }
      // Told at once (the nodes have the slot open in the old direction already), then the wait.
      for (const m of next) this.d.reconciler.held.delete(m.slot);
      await this.d.reconciler.reconcileAll(st, true);
      this.awaitProxies(next.map((m) => m.slot), st.revision);
    }
  }

  private startWorkers(gen: number): void {
    // Runs each time a mover ends: it stops once the movers are full, not after listing every record.
    for (const m of this.records.values()) {
      if (this.workers.size >= this.settings.concurrency) break;
      if (m.phase !== 'migrating' || m.paused || m.cancelRequested || this.progress.get(m.slot)?.ready || this.workers.has(m.slot)) continue;
      const lane = this.freeLane();
      const w = this.moveSlot(m.slot, lane, gen).catch((err: unknown) => {
        if (!(err instanceof NotLeaderError)) this.d.log(`mover of slot ${m.slot} stopped: ${(err as Error).message}`);
      }).finally(() => {
        this.workers.delete(m.slot);
        this.lanes.delete(lane);
        // The next slot's mover starts now, not after the steps in the Serial: movers keep the
        // sources busy while a step runs, and the slots they empty meanwhile share the next step.
        if (this.running && gen === this.generation) this.startWorkers(gen);
        this.kick();
      });
      this.workers.set(m.slot, w);
    }
  }

  private lanes = new Set<number>();
  private freeLane(): number {
    let i = 0;
    while (this.lanes.has(i)) i++;
    this.lanes.add(i);
    return i;
  }

  /** Calls the mover for one slot until it is empty on its source, paused, cancelled or we stop leading. */
  private async moveSlot(slot: number, lane: number, gen: number): Promise<void> {
    let backoff = RETRY_MIN_MS;
    for (;;) {
      const m = this.records.get(slot);
      if (!m || m.phase !== 'migrating' || m.paused || m.cancelRequested || !this.running || gen !== this.generation) return;
      const st = await readClusterStateCached(this, this.d.store, this.d.product);
      const source = masterOf(st.groups.get(src(m)) ?? { id: 0, servers: [] });
      const target = masterOf(st.groups.get(dst(m)) ?? { id: 0, servers: [] });
      const p = this.progress.get(slot) ?? freshProgress(m);
      this.progress.set(slot, p);
      if (!source || !target) {
        p.error = `group ${source ? dst(m) : src(m)} has no master`;
        await this.sleep(RETRY_MAX_MS);
        continue;
      }
      await this.throttle();
      // Paused, cancelled or deposed while waiting for the throttle: no call (a pause must not
      // be followed by one more move).
      const latest = this.records.get(slot);
      if (!latest || latest.phase !== 'migrating' || latest.paused || latest.cancelRequested || !this.running || gen !== this.generation) return;
      try {
        this.stats.moverCalls++;
        p.calls++;
        const r = await this.d.nodes.migrateSlot(source, lane, slot, target, {
          maxKeys: this.settings.batchKeys, maxBytes: this.settings.batchBytes, timeoutMs: MIGRATE_TIMEOUT_MS,
        });
        this.crash('after-move-call');
        const now = Date.now();
        p.startedAt ??= now;
        p.lastAt = now;
        p.keysMoved += r.keys;
        p.bytesMoved += r.bytes;
        p.keysRemaining = r.remaining;
        p.error = null;
        this.stats.keysMoved += r.keys;
        this.stats.bytesMoved += r.bytes;
        this.charge(r.keys);
        backoff = RETRY_MIN_MS;
        if (r.remaining === 0) {
          p.ready = true;
          return;
        }
      } catch (err) {
        this.stats.moverErrors++;
        p.error = (err as Error).message;
        if (err instanceof CrashError) throw err;
        await this.countUnreported(source, slot, p);
        await this.sleep(backoff);
        backoff = Math.min(RETRY_MAX_MS, backoff * 2);
      }
    }
  }

  /**
   * A mover call that failed on our side (its TIMEOUT ran out, the link dropped) may still have
   * moved keys on the node: what left the source since the last known count is counted as moved,
   * so the progress matches the data (best effort: a node that does not answer counts nothing).
   */
  private async countUnreported(source: string, slot: number, p: SlotProgress): Promise<void> {
    if (p.keysRemaining === null) return;
    try {
      const [now] = await this.d.nodes.slotStats(source, [slot]);
      const left = now?.keys ?? 0;
      if (left >= p.keysRemaining) return;
      const moved = p.keysRemaining - left;
      const bytes = p.bytesTotal ? Math.round((p.bytesTotal * moved) / Math.max(1, p.keysRemaining)) : 0; // estimated
      p.keysMoved += moved;
      p.bytesMoved += bytes;
      this.stats.keysMoved += moved;
      this.stats.bytesMoved += bytes;
      p.keysRemaining = left;
    } catch { /* unknown: the next call's reply says */ }
  }

  /** Waits while the keys-per-second budget is spent. */
  private async throttle(): Promise<void> {
    if (this.settings.keysPerSecond <= 0) return;
    const wait = this.throttleNextAt - Date.now();
    if (wait > 0) await this.sleep(Math.min(wait, RETRY_MAX_MS));
  }

  private charge(keys: number): void {
    if (this.settings.keysPerSecond <= 0) return;
    this.throttleNextAt = Math.max(this.throttleNextAt, Date.now()) + (keys * 1000) / this.settings.keysPerSecond;
  }

  /**
   * Bounded wait until every live proxy applied `revision` (a dead proxy's lease drops it by
   * itself; until then, once it let one wait run out, it is not waited for again: `laggards`).
   */
  private async waitForProxies(revision: string, gen: number): Promise<void> {
    const want = BigInt(revision);
    const deadline = Date.now() + this.settings.proxyAckTimeoutMs;
    let poll = PROXY_POLL_MIN_MS;
    for (;; poll = Math.min(PROXY_POLL_MAX_MS, poll * 2)) {
      if (gen !== this.generation) return;
      const behind: string[] = [];
      try {
        const seen = new Set<string>();
        for (const e of await this.d.store.list(proxiesPrefix(this.d.product))) {
          let p;
          try {
            p = parseProxyInfo(e.value);
          } catch { continue; /* not a proxy */ }
          seen.add(p.id);
          const applied = BigInt(p.tableRevision);
          const missed = this.laggards.get(p.id);
          if (missed !== undefined) {
            if (applied < missed) continue;
            this.laggards.delete(p.id); // caught up: waited for again
          }
          if (applied < want) behind.push(p.id);
        }
        for (const id of this.laggards.keys()) if (!seen.has(id)) this.laggards.delete(id); // its lease dropped
      } catch (err) {
        if (Date.now() >= deadline) return void this.d.log(`cannot read the proxies' acks (${(err as Error).message}); going on`);
        await this.sleep(Math.min(poll, Math.max(1, deadline - Date.now())));
        continue;
      }
      if (behind.length === 0) return;
      if (Date.now() >= deadline) {
        for (const id of behind) this.laggards.set(id, want);
        this.d.log(`proxies ${behind.join(', ')} did not apply table revision ${revision} within ${this.settings.proxyAckTimeoutMs} ms; going on (nodes redirect them; not waited for again until they catch up)`);
        return;
      }
      await this.sleep(Math.min(poll, Math.max(1, deadline - Date.now())));
    }
  }

  // ---- store writes ----

  /** Slots per txn: 2 ops each, 1 for the epoch, within what the store takes. */
  private slotsPerTxn(): number {
    const max = (this.d.store as { maxTxnOps?: number }).maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    return max === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((max - 1) / 2));
  }

  /** Writes records (and table entries) in fenced txns of slotsPerTxn() slots; the first raises the epoch. */
  private async writeSteps(items: Array<{ record: Migration; slot?: SlotState }>, st: ClusterState | null): Promise<string | null> {
    let revision: string | null = null;
    const perTxn = this.slotsPerTxn();
    for (let i = 0; i < items.length || (i === 0 && st !== null); i += perTxn) {
      const chunk = items.slice(i, i + perTxn);
      const ops: TxnOp[] = [];
      const compares = [];
      if (i === 0 && st !== null) {
        const bump = epochBump(this.d.product, st.epochEntry, st.epoch + 1);
        compares.push(bump.compare);
        ops.push(bump.op);
      }
      for (const { record, slot } of chunk) {
        ops.push({ op: 'put', key: migrationKey(this.d.product, record.slot), value: encodeMigration(record) });
        if (slot) ops.push({ op: 'put', key: slotKey(this.d.product, record.slot), value: encodeSlot({ id: record.slot, state: slot }) });
      }
      revision = await this.txn(compares, ops);
      for (const { record } of chunk) this.records.set(record.slot, record);
      if (items.length === 0) break;
    }
    return revision;
  }

  /** A step that changes the table: raises the epoch; returns the state the nodes must now have. */
  private async tableStep(items: Array<{ record: Migration; slot: SlotState }>): Promise<ClusterState> {
    this.stats.steps++;
    const before = await readClusterState(this.d.store, this.d.product);
    await this.writeSteps(items, before);
    return readClusterState(this.d.store, this.d.product);
  }

  private async txn(compares: Array<{ key: string; revision: string | null }>, ops: TxnOp[]): Promise<string> {
    this.stats.txns++;
    let fence;
    try {
      fence = this.d.leader.fence();
    } catch (err) {
      this.running = false; // deposed: no further step or mover call until elected again (start())
      throw err;
    }
    const res = await this.d.store.txn([fence, ...compares], ops);
    if (res.ok) return res.revision;
    if (!(await this.d.leader.stillLeader())) {
      this.running = false;
      throw new NotLeaderError('lost leadership during a migration step');
    }
    throw new Error('the epoch changed under a migration step (another writer?); retrying');
  }

  private debug(msg: string): void {
    this.d.debug?.(msg);
  }

  private crash(point: CrashPoint): void {
    if (this.crashAt === point) {
      this.crashAt = null;
      this.running = false;
      this.generation++;
      if (this.tickTimer) clearInterval(this.tickTimer);
      this.endFinishWait();
      throw new CrashError(`simulated crash at ${point}`);
    }
  }
}

/** Thrown by the crash hook: the instance behaves as dead afterwards (tests start a new one). */
export class CrashError extends NotLeaderError {}

/** The record of a slot whose move is over: done, or cancelled for a reverse move. */
function finalRecord(m: Migration, now: string): Migration {
  const { cancelRequested: _c, paused: _p, error: _e, ...rest } = m;
  return { ...rest, phase: m.reverse ? 'cancelled' : 'done', updatedAt: now };
}

const src = (m: Migration) => (m.reverse ? m.to : m.from);
const dst = (m: Migration) => (m.reverse ? m.from : m.to);
const isFinal = (m: Migration) => m.phase === 'done' || m.phase === 'cancelled';
const batchOf = (m: Migration) => m.batch ?? 'm-unbatched';

/** What the records alone decide of a batch's view (the rest is the movers' live progress). */
interface RecordsView {
  /** In slot order; shared: never modified. */
  recs: readonly Migration[];
  open: number;
  state: BatchView['state'];
  slots: BatchView['slots'];
  to: number;
  from: readonly number[];
  createdAt: string;
  updatedAt: string;
  slotList: string;
}

/** `recs`: one or more records, in slot order. */
function recordsView(recs: readonly Migration[]): RecordsView {
  const slots = { total: recs.length, pending: 0, preparing: 0, migrating: 0, finished: 0, done: 0, cancelled: 0, paused: 0 };
  let open = 0, openPaused = 0, cancelling = false;
  let createdAt = recs[0]!.createdAt, updatedAt = recs[0]!.updatedAt;
  const from = new Set<number>();
  for (const m of recs) {
    slots[m.phase]++;
    from.add(m.from);
    if (m.createdAt < createdAt) createdAt = m.createdAt;
    if (m.updatedAt > updatedAt) updatedAt = m.updatedAt;
    if (isFinal(m)) continue;
    open++;
    if (m.paused) {
      slots.paused++;
      openPaused++;
    }
    if (m.reverse || m.cancelRequested) cancelling = true;
  }
  const state: BatchView['state'] = open === 0
    ? (slots.cancelled === recs.length ? 'cancelled' : 'done')
    : cancelling ? 'cancelling' : openPaused === open ? 'paused' : 'running';
  return {
    recs, open, state, slots, to: recs[0]!.to, from: [...from].sort((a, b) => a - b),
    createdAt, updatedAt, slotList: formatSlotList(recs.map((m) => m.slot)),
  };
}

/**
 * The records by slot, and by batch with the part of each batch's view that the records alone
 * decide (RecordsView), kept until one of the batch's records changes: the list of migrations is
 * polled (a UI, `tessera admin migrations --watch`, the bench every 50 ms) and rebuilt that from
 * every record of a 512-slot move on each call. Every change goes through set/delete/clear.
 */
class MigrationRecords extends Map<number, Migration> {
  private readonly batches = new Map<string, { recs: Map<number, Migration>; view: RecordsView | null }>();

  override set(slot: number, m: Migration): this {
    this.leave(slot);
    super.set(slot, m);
    const id = batchOf(m);
    let b = this.batches.get(id);
    if (b === undefined) this.batches.set(id, (b = { recs: new Map(), view: null }));
    b.recs.set(slot, m);
    b.view = null;
    return this;
  }

  override delete(slot: number): boolean {
    this.leave(slot);
    return super.delete(slot);
  }

  override clear(): void {
    this.batches.clear();
    super.clear();
  }

  /** The batches with at least one record. */
  batchIds(): IterableIterator<string> {
    return this.batches.keys();
  }

  /** What the records of batch `id` decide of its view (cached), or null if it has none. */
  batchRecords(id: string): RecordsView | null {
    const b = this.batches.get(id);
    if (b === undefined) return null;
    return (b.view ??= recordsView([...b.recs.values()].sort((x, y) => x.slot - y.slot)));
  }

  /** Takes slot's current record out of its batch. */
  private leave(slot: number): void {
    const old = super.get(slot);
    if (old === undefined) return;
    const id = batchOf(old);
    const b = this.batches.get(id);
    if (b === undefined) return;
    b.recs.delete(slot);
    b.view = null;
    if (b.recs.size === 0) this.batches.delete(id);
  }
}

function freshProgress(m: Migration): SlotProgress {
  void m;
  return { keysMoved: 0, bytesMoved: 0, keysRemaining: null, bytesTotal: null, startedAt: null, lastAt: null, ready: false, error: null, calls: 0 };
}

function summarize(recs: Migration[]): string {
  const by = new Map<string, number[]>();
  for (const m of recs) by.set(m.phase, [...(by.get(m.phase) ?? []), m.slot]);
  return [...by].map(([phase, slots]) => `${phase} ${formatSlotList(slots.sort((a, b) => a - b))}`).join('; ');
}

/** Group masters change rarely; movers re-read them at most every 500 ms. */
const stateCache = new WeakMap<Migrator, { at: number; st: Promise<ClusterState> }>();
function readClusterStateCached(owner: Migrator, store: CoordStore, product: string): Promise<ClusterState> {
  const c = stateCache.get(owner);
  if (c && Date.now() - c.at < 500) return c.st;
  const st = readClusterState(store, product);
  stateCache.set(owner, { at: Date.now(), st });
  st.catch(() => stateCache.delete(owner));
  return st;
}

/** "0-511,600" (also with spaces after commas) → sorted distinct slot ids; ApiError 400 if malformed. */
export function parseSlotList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (!m) throw new ApiError(400, 'BAD_REQUEST', `slots must look like 0-511,600 (got ${JSON.stringify(text)})`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b || b >= SLOT_COUNT) throw new ApiError(400, 'BAD_REQUEST', `slot range ${part} must be within 0-${SLOT_COUNT - 1}, low to high`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y);
}

/** What a leader runs: reconcile (now and every second) and the migrations; a standby runs neither. */
export function driveWhileLeading(
  leadership: { on(event: 'elected' | 'deposed', fn: () => void): unknown },
  work: { migrator: Migrator; loop: { start(): void; stop(): Promise<void> }; log: (msg: string) => void },
): { stop(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const then = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((err: unknown) => work.log(`coordinator work: ${(err as Error).message}`));
  };
  leadership.on('elected', () => then(async () => {
    work.loop.start();
    await work.migrator.start();
  }));
  leadership.on('deposed', () => then(async () => {
    await work.migrator.stop();
    await work.loop.stop();
  }));
  return {
    stop: async () => {
      then(async () => {
        await work.migrator.stop();
        await work.loop.stop();
      });
      await chain;
    },
  };
}
