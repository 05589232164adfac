// Groups, servers and the slot table, as the coordinator reads and writes them. Every write is a
// store txn guarded by compare-and-swap on the keys it read (so two API calls can never lose each
// other's update) and fenced by the leader's lock key (so a deposed leader cannot write). A
// conflicting txn re-reads and tries again a bounded number of times, unless the caller named the
// revision it expects, which then fails with 409 CONFLICT.
import {
  type CoordinatorInfo, type Group, type Migration, type ProxyInfo, type Server, type ServerRole, type Slot,
  MAX_GROUP_ID, encodeGroup, encodeSlot, masterOf, onlineRanges, parseGroup, parseMigration, parseProxyInfo, parseSlot,
} from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';
import type { CoordStore, StoreEntry, TxnCompare, TxnOp } from '../../common/store/coord-store.js';
import { groupIdOf, groupKey, groupsPrefix, migrationsPrefix, proxiesPrefix, slotIdOf, slotKey, slotsPrefix } from '../../common/store/keys.js';
import { ApiError, conflict, formatSlotList, notFound } from '../api-error.js';
import { type LeaderView, NotLeaderError } from './leadership.js';
import { reportingStoreErrors } from './store-errors.js';

/** Attempts of a read-modify-write before giving up with 409 (each failed one means another write won). */
const MAX_ATTEMPTS = 32;
/** Slot puts per txn: etcd allows 128 ops per txn, and each slot also has a compare. */
const SLOTS_PER_TXN = 100;

export interface GroupView extends Group {
  master: string | null;
  /** Mod revision of the group's key: pass it back as `revision` to update only that version. */
  revision: string;
  /** Slots online in this group. */
  slots: number;
}

export interface SlotTableView {
  /** Store revision the table was read at. */
  revision: string;
  slots: Slot[];
  ranges: Array<{ from: number; to: number; group: number }>;
  unassigned: number;
  migrating: number;
}

export interface ProxyView extends ProxyInfo {
  /** The proxy applied the latest slot/group change. */
  upToDate: boolean;
}

export interface Counts {
  groups: number;
  servers: number;
  slots: { online: number; migrating: number; unassigned: number };
  proxies: number;
  migrations: Record<string, number>;
}

export interface Overview {
  product: string;
  self: CoordinatorInfo & { role: string };
  leader: CoordinatorInfo | null;
  standbys: CoordinatorInfo[];
  counts: Counts;
}

/** Counts writes that lost a compare (another writer came first) for /metrics. */
export interface WriteStats {
  conflicts: number;
}

export class Cluster {
  readonly stats: WriteStats = { conflicts: 0 };

  private readonly store: CoordStore;

  /**
   * Run before slots go online in a group that serves none yet, with a master of a group that
   * does: copies libraries and scripts (script-copy.ts; set by main.ts, none in unit tests).
   */
  beforeFirstSlots: ((from: { group: number; addr: string }, to: { group: number; addr: string }) => Promise<void>) | null = null;

  constructor(
    store: CoordStore,
    readonly product: string,
    private readonly leader: LeaderView,
  ) {
    this.store = reportingStoreErrors(store);
  }

  // ---- reads ----

  private async readSlots(): Promise<{ slots: Map<number, { slot: Slot; entry: StoreEntry }>; revision: string }> {
    const snap = await this.store.snapshot(slotsPrefix(this.product));
    const slots = new Map<number, { slot: Slot; entry: StoreEntry }>();
    for (const entry of snap.entries) {
      const id = slotIdOf(this.product, entry.key);
      if (id !== null) slots.set(id, { slot: parseSlot(entry.value), entry });
    }
    return { slots, revision: snap.revision };
  }

  private async readGroups(): Promise<Map<number, { group: Group; entry: StoreEntry }>> {
    const out = new Map<number, { group: Group; entry: StoreEntry }>();
    for (const entry of await this.store.list(groupsPrefix(this.product))) {
      const id = groupIdOf(this.product, entry.key);
      if (id !== null) out.set(id, { group: parseGroup(entry.value), entry });
    }
    return out;
  }

  private view(group: Group, entry: StoreEntry, slots: Iterable<{ slot: Slot }>): GroupView {
    let owned = 0;
    for (const { slot } of slots) if (slot.state.kind === 'online' && slot.state.group === group.id) owned++;
    return { ...group, master: masterOf(group), revision: entry.revision, slots: owned };
  }

  async listGroups(): Promise<GroupView[]> {
    const [groups, { slots }] = await Promise.all([this.readGroups(), this.readSlots()]);
    return [...groups.values()].sort((a, b) => a.group.id - b.group.id).map((g) => this.view(g.group, g.entry, slots.values()));
  }

  async getGroup(id: number): Promise<GroupView> {
    const entry = await this.store.get(groupKey(this.product, id));
    if (!entry) throw notFound(`group ${id} does not exist`);
    const { slots } = await this.readSlots();
    return this.view(parseGroup(entry.value), entry, slots.values());
  }

  async slotTable(): Promise<SlotTableView> {
    const { slots, revision } = await this.readSlots();
    const all: Slot[] = [];
    for (let id = 0; id < SLOT_COUNT; id++) all.push(slots.get(id)?.slot ?? { id, state: { kind: 'unassigned' } });
    return {
      revision,
      slots: all,
      ranges: onlineRanges(all),
      unassigned: all.filter((s) => s.state.kind === 'unassigned').length,
      migrating: all.filter((s) => s.state.kind === 'migrating').length,
    };
  }

  /** Registered proxies (lease-bound keys: a dead proxy drops out by itself) and what they applied. */
  async proxies(): Promise<{ tableRevision: string; proxies: ProxyView[] }> {
    const [proxyEntries, slotSnap, groupEntries] = await Promise.all([
      this.store.list(proxiesPrefix(this.product)),
      this.store.snapshot(slotsPrefix(this.product)),
      this.store.list(groupsPrefix(this.product)),
    ]);
    // The latest change a proxy must have applied: the newest slot or group key.
    let latest = 0n;
    for (const e of [...slotSnap.entries, ...groupEntries]) if (BigInt(e.revision) > latest) latest = BigInt(e.revision);
    const proxies: ProxyView[] = [];
    for (const e of proxyEntries) {
      try {
        const p = parseProxyInfo(e.value);
        proxies.push({ ...p, upToDate: BigInt(p.tableRevision) >= latest });
      } catch {
        /* a malformed registration is not a proxy we can report on */
      }
    }
    return { tableRevision: latest.toString(), proxies };
  }

  async migrations(): Promise<Migration[]> {
    const out: Migration[] = [];
    for (const e of await this.store.list(migrationsPrefix(this.product))) {
      try {
        out.push(parseMigration(e.value));
      } catch {
        /* other records under migrations/ (none yet) are not per-slot migrations */
      }
    }
    return out;
  }

  async overview(): Promise<Overview> {
    const [groups, table, { proxies }, migrations, candidates] = await Promise.all([
      this.readGroups(), this.slotTable(), this.proxies(), this.migrations(), this.leader.candidates(),
    ]);
    const byPhase: Record<string, number> = {};
    for (const m of migrations) byPhase[m.phase] = (byPhase[m.phase] ?? 0) + 1;
    let servers = 0;
    for (const g of groups.values()) servers += g.group.servers.length;
    return {
      product: this.product,
      self: { ...this.leader.self, role: this.leader.role },
      leader: candidates[0] ?? null,
      standbys: candidates.slice(1),
      counts: {
        groups: groups.size,
        servers,
        slots: { online: SLOT_COUNT - table.unassigned - table.migrating, migrating: table.migrating, unassigned: table.unassigned },
        proxies: proxies.length,
        migrations: byPhase,
      },
    };
  }

  // ---- writes ----

  /**
   * A txn fenced by the leader lock: the store revision of its writes, or null when a compare of
   * ours failed (another write won).
   */
  private async write(compares: TxnCompare[], ops: TxnOp[]): Promise<string | null> {
    const res = await this.store.txn([this.leader.fence(), ...compares], ops);
    if (res.ok) return res.revision;
    if (!(await this.leader.stillLeader())) throw new NotLeaderError('this coordinator lost leadership during the write');
    this.stats.conflicts++;
    return null;
  }

  async createGroup(id: number): Promise<GroupView> {
    checkGroupId(id);
    const group: Group = { id, servers: [] };
    const key = groupKey(this.product, id);
    if ((await this.write([{ key, revision: null }], [{ op: 'put', key, value: encodeGroup(group) }])) === null) {
      throw conflict('GROUP_EXISTS', `group ${id} already exists`);
    }
    return this.getGroup(id);
  }

  /** Deletes a group that has no servers, owns no slots and is in no migration. */
  async deleteGroup(id: number, expected?: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.store.get(groupKey(this.product, id));
      if (!entry) throw notFound(`group ${id} does not exist`);
      checkExpected(id, entry, expected);
      const group = parseGroup(entry.value);
      if (group.servers.length > 0) {
        throw conflict('GROUP_NOT_EMPTY', `group ${id} still has ${group.servers.length} server(s) (${group.servers.map((s) => s.addr).join(', ')}); remove them first`);
      }
      const { slots } = await this.readSlots();
      const used = [...slots.values()].filter(({ slot: { state: s } }) => (s.kind === 'online' && s.group === id) || (s.kind === 'migrating' && (s.from === id || s.to === id)));
      if (used.length > 0) {
        throw conflict('GROUP_NOT_EMPTY', `group ${id} owns slots ${formatSlotList(used.map((u) => u.slot.id).sort((a, b) => a - b))}; migrate them to another group first`);
      }
      const moving = (await this.migrations()).filter((m) => (m.from === id || m.to === id) && m.phase !== 'done' && m.phase !== 'cancelled');
      if (moving.length > 0) throw conflict('GROUP_NOT_EMPTY', `group ${id} is in migrations of slots ${formatSlotList(moving.map((m) => m.slot).sort((a, b) => a - b))}`);
      // Slot assignments rewrite the group key (see assignSlots), so this compare also fails if
      // slots were assigned to the group since we looked.
      if ((await this.write([{ key: entry.key, revision: entry.revision }], [{ op: 'delete', key: entry.key }])) !== null) return;
      if (expected !== undefined) throw staleRevision(id, expected);
    }
    throw busy(`group ${id}`);
  }

  async addServer(id: number, server: Server, expected?: string): Promise<GroupView> {
    return this.updateGroup(id, expected, async (group, others) => {
      const elsewhere = others.find((g) => g.servers.some((s) => s.addr === server.addr));
      if (elsewhere) throw conflict('SERVER_IN_ANOTHER_GROUP', `${server.addr} is already in group ${elsewhere.id}`);
      if (group.servers.some((s) => s.addr === server.addr)) throw conflict('SERVER_EXISTS', `${server.addr} is already in group ${id}`);
      if (server.role === 'master' && masterOf(group) !== null) {
        throw conflict('GROUP_HAS_MASTER', `group ${id} already has a master (${masterOf(group)}); add ${server.addr} as a replica`);
      }
      return { id, servers: [...group.servers, server] };
    });
  }

  async removeServer(id: number, addr: string, expected?: string): Promise<GroupView> {
    return this.updateGroup(id, expected, async (group) => {
      const server = group.servers.find((s) => s.addr === addr);
      if (!server) throw notFound(`${addr} is not in group ${id}`);
      if (server.role === 'master') {
        const { slots } = await this.readSlots();
        const owned = [...slots.values()].filter(({ slot: { state: s } }) => (s.kind === 'online' && s.group === id) || (s.kind === 'migrating' && (s.from === id || s.to === id)));
        if (owned.length > 0) {
          throw conflict('GROUP_IN_USE', `${addr} is the master of group ${id}, which serves slots ${formatSlotList(owned.map((o) => o.slot.id).sort((a, b) => a - b))}; migrate them away first`);
        }
      }
      return { id, servers: group.servers.filter((s) => s.addr !== addr) };
    });
  }

  /** Read-modify-write of one group, retried on conflicts. `change` may throw ApiError. */
  private async updateGroup(id: number, expected: string | undefined, change: (g: Group, others: Group[]) => Promise<Group>): Promise<GroupView> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const groups = await this.readGroups();
      const current = groups.get(id);
      if (!current) throw notFound(`group ${id} does not exist`);
      checkExpected(id, current.entry, expected);
      const others = [...groups.values()].filter((g) => g.group.id !== id).map((g) => g.group);
      const next = await change(current.group, others);
      const key = current.entry.key;
      if ((await this.write([{ key, revision: current.entry.revision }], [{ op: 'put', key, value: encodeGroup(next) }])) !== null) return this.getGroup(id);
      if (expected !== undefined) throw staleRevision(id, expected);
    }
    throw busy(`group ${id}`);
  }

  /**
   * Puts the unassigned slots of [from, to] online in `group`. Slots already online there are left
   * as they are; a slot owned by another group (or migrating) refuses the whole request: moving a
   * slot that holds keys is a migration, never a table edit.
   */
  async assignSlots(from: number, to: number, groupId: number): Promise<{ assigned: number; already: number }> {
    if (from > to) throw new ApiError(400, 'BAD_REQUEST', `slot range ${from}-${to} is empty: from must be ≤ to`);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const groupEntry = await this.store.get(groupKey(this.product, groupId));
      if (!groupEntry) throw notFound(`group ${groupId} does not exist; create it first`);
      const { slots } = await this.readSlots();
      const todo: Array<{ id: number; revision: string | null }> = [];
      const owned = new Map<string, number[]>();
      let already = 0;
      for (let id = from; id <= to; id++) {
        const cur = slots.get(id);
        const s = cur?.slot.state;
        if (s === undefined || s.kind === 'unassigned') todo.push({ id, revision: cur?.entry.revision ?? null });
        else if (s.kind === 'online' && s.group === groupId) already++;
        else {
          const who = s.kind === 'online' ? `group ${s.group}` : `a migration from group ${s.from} to group ${s.to}`;
          owned.set(who, [...(owned.get(who) ?? []), id]);
        }
      }
      if (owned.size > 0) {
        const parts = [...owned].map(([who, ids]) => `slots ${formatSlotList(ids)} belong to ${who}`);
        const all = formatSlotList([...owned.values()].flat().sort((a, b) => a - b));
        throw conflict('SLOT_OWNED', `${parts.join('; ')}: only unassigned slots can be assigned; move owned slots with a migration (tessera admin migrate ${all.replace(/, /g, ',')} --to ${groupId})`);
      }
      if (todo.length > 0) await this.copyBeforeFirstSlots(groupId, groupEntry, slots);
      if (await this.writeSlots(todo, groupId, groupEntry)) return { assigned: todo.length, already };
    }
    throw busy(`slots ${from}-${to}`);
  }

  /** beforeFirstSlots when `groupId` serves no slot yet and another group (the lowest id) does. */
  private async copyBeforeFirstSlots(groupId: number, groupEntry: StoreEntry, slots: Map<number, { slot: Slot }>): Promise<void> {
    if (!this.beforeFirstSlots) return;
    let source: number | null = null;
    for (const { slot } of slots.values()) {
      if (slot.state.kind !== 'online') continue;
      if (slot.state.group === groupId) return;
      if (source === null || slot.state.group < source) source = slot.state.group;
    }
    if (source === null) return;
    const sourceEntry = await this.store.get(groupKey(this.product, source));
    const from = sourceEntry ? masterOf(parseGroup(sourceEntry.value)) : null;
    const to = masterOf(parseGroup(groupEntry.value));
    if (from !== null && to !== null) await this.beforeFirstSlots({ group: source, addr: from }, { group: groupId, addr: to });
  }

  /** Writes the assignments in chunks; false when a chunk lost a compare (the caller re-reads). */
  private async writeSlots(todo: Array<{ id: number; revision: string | null }>, groupId: number, groupEntry: StoreEntry): Promise<boolean> {
    let groupRevision = groupEntry.revision;
    for (let i = 0; i < todo.length; i += SLOTS_PER_TXN) {
      const chunk = todo.slice(i, i + SLOTS_PER_TXN);
      const compares: TxnCompare[] = [{ key: groupEntry.key, revision: groupRevision }, ...chunk.map((s) => ({ key: slotKey(this.product, s.id), revision: s.revision }))];
      // Rewriting the group key (same value) makes a concurrent delete of the group fail its compare.
      const ops: TxnOp[] = [
        { op: 'put', key: groupEntry.key, value: groupEntry.value },
        ...chunk.map((s): TxnOp => ({ op: 'put', key: slotKey(this.product, s.id), value: encodeSlot({ id: s.id, state: { kind: 'online', group: groupId } }) })),
      ];
      const revision = await this.write(compares, ops);
      if (revision === null) return false;
      groupRevision = revision; // the writes of one txn share its revision
    }
    return true;
  }
}

function checkGroupId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_GROUP_ID) throw new ApiError(400, 'BAD_REQUEST', `group id must be an integer 1..${MAX_GROUP_ID}, got ${id}`);
}

function checkExpected(id: number, entry: StoreEntry, expected: string | undefined): void {
  if (expected !== undefined && expected !== entry.revision) throw staleRevision(id, expected, entry.revision);
}

function staleRevision(id: number, expected: string, current?: string): ApiError {
  return conflict('CONFLICT', `group ${id} changed since revision ${expected}${current ? ` (now ${current})` : ''}; read it again and retry`, current ? { current } : {});
}

function busy(what: string): ApiError {
  return conflict('CONFLICT', `${what} kept changing under ${MAX_ATTEMPTS} attempts; try again`);
}

export type { ServerRole };
