// The desired runs of a master (desiredRanges) hold what the rule gives each slot, and reconcile's
// comparison of a node's runs with them (differingSlots, gains in dashboard/coordinator/reconcile.ts)
// gives what the per-slot "state peer" words it replaced gave,
// over generated runs (fast-check) as nodes may report them: overlapping (the later wins), past
// the last slot, unknown states, and against runs built by desiredRanges from generated tables.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Group, type Slot, type SlotRoute, type SlotState, slotTable } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import type { NodeSlotRange } from '../../../dashboard/coordinator/node-client.js';
import { desiredRanges, differingSlots, gains } from '../../../dashboard/coordinator/reconcile.js';

/** The words the comparison was first written with: one "state peer" string per slot. */
function words(ranges: readonly NodeSlotRange[]): string[] {
  const out = new Array<string>(SLOT_COUNT).fill('none -');
  for (const r of ranges) for (let s = r.start; s <= Math.min(r.end, SLOT_COUNT - 1); s++) out[s] = `${r.state} ${r.peer ?? '-'}`;
  return out;
}

function differingByWords(have: readonly NodeSlotRange[], want: readonly NodeSlotRange[]): number {
  const a = words(have);
  const b = words(want);
  let n = 0;
  for (let s = 0; s < SLOT_COUNT; s++) if (a[s] !== b[s]) n++;
  return n;
}

/** gains() as first written: the rank of what the node serves per slot, the later run winning. */
function gainsByRank(have: readonly NodeSlotRange[], want: readonly NodeSlotRange[]): boolean {
  const serves: Record<string, number> = { none: 0, migrating: 1, importing: 1, owned: 2 };
  const rank = new Uint8Array(SLOT_COUNT);
  for (const r of have) for (let s = r.start; s <= Math.min(r.end, SLOT_COUNT - 1); s++) rank[s] = serves[r.state] ?? 0;
  const importingAt = (s: number) => {
    for (const r of have) if (s >= r.start && s <= r.end) return r.state === 'importing';
    return false;
  };
  for (const r of want) {
    if (r.state === 'none') continue;
    for (let s = r.start; s <= Math.min(r.end, SLOT_COUNT - 1); s++) {
      if (serves[r.state]! > rank[s]!) return true;
      if (r.state === 'importing' && rank[s] === 1 && !importingAt(s)) return true;
    }
  }
  return false;
}

const PEERS = [null, '127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];
const STATES = ['owned', 'none', 'migrating', 'importing', 'stable'] as NodeSlotRange['state'][]; // 'stable': a state this code does not know

/** Runs as a node might report them: a partition of the slots, sometimes with runs over it, past the end, or reversed. */
const nodeRanges: fc.Arbitrary<NodeSlotRange[]> = fc.tuple(
  fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.constantFrom(...STATES), fc.constantFrom(...PEERS)), { minLength: 1, maxLength: 40 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: SLOT_COUNT - 1 }), fc.integer({ min: 0, max: 2000 }), fc.constantFrom(...STATES), fc.constantFrom(...PEERS)), { maxLength: 3 }),
  fc.boolean(),
).map(([runs, over, reversed]) => {
  const out: NodeSlotRange[] = [];
  let start = 0;
  for (const [len, state, peer] of runs) {
    if (start >= SLOT_COUNT) break;
    const end = Math.min(SLOT_COUNT - 1, start + len);
    out.push({ start, end, state, peer });
    start = end + 1;
  }
  for (const [s, len, state, peer] of over) out.push({ start: s, end: s + len, state, peer });
  return reversed ? out.reverse() : out;
});

/** A table built from runs of slot states, one group of it, and some of its migrating slots held. */
const tables: fc.Arbitrary<{ table: SlotRoute[]; group: number; held: Set<number> }> = fc.tuple(
  fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })), { minLength: 1, maxLength: 30 }),
  fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 0, max: 2 }),
).map(([runs, masters, group, holdEvery]) => {
  const groups: Group[] = [1, 2, 3].map((id) => ({ id, servers: masters[id - 1] ? [{ addr: PEERS[id]!, role: 'master' }] : [] }));
  const slots: Slot[] = [];
  const held = new Set<number>();
  for (const [len, kind, a, d] of runs) {
    const state: SlotState = kind === 0 ? { kind: 'unassigned' } : kind < 4 ? { kind: 'migrating', from: a, to: 1 + ((a - 1 + d) % 3) } : { kind: 'online', group: a };
    for (let i = 0; i < len && slots.length < SLOT_COUNT; i++) {
      if (state.kind === 'migrating' && holdEvery > 0 && slots.length % (holdEvery + 1) === 0) held.add(slots.length);
      slots.push({ id: slots.length, state });
    }
  }
  return { table: slotTable(slots, groups), group, held };
});

const desired: fc.Arbitrary<NodeSlotRange[]> = tables.map(({ table, group, held }) => desiredRanges(table, group, held));

/** What group `g`'s master must have of one slot, as its "state peer" word (the rule in reconcile.ts's header). */
function desiredWord(route: SlotRoute, g: number, held: boolean): string {
  const word = (state: string, peer: string | null) => `${state} ${peer ?? '-'}`;
  if (route.kind === 'unassigned') return word('none', null);
  if (route.kind === 'online') return route.group === g ? word('owned', null) : word('none', route.master);
  if (held) return route.from === g ? word('owned', null) : word('none', route.fromMaster);
  if (route.from === g) return route.toMaster ? word('migrating', route.toMaster) : word('owned', null);
  if (route.to === g) return route.fromMaster ? word('importing', route.fromMaster) : word('none', null);
  return word('none', route.fromMaster);
}

describe('desiredRanges', () => {
  it('gives every slot its desired state and peer, in contiguous runs that each differ from the next', () => {
    fc.assert(fc.property(tables, ({ table, group, held }) => {
      const runs = desiredRanges(table, group, held);
      expect(words(runs)).toEqual(table.map((route, s) => desiredWord(route, group, route.kind === 'migrating' && held.has(s))));
      expect(runs[0]!.start).toBe(0);
      expect(runs[runs.length - 1]!.end).toBe(SLOT_COUNT - 1);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i]!.start).toBe(runs[i - 1]!.end + 1);
        expect([runs[i]!.state, runs[i]!.peer]).not.toEqual([runs[i - 1]!.state, runs[i - 1]!.peer]);
      }
    }), { numRuns: 200 });
  });
});

describe('differingSlots and gains', () => {
  it('agree with the per-slot words over node runs and desired runs', () => {
    let gained = 0;
    let runs = 0;
    fc.assert(fc.property(nodeRanges, fc.oneof(desired, nodeRanges), (have, want) => {
      runs++;
      expect(differingSlots(have, want)).toBe(differingByWords(have, want));
      const g = gainsByRank(have, want);
      expect(gains(have, want)).toBe(g);
      if (g) gained++;
      expect(differingSlots(want, want)).toBe(0);
    }), { numRuns: 400 });
    expect(gained).toBeGreaterThan(runs / 20); // both answers were exercised
    expect(gained).toBeLessThan(runs);
  });
});
