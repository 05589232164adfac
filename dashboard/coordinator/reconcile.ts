// Telling nodes their slots. A master's whole slot state is a pure function of the store's slot
// table and groups (desiredRanges): online(g) → OWNED in g, NONE OWNER <g's master> elsewhere;
// migrating(a, b) → MIGRATING to b's master on a, IMPORTING from a's master on b. So every change
// the coordinator makes is: write the table (and raise the epoch) in the store, then reconcile —
// push that function to every master of a cluster-mode group. Reconcile is also what repairs a
// node that restarted (unconfirmed), was replaced, or disagrees for any other reason, and it is
// idempotent: a coordinator that crashed half-way just runs it again.
//
// Epochs: one product-wide configuration epoch in the store (epochKey), raised with
// compare-and-swap (fenced by the leader lock). A node behind the store's epoch is SET at it; a
// node that agrees at the same epoch but is unconfirmed gets CONFIRM; a node that disagrees at the
// store's epoch (or is ahead of it) needs a new epoch: the store's is raised past every node's first.
import { type SlotRoute, encodeEpoch, masterOf } from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';
import type { CoordStore, StoreEntry, TxnOp } from '../../common/store/coord-store.js';
import { epochKey } from '../../common/store/keys.js';
import { type ClusterState, readClusterState } from './cluster-state.js';
import { type LeaderView, NotLeaderError } from './leadership.js';
import type { NodeApi, NodeOwnership, NodeSlotRange } from './node-client.js';

export { type ClusterState, readClusterState };

/** Runs async functions one at a time (every step that raises the epoch or pushes node state). */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

/** The txn parts that raise the epoch from what `entry` holds to `next` (compare-and-swap). */
export function epochBump(product: string, entry: StoreEntry | null, next: number): { compare: { key: string; revision: string | null }; op: TxnOp } {
  const key = epochKey(product);
  return { compare: { key, revision: entry?.revision ?? null }, op: { op: 'put', key, value: encodeEpoch(next) } };
}

const NONE_HELD: ReadonlySet<number> = new Set();

/**
 * The complete slot state group `groupId`'s master must have, as runs. `held`: migrating slots
 * the nodes must still serve as their source's (a migration waiting for the proxies' acks).
 */
export function desiredRanges(table: readonly SlotRoute[], groupId: number, held: ReadonlySet<number> = NONE_HELD): NodeSlotRange[] {
  const out: NodeSlotRange[] = [];
  // One slot's answer, reused: an object per slot and call was most of this function's CPU.
  const d: DesiredSlot = { state: 'none', peer: null };
  let last: NodeSlotRange | null = null;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const route = table[slot]!;
    desiredSlot(route, groupId, held.size > 0 && route.kind === 'migrating' && held.has(slot), d);
    if (last !== null && last.state === d.state && last.peer === d.peer) last.end = slot;
    else out.push((last = { start: slot, end: slot, state: d.state, peer: d.peer }));
  }
  return out;
}

interface DesiredSlot {
  state: NodeSlotRange['state'];
  peer: string | null;
}

/** Sets `d` to what group `g`'s master must have of a slot; `held`: a migrating slot still served as its source's. */
function desiredSlot(route: SlotRoute, g: number, held: boolean, d: DesiredSlot): void {
  let state: NodeSlotRange['state'] = 'none';
  let peer: string | null = null;
  if (route.kind === 'online') {
    if (route.group === g) state = 'owned';
    else peer = route.master;
  } else if (route.kind === 'migrating') {
    if (held) {
      if (route.from === g) state = 'owned';
      else peer = route.fromMaster;
    } else if (route.from === g) {
      // A migration whose other side has no master cannot run: the side that has one keeps serving.
      if (route.toMaster) {
        state = 'migrating';
        peer = route.toMaster;
      } else state = 'owned';
    } else if (route.to === g) {
      if (route.fromMaster) {
        state = 'importing';
        peer = route.fromMaster;
      }
    } else peer = route.fromMaster;
  }
  d.state = state;
  d.peer = peer;
}

/**
 * Runs spelled out per slot: each slot's state and peer ('-' for none), later runs winning as on
 * a node. Two arrays, not a "state peer" word per slot: building 2,048 words per node and
 * reconcile was the largest share of reconcile's own CPU during a move (by a profile).
 */
interface PerSlot {
  state: string[];
  peer: string[];
}

function perSlot(ranges: readonly NodeSlotRange[]): PerSlot {
  const state = new Array<string>(SLOT_COUNT).fill('none');
  const peer = new Array<string>(SLOT_COUNT).fill('-');
  for (const r of ranges) {
    const p = r.peer ?? '-';
    for (let s = Math.max(0, r.start); s <= Math.min(r.end, SLOT_COUNT - 1); s++) {
      state[s] = r.state;
      peer[s] = p;
    }
  }
  return { state, peer };
}

/** Slots whose state or peer differ between a node's runs and the desired ones. */
export function differingSlots(have: readonly NodeSlotRange[], want: readonly NodeSlotRange[]): number {
  return differing(perSlot(have), perSlot(want));
}

function differing(a: PerSlot, b: PerSlot): number {
  let n = 0;
  for (let s = 0; s < SLOT_COUNT; s++) if (a.state[s] !== b.state[s] || a.peer[s] !== b.peer[s]) n++;
  return n;
}

export interface ReconcileReport {
  epoch: number;
  /** Masters that already agreed (or run in plain mode: `plain`). */
  agreed: string[];
  plain: string[];
  set: string[];
  confirmed: string[];
  /** Masters that could not be asked or told (retried by the next reconcile). */
  failed: Array<{ addr: string; error: string }>;
}

interface Plan {
  group: number;
  addr: string;
  want: NodeSlotRange[];
  have: NodeOwnership;
  /** have.ranges per slot (spelled out once for both the difference and gains). */
  haveSlots: PerSlot;
  action: 'none' | 'confirm' | 'set' | 'raise';
  differ: number;
}

export class Reconciler {
  /** Reconciles done, and masters told something (for /metrics and tests). */
  readonly stats = { runs: 0, sets: 0, confirms: 0, repairs: 0, raises: 0 };
  private failing = new Map<string, string>();
  /**
   * Hook for failover.ts: masters the health check sees down are skipped (reported failed at once)
   * instead of waiting for their connect timeout, which would hold the Serial for seconds.
   */
  skipNode: ((addr: string) => string | null) | null = null;
  /**
   * Migrating slots whose nodes are not told yet (the migrator waits for the proxies to apply the
   * table first): masters keep serving them as the source's, so no -ASK/-TRYAGAIN window opens
   * while nothing moves. Only an optimisation, so it is dropped for a slot as soon as any master
   * reports it migrating or importing (told by someone else, e.g. a failover): turning a slot
   * back to OWNED after keys may have been created on its target through -ASK would lose them.
   */
  readonly held = new Set<number>();

  constructor(
    private readonly store: CoordStore,
    private readonly product: string,
    private readonly leader: LeaderView,
    private readonly nodes: NodeApi,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Brings every master of a cluster-mode group in line with the store. Call it inside the
   * coordinator's Serial. `state` may be passed by a step that just wrote it (`step`: the
   * differences are that step taking effect, not disagreements worth a log line).
   */
  async reconcileAll(state?: ClusterState, step = false): Promise<ReconcileReport> {
    this.stats.runs++;
    let st = state ?? (await readClusterState(this.store, this.product));
    const report: ReconcileReport = { epoch: st.epoch, agreed: [], plain: [], set: [], confirmed: [], failed: [] };
    const plans: Plan[] = [];
    const asked: Array<{ group: number; addr: string; have: NodeOwnership }> = [];
    await Promise.all([...st.groups.values()].map(async (g) => {
      const addr = masterOf(g);
      if (addr === null) return;
      const skip = this.skipNode?.(addr) ?? null;
      if (skip !== null) return void report.failed.push({ addr, error: skip });
      try {
        const have = await this.nodes.ownership(addr);
        if (have === null) return void report.plain.push(addr);
        asked.push({ group: g.id, addr, have });
      } catch (err) {
        report.failed.push({ addr, error: (err as Error).message });
      }
    }));
    if (this.held.size > 0) this.releaseTold(asked.map((a) => a.have));
    for (const { group, addr, have } of asked) {
      const want = desiredRanges(st.table, group, this.held);
      const haveSlots = perSlot(have.ranges);
      const differ = differing(haveSlots, perSlot(want));
      plans.push({ group, addr, want, have, haveSlots, differ, action: planAction(have, differ, st.epoch) });
    }
    if (plans.some((p) => p.action === 'raise')) {
      // A node disagrees at (or beyond) the store's epoch: only a newer epoch can tell it otherwise.
      const next = Math.max(st.epoch, ...plans.map((p) => p.have.epoch)) + 1;
      const bump = epochBump(this.product, st.epochEntry, next);
      const res = await this.store.txn([this.leader.fence(), bump.compare], [bump.op]);
      if (!res.ok) {
        if (!(await this.leader.stillLeader())) throw new NotLeaderError('lost leadership while raising the epoch');
        throw new Error('the epoch changed during reconcile; retrying later');
      }
      this.stats.raises++;
      st = { ...st, epoch: next, epochEntry: { key: bump.op.key, value: encodeEpoch(next), revision: res.revision, createRevision: st.epochEntry?.createRevision ?? res.revision } };
      report.epoch = next;
      for (const p of plans) if (p.action !== 'none' || p.have.epoch < next) p.action = p.differ === 0 && p.have.epoch === next ? 'confirm' : 'set';
    } else if (plans.some((p) => p.action !== 'none')) {
      // The nodes were asked slowly (a dead one waits for its timeout): if the epoch moved meanwhile
      // (a failover promoted another master), this state is stale, and confirming a returning old
      // master from it would let it take writes. Hook added for failover.ts.
      const now = await this.store.get(epochKey(this.product));
      if ((now?.revision ?? null) !== (st.epochEntry?.revision ?? null)) throw new Error('the epoch changed during reconcile; retrying later');
    }
    // Gainers first: a node that comes to own (or import) a slot is told before the one that
    // gives it up, so the loser's -MOVED/-ASK never points at a node that would bounce it back.
    const tell = async (p: Plan) => {
      try {
        if (p.action === 'none') return void report.agreed.push(p.addr);
        if (p.action === 'confirm') {
          await this.nodes.confirm(p.addr, st.epoch);
          this.stats.confirms++;
          this.log(`node ${p.addr} (group ${p.group}) agreed at epoch ${st.epoch} but was unconfirmed (restarted): confirmed`);
          return void report.confirmed.push(p.addr);
        }
        await this.nodes.setSlots(p.addr, st.epoch, p.want);
        this.stats.sets++;
        if (p.differ > 0 && !step) {
          this.stats.repairs++;
          this.log(`node ${p.addr} (group ${p.group}) at epoch ${p.have.epoch}${p.have.confirmed ? '' : ' (unconfirmed)'} differed in ${p.differ} slot(s) from the store: told its slots at epoch ${st.epoch}`);
        }
        report.set.push(p.addr);
      } catch (err) {
        report.failed.push({ addr: p.addr, error: (err as Error).message });
      }
    };
    const first = plans.filter((p) => p.action !== 'none' && gainsOver(p.haveSlots, p.have.ranges, p.want));
    await Promise.all(first.map(tell));
    await Promise.all(plans.filter((p) => !first.includes(p)).map(tell));
    // A node that stays down is logged once, when it starts failing, and once when it answers
    // again: not every pass, even as its error text changes (a down-for duration, a reconnecting link).
    const failing = new Map(report.failed.map((f) => [f.addr, f.error]));
    for (const [addr, error] of failing) if (!this.failing.has(addr)) this.log(`reconcile: node ${addr}: ${error} (retried every second)`);
    for (const addr of this.failing.keys()) if (!failing.has(addr)) this.log(`reconcile: node ${addr} answers again`);
    this.failing = failing;
    return report;
  }

  /** Held slots some master already has migrating or importing are held no more (see `held`). */
  private releaseTold(haves: readonly NodeOwnership[]): void {
    for (const have of haves) {
      for (const r of have.ranges) {
        if (r.state !== 'migrating' && r.state !== 'importing') continue;
        for (let s = r.start; s <= r.end; s++) this.held.delete(s);
      }
    }
  }
}

/** Rank of a slot state by how much of the slot a node serves (a gain is a move up); 0 for a state this code does not know. */
function serves(state: string): number {
  return state === 'owned' ? 2 : state === 'migrating' || state === 'importing' ? 1 : 0;
}

/**
 * True if `want` makes the node serve some slot it does not serve in `have` (none → importing,
 * importing/migrating → owned, none → owned): such a node must be told before the one losing it.
 */
export function gains(have: readonly NodeSlotRange[], want: readonly NodeSlotRange[]): boolean {
  return gainsOver(perSlot(have), have, want);
}

/** gains(), with `have` spelled out per slot already (`haveSlots`). */
function gainsOver(haveSlots: PerSlot, have: readonly NodeSlotRange[], want: readonly NodeSlotRange[]): boolean {
  for (const r of want) {
    if (r.state === 'none') continue;
    const wanted = serves(r.state);
    for (let s = Math.max(0, r.start); s <= Math.min(r.end, SLOT_COUNT - 1); s++) {
      const rank = serves(haveSlots.state[s]!);
      if (wanted > rank) return true;
      if (r.state === 'importing' && rank === 1 && !isImporting(have, s)) return true; // migrating → importing
    }
  }
  return false;
}

function isImporting(ranges: readonly NodeSlotRange[], slot: number): boolean {
  for (const r of ranges) if (slot >= r.start && slot <= r.end) return r.state === 'importing';
  return false;
}

function planAction(have: NodeOwnership, differ: number, epoch: number): Plan['action'] {
  if (have.epoch > epoch) return 'raise';
  if (differ === 0) {
    if (have.epoch < epoch) return 'set';
    return have.confirmed ? 'none' : 'confirm';
  }
  return have.epoch < epoch ? 'set' : 'raise';
}

/** How often the leader checks every master (a restarted or replaced node is told within this). */
export const RECONCILE_INTERVAL_MS = 1_000;

/** Runs reconcileAll in the coordinator's Serial every RECONCILE_INTERVAL_MS while started. */
export class ReconcileLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly reconciler: Reconciler, private readonly serial: Serial, private readonly log: (msg: string) => void) {}

  start(): void {
    if (this.timer) return;
    this.runOnce();
    this.timer = setInterval(() => this.runOnce(), RECONCILE_INTERVAL_MS);
  }

  private runOnce(): void {
    if (this.running) return; // one at a time; a slow store or node skips a beat
    this.running = this.serial.run(() => this.reconciler.reconcileAll())
      .catch((err: unknown) => { if (!(err instanceof NotLeaderError)) this.log(`reconcile failed: ${(err as Error).message}`); })
      .finally(() => { this.running = null; });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
