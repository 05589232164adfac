// The router: slot → backend address. Knows the slot table (from the topology), the groups'
// replicas, and the slots a node redirected us for with -MOVED since the table was last applied.
// It never sends anything and never parses commands; the splitter asks it where a slot's keys go,
// and the forwarder tells it when a node said a slot lives elsewhere (redirects are parsed there).
import type { Group, SlotRoute } from '../common/model.js';

/** What the router reads: the topology's current table (replaced, never mutated, per revision). */
export interface RouteSource {
  /** Route per slot (index = slot id). */
  readonly routes: readonly SlotRoute[];
  readonly groups: ReadonlyMap<number, Group>;
  /** Slot → master address a node's -MOVED named, until the next table revision (see Topology.noteMoved). */
  readonly moved: ReadonlyMap<number, string>;
  noteMoved(slot: number, addr: string): void;
  /** What each backend takes in one multi-key command (see Topology.slotModes). */
  readonly slotModes: ReadonlyMap<string, SlotMode>;
  setSlotMode(addr: string, mode: SlotMode | null): void;
}

/**
 * Whether a backend takes keys of several slots in one command: 'any' (plain Redis-like node),
 * 'one' (cluster mode: -CROSSSLOT otherwise), 'probing' (being asked, treated as 'one').
 */
export type SlotMode = 'any' | 'one' | 'probing';

export class Router {
  constructor(
    private readonly source: RouteSource,
    /** Read per call (CONFIG SET may change it): whether reads may go to a replica. */
    private readonly config: { readonly readFromReplica: 'never' | 'prefer' },
    /** Picks this client's replica, so its reads stay on one link and in order. */
    private readonly clientId: number,
  ) {}

  /**
   * The master serving `slot`: the one a -MOVED named since the table was applied, else the
   * group's master (the source while the slot migrates: the nodes answer -ASK for keys already
   * moved). Null when no master is known; routeError() says why.
   */
  master(slot: number): string | null {
    const moved = this.source.moved.size === 0 ? undefined : this.source.moved.get(slot);
    if (moved !== undefined) return moved;
    const route = this.source.routes[slot]!;
    if (route.kind === 'online') return route.master;
    return route.kind === 'migrating' ? route.fromMaster : null;
  }

  /**
   * Where a read-only command for `slot` goes: with read-from-replica = prefer, a replica of the
   * slot's group (the same one for this client); never while the slot migrates or after a -MOVED
   * for it (the table is known stale), so a read never sees a slot half moved. Else master().
   */
  forRead(slot: number): string | null {
    if (this.config.readFromReplica !== 'prefer') return this.master(slot);
    const route = this.source.routes[slot]!;
    if (route.kind !== 'online' || this.source.moved.has(slot)) return this.master(slot);
    const servers = this.source.groups.get(route.group)?.servers;
    let n = 0;
    if (servers !== undefined) for (const s of servers) if (s.role === 'replica') n++;
    if (n === 0) return route.master;
    let pick = this.clientId % n;
    for (const s of servers!) if (s.role === 'replica' && pick-- === 0) return s.addr;
    return route.master;
  }

  /** True while the table says `slot` is moving between groups (or a node redirected it). */
  unsettled(slot: number): boolean {
    return this.source.routes[slot]!.kind === 'migrating' || this.source.moved.has(slot);
  }

  /**
   * True while the table says `slot` is moving between groups: the forwarder then sends this
   * client's requests on it one at a time (a -TRYAGAIN'd MSET must not be overtaken). One check.
   */
  migrating(slot: number): boolean {
    return this.source.routes[slot]!.kind === 'migrating';
  }

  /** A node said `slot` lives at `addr` (-MOVED): later requests go there until the table changes. */
  moved(slot: number, addr: string): void {
    this.source.noteMoved(slot, addr);
  }

  /**
   * Whether per-key splits must send `addr` one piece per slot: unless it is known to take
   * several slots per command. Not known yet counts as one slot per command: always correct
   * (a cluster-mode node refuses more), merely more pieces until needsProbe()'s answer is in.
   */
  perSlot(addr: string): boolean {
    return this.source.slotModes.get(addr) !== 'any';
  }

  /** True once per backend whose mode is not known: the caller sends the probe (see Splitter). */
  needsProbe(addr: string): boolean {
    if (this.source.slotModes.has(addr)) return false;
    this.source.setSlotMode(addr, 'probing');
    return true;
  }

  /** A probe's (or a -CROSSSLOT's) finding; null = no answer worth keeping (asked again later). */
  learnSlotMode(addr: string, mode: SlotMode | null): void {
    this.source.setSlotMode(addr, mode);
  }

  /** Why master(slot) is null (an error text without the leading '-'). */
  routeError(slot: number): string {
    const route = this.source.routes[slot]!;
    if (route.kind === 'online') return `ERR group ${route.group} has no master`;
    if (route.kind === 'migrating') return `ERR group ${route.from} has no master`;
    return `ERR slot ${slot} is not assigned to any group`;
  }

  /** Every group's master, once each, sorted (the order SCAN's cursor encodes). */
  masters(): string[] {
    const out = new Set<string>();
    for (const g of this.source.groups.values()) {
      const m = g.servers.find((s) => s.role === 'master');
      if (m) out.add(m.addr);
    }
    return [...out].sort();
  }
}
