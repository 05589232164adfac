// `tessera admin --store URL --product NAME …`: edits groups and slots directly in the store
// (until the coordinator exists; later the same verbs go through its HTTP API).
import { SLOT_COUNT } from '../common/slots.js';
import { type Group, type Slot, encodeGroup, encodeSlot, parseGroup, parseSlot, parseProxyInfo, onlineRanges, type ServerRole } from '../common/model.js';
import type { CoordStore } from '../common/store/coord-store.js';
import { groupKey, groupsPrefix, proxiesPrefix, slotKey, slotsPrefix } from '../common/store/keys.js';

export class AdminError extends Error {}

export async function createGroup(store: CoordStore, product: string, id: number): Promise<void> {
  const res = await store.compareAndSwap(groupKey(product, id), null, encodeGroup({ id, servers: [] }));
  if (!res.ok) throw new AdminError(`group ${id} already exists`);
}

/** Adds a server to a group (the first one added, or any with role master, is the master). */
export async function addServer(store: CoordStore, product: string, id: number, addr: string, role: ServerRole): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await store.get(groupKey(product, id));
    if (!entry) throw new AdminError(`group ${id} does not exist`);
    const group = parseGroup(entry.value);
    if (group.servers.some((s) => s.addr === addr)) throw new AdminError(`${addr} is already in group ${id}`);
    if (role === 'master' && group.servers.some((s) => s.role === 'master')) throw new AdminError(`group ${id} already has a master`);
    const next: Group = { id, servers: [...group.servers, { addr, role }] };
    const res = await store.compareAndSwap(groupKey(product, id), entry.revision, encodeGroup(next));
    if (res.ok) return;
  }
  throw new AdminError(`group ${id} kept changing; try again`);
}

/** Assigns slots [from, to] to a group in one transaction. */
export async function assignSlots(store: CoordStore, product: string, from: number, to: number, group: number): Promise<void> {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to < SLOT_COUNT && from <= to)) {
    throw new AdminError(`slot range must be within 0-${SLOT_COUNT - 1}`);
  }
  if (!(await store.get(groupKey(product, group)))) throw new AdminError(`group ${group} does not exist`);
  const ops = [];
  for (let s = from; s <= to; s++) ops.push({ op: 'put' as const, key: slotKey(product, s), value: encodeSlot({ id: s, state: { kind: 'online', group } }) });
  // Store transactions are small (etcd: 128 ops); write in chunks.
  for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
}

export interface ClusterStatus {
  product: string;
  groups: Group[];
  slots: Array<{ from: number; to: number; group: number }>;
  unassigned: number;
  migrating: number;
  proxies: Array<{ id: string; listen: string; admin: string; tableRevision: string }>;
}

export async function clusterStatus(store: CoordStore, product: string): Promise<ClusterStatus> {
  const groups = (await store.list(groupsPrefix(product))).map((e) => parseGroup(e.value));
  const slots: Slot[] = (await store.list(slotsPrefix(product))).map((e) => parseSlot(e.value));
  const proxies = (await store.list(proxiesPrefix(product))).map((e) => parseProxyInfo(e.value));
  const assigned = slots.filter((s) => s.state.kind !== 'unassigned').length;
  return {
    product,
    groups,
    slots: onlineRanges(slots),
    unassigned: SLOT_COUNT - assigned,
    migrating: slots.filter((s) => s.state.kind === 'migrating').length,
    proxies: proxies.map((p) => ({ id: p.id, listen: p.listen, admin: p.admin, tableRevision: p.tableRevision })),
  };
}

export function formatStatus(st: ClusterStatus): string {
  const lines = [`product ${st.product}`];
  for (const g of st.groups) lines.push(`group ${g.id}: ${g.servers.map((s) => `${s.addr} (${s.role})`).join(', ') || '(no servers)'}`);
  for (const r of st.slots) lines.push(`slots ${r.from}-${r.to} → group ${r.group}`);
  lines.push(`unassigned slots: ${st.unassigned}, migrating: ${st.migrating}`);
  for (const p of st.proxies) lines.push(`proxy ${p.id}: ${p.listen} (admin ${p.admin}, table revision ${p.tableRevision})`);
  return lines.join('\n');
}
