// /api/v1/rebalance: a plan that evens out the groups, shown before it is applied.
// By slot count: every group with a master ends with floor or ceil(slots / groups) slots. Better,
// by keys: when every master answered TESSERA.SLOTS STATS, the slots moved are chosen so the groups'
// key counts come out as even as the slot counts allow (greedy: each move takes, from the group
// with the most keys above its slot target, the slot whose keys best close the gap to the group
// with the fewest keys below its target). Applying creates one migration per target group.
import type { FastifyInstance } from 'fastify';
import { masterOf } from '../../common/model.js';
import type { CoordStore } from '../../common/store/coord-store.js';
import { formatSlotList } from '../api-error.js';
import { type BatchView, type Migrator } from '../coordinator/migrations.js';
import type { NodeApi } from '../coordinator/node-client.js';
import { readClusterState } from '../coordinator/reconcile.js';
import { errorReplies, rebalancePlanSchema, rebalanceReply } from '../schemas.js';

export interface RebalanceGroup {
  id: number;
  slots: number;
  keys: number | null;
  bytes: number | null;
  slotsAfter: number;
  keysAfter: number | null;
}

export interface RebalancePlan {
  by: 'keys' | 'slots';
  groups: RebalanceGroup[];
  moves: Array<{ from: number; to: number; slots: string; count: number; keys: number | null }>;
  skipped?: string;
}

export interface RebalanceInput {
  /** Groups that can take slots (they have a master), with the slots online in each. */
  groups: Array<{ id: number; slots: number[] }>;
  /** Keys per slot, when every master answered; null otherwise. */
  keys: Map<number, number> | null;
  bytes: Map<number, number> | null;
}

/** The pure planning step (unit-tested). */
export function planRebalance(input: RebalanceInput): RebalancePlan {
  const groups = [...input.groups].sort((a, b) => a.id - b.id);
  const total = groups.reduce((n, g) => n + g.slots.length, 0);
  const byKeys = input.keys !== null;
  const k = (s: number) => input.keys?.get(s) ?? 0;
  const sum = (slots: number[]) => slots.reduce((n, s) => n + k(s), 0);
  // Targets: floor for all, +1 for the groups holding the most slots now (fewest moves).
  const base = groups.length ? Math.floor(total / groups.length) : 0;
  let extra = groups.length ? total % groups.length : 0;
  const target = new Map<number, number>();
  for (const g of [...groups].sort((a, b) => b.slots.length - a.slots.length || a.id - b.id)) target.set(g.id, base + (extra-- > 0 ? 1 : 0));
  const own = new Map(groups.map((g) => [g.id, [...g.slots]]));
  const moved = new Map<string, number[]>(); // "from>to" → slots
  for (let guard = 0; guard < total; guard++) {
    const donors = groups.filter((g) => own.get(g.id)!.length > target.get(g.id)!);
    const takers = groups.filter((g) => own.get(g.id)!.length < target.get(g.id)!);
    if (!donors.length || !takers.length) break;
    const donor = donors.sort((a, b) => sum(own.get(b.id)!) - sum(own.get(a.id)!) || a.id - b.id)[0]!;
    const taker = takers.sort((a, b) => sum(own.get(a.id)!) - sum(own.get(b.id)!) || a.id - b.id)[0]!;
    const slots = own.get(donor.id)!;
    let pick = slots.length - 1; // without stats: the donor's highest slots (contiguous ranges)
    if (byKeys) {
      const gap = (sum(slots) - sum(own.get(taker.id)!)) / 2;
      let best = Infinity;
      for (let i = slots.length - 1; i >= 0; i--) {
        const d = Math.abs(k(slots[i]!) - gap);
        if (d < best) { best = d; pick = i; }
      }
    }
    const [slot] = slots.splice(pick, 1);
    own.get(taker.id)!.push(slot!);
    const key = `${donor.id}>${taker.id}`;
    moved.set(key, [...(moved.get(key) ?? []), slot!]);
  }
  return {
    by: byKeys ? 'keys' : 'slots',
    groups: groups.map((g) => ({
      id: g.id, slots: g.slots.length, keys: byKeys ? sum(g.slots) : null,
      bytes: input.bytes ? g.slots.reduce((n, s) => n + (input.bytes!.get(s) ?? 0), 0) : null,
      slotsAfter: own.get(g.id)!.length, keysAfter: byKeys ? sum(own.get(g.id)!) : null,
    })),
    moves: [...moved].map(([key, slots]) => {
      const [from, to] = key.split('>').map(Number) as [number, number];
      const sorted = slots.sort((a, b) => a - b);
      return { from, to, slots: formatSlotList(sorted).replace(/, /g, ','), count: sorted.length, keys: byKeys ? sum(sorted) : null };
    }),
  };
}

export interface RebalanceDeps {
  store: CoordStore;
  product: string;
  nodes: NodeApi;
  migrator: Migrator;
}

export async function currentPlan(d: RebalanceDeps): Promise<RebalancePlan> {
  const st = await readClusterState(d.store, d.product);
  const groups: RebalanceInput['groups'] = [];
  for (const g of [...st.groups.values()]) if (masterOf(g) !== null) groups.push({ id: g.id, slots: [] });
  const byId = new Map(groups.map((g) => [g.id, g]));
  let migrating = 0;
  for (const s of st.slots) {
    if (s.state.kind === 'online') byId.get(s.state.group)?.slots.push(s.id);
    else if (s.state.kind === 'migrating') migrating++;
  }
  if (migrating > 0) return { ...planRebalance({ groups, keys: null, bytes: null }), moves: [], skipped: `${migrating} slot(s) are migrating: rebalance once they are done` };
  let keys: Map<number, number> | null = new Map();
  const bytes = new Map<number, number>();
  await Promise.all(groups.map(async (g) => {
    try {
      for (const s of await d.nodes.slotStats(masterOf(st.groups.get(g.id)!)!, g.slots)) {
        keys?.set(s.slot, s.keys);
        bytes.set(s.slot, s.bytes);
      }
    } catch {
      keys = null; // a master did not answer: plan by slot count
    }
  }));
  return planRebalance({ groups, keys, bytes: keys ? bytes : null });
}

export function registerRebalanceRoutes(api: FastifyInstance, d: RebalanceDeps): void {
  const tags = ['rebalance'];
  api.get('/rebalance/plan', {
    schema: { summary: 'What a rebalance would move (by keys when every master reports slot stats, else by slot count)', tags, response: { 200: rebalancePlanSchema, ...errorReplies(401, 503) } },
  }, async () => currentPlan(d));

  api.post('/rebalance', {
    schema: { summary: 'Plan and start the migrations that even out the groups', tags, response: { 200: rebalanceReply, ...errorReplies(401, 409, 503) } },
  }, async () => {
    const plan = await currentPlan(d);
    const migrations: BatchView[] = [];
    const byTarget = new Map<number, string[]>();
    for (const m of plan.moves) byTarget.set(m.to, [...(byTarget.get(m.to) ?? []), m.slots]);
    for (const [to, lists] of byTarget) {
      const slots = lists.join(',').split(',').flatMap((p) => {
        const [a, b] = p.split('-').map(Number) as [number, number | undefined];
        return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
      });
      migrations.push(await d.migrator.create(slots, to));
    }
    return { plan, migrations };
  });
}
