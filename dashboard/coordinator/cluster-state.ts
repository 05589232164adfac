// The cluster as the coordinator's steps see it (slot table, groups, epoch), read from the store —
// and a cache of it for the coordinator process, which is the one writer of slots and groups.
//
// Why the cache: a migration step reads the whole state two to five times (before its txn, after
// it, in the reconcile that follows, in the movers and the failover tick), and each read of 1,024
// slot entries from etcd decoded them again: in the Codis-sized migration bench that was about a
// quarter of the coordinator's CPU, on the machine the probe's latency was measured on.
//
// When the cached state changes or is dropped (so that a read never returns a state older than
// what it must see):
// - a txn of this process that succeeded while nothing else changed is applied to it (only the
//   slots, groups and epoch it wrote: stateAfterTxn), before the txn's caller sees its reply;
// - after every other write this process makes through the store (StateCachingStore decorates it),
//   it is dropped in a finally, so even a write whose reply was lost drops it; a read running
//   meanwhile is not kept;
// - when the store's watch reports a change of a slot, a group or the epoch newer than the cached
//   read (another writer: `tessera admin --store` repairs, a second coordinator); that change is
//   seen as fast as the watch delivers it, as a direct read racing it would have seen it or not;
// - while the watch is not running (not opened yet, failed, store closing): nothing is cached.
import { type Group, type Slot, type SlotRoute, groupMasters, parseEpoch, parseGroup, parseSlot, slotRoute, slotTable } from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';
import { compareRevisions } from '../../common/store/coord-store.js';
import type {
  CasResult, CoordStore, EphemeralKey, LeaderLease, StoreEntry, StoreSnapshot, StoreWatch, TxnCompare, TxnOp, TxnResult,
} from '../../common/store/coord-store.js';
import { epochKey, groupsPrefix, idAfter, slotsPrefix } from '../../common/store/keys.js';

/** Shared by every reader of a cached state: never modify it (copy what you change). */
export interface ClusterState {
  slots: Slot[];
  groups: Map<number, Group>;
  table: SlotRoute[];
  epoch: number;
  epochEntry: StoreEntry | null;
  /** The newest mod revision of a slot or group key: what a proxy that applied the table reports. */
  revision: string;
}

/**
 * Parsed slot entries by key, with the mod revision they were parsed at: most of the 1,024 entries
 * have not changed since the last read (their JSON parse was 5-9% of the coordinator's CPU during
 * a move, by a profile). Frozen: shared by every reader. Bounded: cleared when it holds more than
 * SLOT_CACHE_MAX entries (several products).
 */
const slotCache = new Map<string, { revision: string; slot: Slot }>();
const SLOT_CACHE_MAX = 8 * SLOT_COUNT;

function cachedSlot(e: StoreEntry): Slot {
  const hit = slotCache.get(e.key);
  if (hit !== undefined && hit.revision === e.revision) return hit.slot;
  const parsed = parseSlot(e.value);
  const slot = Object.freeze({ ...parsed, state: Object.freeze({ ...parsed.state }) }) as Slot;
  if (slotCache.size >= SLOT_CACHE_MAX) slotCache.clear();
  slotCache.set(e.key, { revision: e.revision, slot });
  return slot;
}

/** The raw entries of a cluster state (slots, groups, the epoch) by key. */
type StateEntries = Map<string, StoreEntry>;

/**
 * A state built from the store's entries, and whether every slot entry's key names the slot its
 * value holds (always, unless someone wrote a slot under another key): only then can a txn's slot
 * writes be applied by id (stateAfterTxn) with the result a rebuild would give.
 */
interface BuiltState {
  state: ClusterState;
  byId: boolean;
}

/** Builds the state from its entries (slot entries unchanged since the last build are not parsed again). */
function buildState(product: string, entries: ReadonlyMap<string, StoreEntry>): BuiltState {
  const slots: Slot[] = [];
  const groups = new Map<number, Group>();
  let epochEntry: StoreEntry | null = null;
  let revision = '0';
  let byId = true;
  const epoch = epochKey(product);
  // Prefixes once per build (slotIdOf/groupIdOf validate the product name on every call), and a
  // build runs over 1,024+ entries.
  const slotsAt = slotsPrefix(product);
  const groupsAt = groupsPrefix(product);
  for (const e of entries.values()) {
    if (e.key === epoch) {
      epochEntry = e;
      continue;
    }
    const slotId = idAfter(slotsAt, e.key);
    if (slotId !== null) {
      const slot = cachedSlot(e);
      if (slot.id !== slotId) byId = false;
      slots.push(slot);
    } else {
      const groupId = idAfter(groupsAt, e.key);
      if (groupId === null) continue;
      groups.set(groupId, parseGroup(e.value));
    }
    if (compareRevisions(e.revision, revision) > 0) revision = e.revision;
  }
  slots.sort((x, y) => x.id - y.id);
  const state = {
    slots, groups, table: slotTable(slots, [...groups.values()]),
    epoch: epochEntry ? parseEpoch(epochEntry.value) : 0, epochEntry, revision,
  };
  return { state, byId };
}

/** The cluster state of `entries`, built whole (what every other read of the state is checked against). */
export function stateOf(product: string, entries: ReadonlyMap<string, StoreEntry>): ClusterState {
  return buildState(product, entries).state;
}

/** Index of slot `id` in `slots` (sorted by id, ids distinct), or -1. */
function indexOfSlot(slots: readonly Slot[], id: number): number {
  let lo = 0;
  let hi = slots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = slots[mid]!.id;
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The state after a txn that succeeded at `revision`, from the state before it, touching only what
 * the txn changed: the state of a 1,024-slot product was built whole after every txn of a step,
 * which was the largest share of the coordinator's CPU during a move (by a profile). `base` must be
 * a state whose slot keys name their slots (BuiltState.byId) and is not modified: changed arrays
 * and maps are copies. Null where the result would need a rebuild to be exact: a slot or group
 * deleted (the newest revision may go with it), or a slot written under another slot's key.
 * Throws, as a rebuild would, if a written value does not parse.
 */
export function stateAfterTxn(product: string, base: ClusterState, ops: readonly TxnOp[], revision: string): ClusterState | null {
  const epochAt = epochKey(product);
  const slotsAt = slotsPrefix(product);
  const groupsAt = groupsPrefix(product);
  const changedSlots = new Map<number, Slot>();
  let groups: Map<number, Group> | null = null;
  let { epoch, epochEntry } = base;
  let touched = false;
  for (const op of ops) {
    if (op.key === epochAt) {
      if (op.op === 'delete') {
        epochEntry = null;
        epoch = 0;
      } else {
        epoch = parseEpoch(op.value);
        epochEntry = { key: op.key, value: op.value, revision, createRevision: epochEntry?.createRevision ?? revision };
      }
      continue;
    }
    const slotId = idAfter(slotsAt, op.key);
    const groupId = slotId === null ? idAfter(groupsAt, op.key) : null;
    if (slotId === null && groupId === null) continue; // under a prefix but not a slot or group: a build skips it too
    if (op.op === 'delete') return null;
    touched = true;
    if (slotId !== null) {
      const slot = cachedSlot({ key: op.key, value: op.value, revision, createRevision: revision });
      if (slot.id !== slotId) return null;
      changedSlots.set(slotId, slot);
    } else {
      groups ??= new Map(base.groups);
      groups.set(groupId!, parseGroup(op.value));
    }
  }
  let slots = base.slots;
  if (changedSlots.size > 0) {
    slots = base.slots.slice();
    let added = false;
    for (const [id, slot] of changedSlots) {
      const i = indexOfSlot(base.slots, id);
      if (i >= 0) slots[i] = slot;
      else {
        slots.push(slot);
        added = true;
      }
    }
    if (added) slots.sort((x, y) => x.id - y.id);
  }
  let table = base.table;
  if (groups !== null) table = slotTable(slots, [...groups.values()]); // a master may have changed: every route
  else if (changedSlots.size > 0) {
    table = base.table.slice();
    const masters = groupMasters(base.groups.values());
    for (const [id, slot] of changedSlots) table[id] = slotRoute(slot.state, masters);
  }
  return {
    slots, groups: groups ?? base.groups, table, epoch, epochEntry,
    revision: touched && compareRevisions(revision, base.revision) > 0 ? revision : base.revision,
  };
}

/** Reads the state's entries from the store, with the oldest store revision of its three reads. */
async function readFromStore(store: CoordStore, product: string): Promise<{ entries: StateEntries; readAt: bigint }> {
  const key = epochKey(product);
  const [slotSnap, groupSnap, epochSnap] = await Promise.all([
    store.snapshot(slotsPrefix(product)), store.snapshot(groupsPrefix(product)), store.snapshot(key),
  ]);
  const entries: StateEntries = new Map();
  for (const e of slotSnap.entries) entries.set(e.key, e);
  for (const e of groupSnap.entries) entries.set(e.key, e);
  for (const e of epochSnap.entries) if (e.key === key) entries.set(e.key, e);
  let readAt = BigInt(slotSnap.revision);
  for (const r of [groupSnap.revision, epochSnap.revision]) if (BigInt(r) < readAt) readAt = BigInt(r);
  return { entries, readAt };
}

/** The cluster's state: from the cache when `store` is the coordinator's StateCachingStore of `product`. */
export async function readClusterState(store: CoordStore, product: string): Promise<ClusterState> {
  if (store instanceof StateCachingStore && store.product === product) return store.clusterState();
  return stateOf(product, (await readFromStore(store, product)).entries);
}

/** stateAfterTxn's result, or null if a written value does not parse (the next read's rebuild reports it). */
function appliedOrNull(apply: () => ClusterState | null): ClusterState | null {
  try {
    return apply();
  } catch {
    return null;
  }
}

/** Own txns applied to one read at most (then the next read starts over from the store). */
const OWN_MAX = 1_000;
/** After the watch failed, it is opened again this long after (meanwhile every read goes to the store). */
const WATCH_RETRY_MS = 1_000;

/**
 * The coordinator's store: every CoordStore call goes to `inner` unchanged; writes drop the cached
 * cluster state, and clusterState() serves it while valid (see the top of this file).
 */
export class StateCachingStore implements CoordStore {
  /**
   * The cached state, and the store revision of the read it was built from (later txns of this
   * process are applied to it: their revisions are in `own`, and the watch's events of those
   * revisions are not changes to drop it for). `byId`: see BuiltState.
   */
  private cached: { state: ClusterState; byId: boolean; readAt: bigint } | null = null;
  /** Revisions of this process's txns applied to the cached state (bounded: OWN_MAX, cleared by a read). */
  private readonly own = new Set<string>();
  /**
   * State txns of this process in flight, and the revisions of the watch's state events that came
   * meanwhile: the watch often delivers a txn's own events before its reply says which revision
   * it got, so those are judged once no txn is in flight any more.
   */
  private txnsInFlight = 0;
  private heldEvents: string[] = [];
  /** A read in flight, shared by the calls that come while it runs (if nothing changed since it started). */
  private reading: { gen: number; promise: Promise<ClusterState> } | null = null;
  /** Raised by every change: a read that started under an older one is returned but not kept. */
  private gen = 0;
  /** The watches of the slots, the groups and the epoch (all three, or none). */
  private stateWatches: StoreWatch[] = [];
  private watchLive = false;
  private opening: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Reads answered from the cache and from the store (for tests and /metrics). */
  readonly stats = { hits: 0, reads: 0 };

  private readonly keys: { slots: string; groups: string; epoch: string };

  constructor(private readonly inner: CoordStore, readonly product: string, private readonly log: (msg: string) => void = () => {}) {
    this.keys = { slots: slotsPrefix(product), groups: groupsPrefix(product), epoch: epochKey(product) };
  }

  async clusterState(): Promise<ClusterState> {
    if (!this.watchLive) {
      this.openWatch();
      if (this.opening) await this.opening.catch(() => {});
    }
    if (this.cached !== null && this.watchLive) {
      this.stats.hits++;
      return this.cached.state;
    }
    if (this.reading !== null && this.reading.gen === this.gen) return this.reading.promise;
    const gen = this.gen;
    this.stats.reads++;
    const promise = readFromStore(this.inner, this.product).then((r) => {
      const { state, byId } = buildState(this.product, r.entries);
      if (this.gen === gen && this.watchLive) {
        this.cached = { state, byId, readAt: r.readAt };
        this.own.clear();
      }
      return state;
    }).finally(() => {
      if (this.reading?.promise === promise) this.reading = null;
    });
    this.reading = { gen, promise };
    return promise;
  }

  /** A state event of the watch: drops the cache unless the cached state holds that change already. */
  private judge(revision: string): void {
    if (this.own.has(revision)) return;
    if (this.cached === null || BigInt(revision) > this.cached.readAt) this.changed();
  }

  /** Drops the cached state (a write by this process, or a change the watch saw). */
  private changed(): void {
    this.gen++;
    this.cached = null;
  }

  /**
   * Watches the slots, the groups and the epoch (three watches, not the product's prefix: the
   * migration records a step writes with its slots were most of the events a watch of the whole
   * product decoded, by a profile of a move over etcd). The state is cached while all three run.
   */
  private openWatch(): void {
    if (this.closed || this.opening !== null || this.watchLive) return;
    this.opening = (async () => {
      const watches: StoreWatch[] = [];
      try {
        for (const prefix of [this.keys.slots, this.keys.groups, this.keys.epoch]) watches.push(await this.inner.watch(prefix));
      } catch (err) {
        for (const w of watches) w.cancel();
        throw err;
      }
      if (this.closed) return void watches.forEach((w) => w.cancel());
      this.stateWatches = watches;
      this.watchLive = true;
      this.changed(); // anything read before the watches ran may have missed a change
      for (const w of watches) void this.follow(w, watches);
    })().catch((err: unknown) => {
      if (!this.closed) this.log(`cannot watch the store for the cluster state (${(err as Error).message}); reading it directly`);
      this.scheduleRetry();
    }).finally(() => {
      this.opening = null;
    });
  }

  /** Judges one watch's events; when it ends, its siblings are cancelled and nothing is cached until all are open again. */
  private async follow(watch: StoreWatch, set: StoreWatch[]): Promise<void> {
    try {
      for await (const ev of watch) {
        if (!this.inState(ev.key)) continue;
        if (this.txnsInFlight > 0) this.heldEvents.push(ev.revision);
        else this.judge(ev.revision);
      }
    } catch (err) {
      if (!this.closed && this.stateWatches === set) this.log(`store watch for the cluster state failed (${(err as Error).message}); reading the store directly until it is back`);
    } finally {
      if (this.stateWatches === set) {
        this.watchLive = false;
        this.stateWatches = [];
        for (const w of set) if (w !== watch) w.cancel();
        this.changed();
        this.scheduleRetry();
      }
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.openWatch();
    }, WATCH_RETRY_MS);
    this.retryTimer.unref();
  }

  /** Whether a key is part of the cluster state (a slot, a group, the epoch). */
  private inState(key: string): boolean {
    return key.startsWith(this.keys.slots) || key.startsWith(this.keys.groups) || key === this.keys.epoch;
  }

  /** Runs a write and, if it touches the cluster state, drops the cached state once it settled, whatever the outcome. */
  private async writing<T>(keys: readonly string[], op: () => Promise<T>): Promise<T> {
    if (!keys.some((k) => this.inState(k))) return op();
    try {
      return await op();
    } finally {
      this.changed();
    }
  }

  /**
   * A txn that touches the cluster state. When it succeeds and nothing changed while it ran, its
   * ops are applied to the cached state (this process knows exactly what it wrote, and the epoch
   * compare of every step fences it against another writer): a new state that shares what the txn
   * did not change (stateAfterTxn). Otherwise, or where that needs a rebuild, the cache is dropped.
   */
  private async stateTxn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult> {
    const gen = this.gen;
    const base = this.cached;
    this.txnsInFlight++;
    try {
      const res = await this.inner.txn(compares, ops);
      const state = res.ok && base !== null && base.byId && this.gen === gen && this.cached === base && this.own.size < OWN_MAX
        ? appliedOrNull(() => stateAfterTxn(this.product, base.state, ops, res.revision))
        : null;
      if (state !== null) {
        this.gen++; // a read that started before this txn is not kept
        this.own.add(res.revision);
        this.cached = { state, byId: true, readAt: base!.readAt };
      } else {
        this.changed();
      }
      return res;
    } catch (err) {
      this.changed();
      throw err;
    } finally {
      if (--this.txnsInFlight === 0) for (const revision of this.heldEvents.splice(0)) this.judge(revision);
    }
  }

  // ---- CoordStore: reads and the rest pass through; writes drop the cache ----

  get(key: string): Promise<StoreEntry | null> { return this.inner.get(key); }
  list(prefix: string): Promise<StoreEntry[]> { return this.inner.list(prefix); }
  snapshot(prefix: string): Promise<StoreSnapshot> { return this.inner.snapshot(prefix); }
  watch(prefix: string, fromRevision?: string): Promise<StoreWatch> { return this.inner.watch(prefix, fromRevision); }
  putEphemeral(key: string, value: string, ttlSeconds: number): Promise<EphemeralKey> { return this.inner.putEphemeral(key, value, ttlSeconds); }
  campaign(name: string, id: string, ttlSeconds: number): Promise<LeaderLease> { return this.inner.campaign(name, id, ttlSeconds); }
  leader(name: string): Promise<string | null> { return this.inner.leader(name); }
  put(key: string, value: string): Promise<string> { return this.writing([key], () => this.inner.put(key, value)); }
  delete(key: string): Promise<boolean> { return this.writing([key], () => this.inner.delete(key)); }
  compareAndSwap(key: string, expectedRevision: string | null, value: string): Promise<CasResult> {
    return this.writing([key], () => this.inner.compareAndSwap(key, expectedRevision, value));
  }
  txn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult> {
    return ops.some((o) => this.inState(o.key)) ? this.stateTxn(compares, ops) : this.inner.txn(compares, ops);
  }

  get maxTxnOps(): number | undefined { return (this.inner as { maxTxnOps?: number }).maxTxnOps; }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const watches = this.stateWatches;
    this.stateWatches = [];
    for (const w of watches) w.cancel();
    this.watchLive = false;
    this.changed();
    await this.inner.close();
  }
}
