// The admin API's figures for a multi-worker proxy: asked from the workers at each request and
// joined (counters summed, histograms merged, backend links joined per address). A worker that does
// not answer in time is left out of the latencies but its last heartbeat's counters still count.
import type { AdminSource, HealthFigures, MetricFigures } from './admin.js';
import { serverHealth } from './admin.js';
import type { BackendHealth } from './backend/pool.js';
import type { Group, SlotRoute } from '../common/model.js';
import type { WorkerHealth, WorkerStats } from './workers-ipc.js';
import { StatsSum } from './workers-stats.js';
import type { ProxyWorkers } from './workers.js';

export function workersAdminSource(w: ProxyWorkers): AdminSource {
  return {
    config: w.config,
    health: () => health(w),
    stats: async () => {
      const { sum, answers } = await statsSum(w);
      return {
        id: w.config.id,
        product: w.config.product,
        uptimeSeconds: Math.floor((Date.now() - w.startedAt) / 1000),
        ops: { total: sum.totals.totalCommands, errors: sum.totals.totalErrors, qps: Math.round(sum.totals.qps), redirects: sum.totals.redirects },
        sessions: { total: sum.totals.totalConnections, alive: sum.totals.sessions },
        recent: sum.recent.figures(),
        commands: sum.commandFigures(),
        backends: joinBackends(answers.map((a) => a.backends)),
        tableRevision: w.tableRevision(),
        workers: w.slots.map((s) => {
          const a = answers.find((x) => x.index === s.index);
          const t = a?.stats.totals ?? s.beat;
          return {
            index: s.index, pid: s.worker !== null ? s.pid : null, serving: s.worker !== null && s.ready, answered: a !== undefined,
            restarts: s.restarts, tableRevision: s.revision, sessions: t?.sessions ?? 0, commands: t?.totalCommands ?? 0, connections: t?.totalConnections ?? 0,
          };
        }),
      };
    },
    slots: async () => {
      const routes = (await w.askAny('slots')) as SlotRoute[] | null;
      return (routes ?? []).map((route, slot) => ({ slot, ...route }));
    },
    metrics: async (): Promise<MetricFigures> => {
      const [{ sum }, h] = await Promise.all([statsSum(w), health(w)]);
      return {
        commands: Object.entries(sum.commandFigures()),
        sessions: sum.totals.sessions,
        qps: Math.round(sum.totals.qps),
        backendsDown: h.backends.filter((b) => b.state === 'down').length,
        recent: sum.recent.figures(),
      };
    },
  };
}

/** Live workers' exports, plus the counters of dead ones and of live ones that did not answer. */
async function statsSum(w: ProxyWorkers): Promise<{ sum: StatsSum; answers: Array<WorkerStats & { index: number }> }> {
  const sum = new StatsSum();
  const answers: Array<WorkerStats & { index: number }> = [];
  for (const a of await w.ask('stats')) {
    if (a.body !== null) answers.push({ ...(a.body as WorkerStats), index: a.slot.index });
  }
  for (const a of answers) sum.addExport(a.stats);
  sum.addRetired(w.retired);
  for (const s of w.slots) {
    if (s.worker !== null && s.beat !== null && !answers.some((a) => a.index === s.index)) sum.addRetired(s.beat, true);
  }
  return { sum, answers };
}

async function health(w: ProxyWorkers): Promise<HealthFigures> {
  const answers = (await w.ask('health')).flatMap((a) => (a.body !== null ? [a.body as WorkerHealth] : []));
  // The groups of the worker with the newest table (they agree once every worker caught up).
  let groups: Group[] = [];
  let newest = -1n;
  for (const a of answers) {
    if (BigInt(a.revision) > newest) {
      newest = BigInt(a.revision);
      groups = a.groups;
    }
  }
  return {
    tableRevision: w.tableRevision(),
    backends: serverHealth(groups, joinHealth(answers.map((a) => a.links))),
    workers: { configured: w.slots.length, serving: answers.length },
  };
}

/** One backend's links over the workers: down when down from every worker, up when up from every one. */
export function joinHealth(lists: ReadonlyArray<readonly BackendHealth[]>): BackendHealth[] {
  const byAddr = new Map<string, BackendHealth[]>();
  for (const list of lists) for (const h of list) byAddr.set(h.addr, [...(byAddr.get(h.addr) ?? []), h]);
  const out: BackendHealth[] = [];
  for (const [addr, hs] of byAddr) {
    const last = hs.reduce((a, h) => ((h.lastErrorAt ?? '') > (a.lastErrorAt ?? '') ? h : a));
    const sum = (f: (h: BackendHealth) => number) => hs.reduce((n, h) => n + f(h), 0);
    out.push({
      addr,
      state: hs.every((h) => h.state === 'down') ? 'down' : hs.every((h) => h.state === 'up') ? 'up' : 'degraded',
      links: sum((h) => h.links), connected: sum((h) => h.connected), inFlight: sum((h) => h.inFlight),
      blockingLinks: sum((h) => h.blockingLinks), blockingWaiting: sum((h) => h.blockingWaiting), timeouts: sum((h) => h.timeouts),
      lastError: last.lastError, lastErrorAt: last.lastErrorAt,
    });
  }
  return out;
}

/** Pool stats summed per backend address over the workers. */
export function joinBackends(lists: ReadonlyArray<ReadonlyArray<{ addr: string; connected: number; inFlight: number }>>): Array<{ addr: string; connected: number; inFlight: number }> {
  const byAddr = new Map<string, { addr: string; connected: number; inFlight: number }>();
  for (const list of lists) {
    for (const b of list) {
      const j = byAddr.get(b.addr) ?? { addr: b.addr, connected: 0, inFlight: 0 };
      j.connected += b.connected;
      j.inFlight += b.inFlight;
      byAddr.set(b.addr, j);
    }
  }
  return [...byAddr.values()];
}
