// The node contract of slot ownership and the mover, in memory, for the coordinator's unit tests
// (test/unit/dashboard/migrations.test.ts, migration-admission.test.ts): a node's slots as words
// "<state> <peer|->", epochs (older refused, the same epoch must change nothing), TESSERA.MIGRATE
// only from a source MIGRATING to a target IMPORTING from it, keys counted per slot on one side.
import type { FileStore } from '../../common/store/file-store.js';
import { encodeGroup, encodeSlot } from '../../common/model.js';
import { SLOT_COUNT } from '../../common/slots.js';
import { groupKey, slotKey } from '../../common/store/keys.js';
import type { NodeSlotRange } from '../../dashboard/coordinator/node-client.js';

export interface FakeSlotNode { epoch: number; slots: string[]; keys: Map<number, number> }

/** The node's slots as TESSERA.SLOTS ranges: runs of one state and peer. */
export function slotRanges(n: FakeSlotNode): NodeSlotRange[] {
  const ranges: NodeSlotRange[] = [];
  n.slots.forEach((w, s) => {
    const [state, peer] = w.split(' ') as [NodeSlotRange['state'], string];
    const last = ranges[ranges.length - 1];
    const p = peer === '-' ? null : peer;
    if (last && last.state === state && last.peer === p) last.end = s;
    else ranges.push({ start: s, end: s, state, peer: p });
  });
  return ranges;
}

/** TESSERA.SLOTS SET at `epoch`: throws STALEEPOCH as a node would; returns the new slot words. */
export function setSlotRanges(n: FakeSlotNode, epoch: number, ranges: readonly NodeSlotRange[]): string[] {
  const next = [...n.slots];
  for (const r of ranges) for (let s = r.start; s <= r.end; s++) next[s] = `${r.state} ${r.peer ?? '-'}`;
  if (epoch < n.epoch) throw new Error(`STALEEPOCH configuration epoch ${epoch} is older than this node's ${n.epoch}`);
  if (epoch === n.epoch && next.some((w, s) => w !== n.slots[s])) throw new Error('STALEEPOCH already in force with a different slot state');
  n.slots = next;
  n.epoch = epoch;
  return next;
}

/** One MIGRATE SLOT call's key move (up to `maxKeys`), refused unless source and target agree. */
export function moveSlotKeys(s: FakeSlotNode, source: string, t: FakeSlotNode, target: string, slot: number, maxKeys: number): { n: number; have: number } {
  if (s.slots[slot] !== `migrating ${target}`) throw new Error(`ERR slot ${slot} is not migrating to ${target}`);
  if (t.slots[slot] !== `importing ${source}`) throw new Error(`ERR target refused: slot ${slot} not importing`);
  const have = s.keys.get(slot) ?? 0;
  const n = Math.min(have, maxKeys);
  s.keys.set(slot, have - n);
  t.keys.set(slot, (t.keys.get(slot) ?? 0) + n);
  return { n, have };
}

/** Group 1 (master `a`) owns slots 0-511, group 2 (master `b`) the rest, in the store. */
export async function seedTwoGroups(store: FileStore, product: string, a: string, b: string): Promise<void> {
  await store.put(groupKey(product, 1), encodeGroup({ id: 1, servers: [{ addr: a, role: 'master' }] }));
  await store.put(groupKey(product, 2), encodeGroup({ id: 2, servers: [{ addr: b, role: 'master' }] }));
  const ops = [];
  for (let s = 0; s < SLOT_COUNT; s++) ops.push({ op: 'put' as const, key: slotKey(product, s), value: encodeSlot({ id: s, state: { kind: 'online', group: s < 512 ? 1 : 2 } }) });
  for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
}
