// The proxy's view of the cluster: groups and the 1024-slot table loaded from the store and kept
// current by a watch. Keeps serving the last table while the store is unreachable, and
// registers this proxy (lease-bound) with the table revision it applied.
import { EventEmitter } from 'node:events';
import { type Group, type ProxyInfo, type Slot, type SlotRoute, parseGroup, parseSlot, slotTable } from '../common/model.js';
import type { CoordStore } from '../common/store/coord-store.js';
import { ProxyRegistration } from './registration.js';
import type { SlotMode } from './router.js';
import { groupIdOf, productPrefix, slotIdOf } from '../common/store/keys.js';

const RETRY_MS = 500;
/** While the store is down at start, how often the proxy says it is still waiting. */
const STORE_WAIT_LOG_MS = 10_000;

export interface TopologyEvents {
  changed: [revision: string];
}

export class Topology extends EventEmitter<TopologyEvents> {
  /** Route per slot (index = slot id). */
  routes: SlotRoute[] = [];
  readonly groups = new Map<number, Group>();
  private readonly slots = new Map<number, Slot>();
  /** Store revision of the table applied last. */
  revision = '0';
  /**
   * Slots a node answered -MOVED for since the table was applied, with the master it named
   * (at most one entry per slot: bounded by the slot count). Cleared by the next revision: the
   * coordinator's table wins again once it has caught up.
   */
  readonly moved = new Map<number, string>();
  /**
   * Per backend address, whether it takes a multi-key command of several slots ('any': a plain
   * Redis-like node) or one slot per command ('one': a node in cluster mode, which answers
   * -CROSSSLOT), or is being asked ('probing'); see Router.perSlot. Kept for addresses still in a
   * group (bounded by the servers of the table).
   */
  readonly slotModes = new Map<string, SlotMode>();
  private stopped = false;
  private watchCancel: (() => void) | null = null;
  /**
   * The lease-bound registration carrying the applied table revision (null in a worker of a
   * multi-worker proxy). Its writes go one at a time, newest value last, retried on failure: two
   * table changes in a row must never leave an older revision registered after a newer one
   * (the coordinator would wait for an ack that never comes).
   */
  private readonly registration: ProxyRegistration | null;
  private recomputeScheduled = false;

  constructor(
    private readonly store: CoordStore,
    private readonly product: string,
    private readonly info: ProxyInfo,
    private readonly log: (msg: string) => void,
    /** False in a worker of a multi-worker proxy: its primary registers the whole proxy. */
    registers = true,
  ) {
    super();
    this.registration = registers ? new ProxyRegistration(store, product, info, log) : null;
    this.routes = slotTable([], []);
  }

  /** Loads the table (retrying until the store answers), then follows changes in the background. */
  async start(): Promise<void> {
    const since = Date.now();
    let loggedAt = 0;
    for (;;) {
      try {
        await this.loadAndWatch();
        break;
      } catch (err) {
        if (this.stopped) return;
        // The first failure at once, then one line per STORE_WAIT_LOG_MS: an operator sees why the
        // proxy does not listen yet without a line every retry.
        if (loggedAt === 0 || Date.now() - loggedAt >= STORE_WAIT_LOG_MS) {
          const waited = loggedAt === 0 ? '' : ` for ${Math.round((Date.now() - since) / 1000)} s`;
          loggedAt = Date.now();
          this.log(`store unavailable${waited} (${(err as Error).message}); not listening for clients until the slot table is loaded; retrying every ${RETRY_MS} ms`);
        }
        await delay(RETRY_MS);
      }
    }
    if (loggedAt !== 0) this.log(`store reachable after ${Math.round((Date.now() - since) / 100) / 10} s`);
    await this.register();
  }

  private async loadAndWatch(): Promise<void> {
    const snap = await this.store.snapshot(productPrefix(this.product));
    this.groups.clear();
    this.slots.clear();
    for (const e of snap.entries) this.apply('put', e.key, e.value);
    this.recompute(snap.revision);
    const watch = await this.store.watch(productPrefix(this.product), (BigInt(snap.revision) + 1n).toString());
    this.watchCancel = () => watch.cancel();
    void (async () => {
      try {
        for await (const ev of watch) {
          // Only slot and group changes alter the table; other keys (proxy registrations — our own
          // included — and migrations) must not trigger a recompute and a registration write.
          if (this.apply(ev.type, ev.key, ev.value)) this.scheduleRecompute(ev.revision);
        }
      } catch (err) {
        this.log(`store watch failed (${(err as Error).message}); serving the last table`);
      }
      if (!this.stopped) void this.restartWatch();
    })();
  }

  private async restartWatch(): Promise<void> {
    while (!this.stopped) {
      await delay(RETRY_MS);
      try {
        await this.loadAndWatch();
        await this.register();
        this.log('store watch resumed');
        return;
      } catch {
        /* keep serving the last table and retry */
      }
    }
  }

  /** Applies one store change; true when it was a slot or group (the table may have changed). */
  private apply(type: 'put' | 'delete', key: string, value: string): boolean {
    const slotId = slotIdOf(this.product, key);
    if (slotId !== null) {
      if (type === 'delete') this.slots.delete(slotId);
      else {
        try {
          this.slots.set(slotId, parseSlot(value));
        } catch (err) {
          this.log(`ignoring bad slot ${slotId}: ${(err as Error).message}`);
        }
      }
      return true;
    }
    const groupId = groupIdOf(this.product, key);
    if (groupId === null) return false;
    if (type === 'delete') this.groups.delete(groupId);
    else {
      try {
        this.groups.set(groupId, parseGroup(value));
      } catch (err) {
        this.log(`ignoring bad group ${groupId}: ${(err as Error).message}`);
      }
    }
    return true;
  }

  private pendingRevision = '0';
  private scheduleRecompute(revision: string): void {
    this.pendingRevision = revision;
    if (this.recomputeScheduled) return;
    this.recomputeScheduled = true;
    // Events of one store transaction arrive together: apply them as one table change.
    setImmediate(() => {
      this.recomputeScheduled = false;
      this.recompute(this.pendingRevision);
    });
  }

  /** What `addr` was found to take (null = not known: ask again). See Router.learnSlotMode. */
  setSlotMode(addr: string, mode: SlotMode | null): void {
    if (mode === null) this.slotModes.delete(addr);
    else this.slotModes.set(addr, mode);
  }

  /** A node redirected `slot` to `addr` with -MOVED (see Router.moved). */
  noteMoved(slot: number, addr: string): void {
    if (slot >= 0 && slot < this.routes.length) this.moved.set(slot, addr);
  }

  private recompute(revision: string): void {
    this.routes = slotTable([...this.slots.values()], [...this.groups.values()]);
    this.moved.clear();
    for (const addr of this.slotModes.keys()) if (this.groupOf(addr) === null) this.slotModes.delete(addr);
    this.revision = revision;
    this.emit('changed', revision);
    this.registration?.set(revision);
  }

  /** Registers once the table is loaded (later revisions are set by recompute). */
  private async register(): Promise<void> {
    if (this.stopped) return;
    await this.registration?.start(this.revision);
  }

  /** Group of a master address (for error texts). */
  groupOf(addr: string): number | null {
    for (const g of this.groups.values()) if (g.servers.some((s) => s.addr === addr)) return g.id;
    return null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchCancel?.();
    await this.registration?.stop();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

