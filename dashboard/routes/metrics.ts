// /metrics for Prometheus (prom-client, one registry per app so tests can build several).
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppDeps } from '../app.js';
import { StateCachingStore } from '../coordinator/cluster-state.js';

export function registerMetricsRoute(app: FastifyInstance, deps: AppDeps): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'tessera_dashboard_leader', help: '1 while this coordinator is the leader, 0 as a standby', registers: [registry], collect() { this.set(deps.leadership.role === 'leader' ? 1 : 0); } });
  const requests = new Counter({ name: 'tessera_dashboard_http_requests_total', help: 'API requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const conflicts = new Counter({ name: 'tessera_dashboard_write_conflicts_total', help: 'Store writes that lost a compare-and-swap and were retried or refused', registers: [registry] });
  const slots = new Gauge({ name: 'tessera_dashboard_slots', help: 'Slots by state', labelNames: ['state'], registers: [registry] });
  const groups = new Gauge({ name: 'tessera_dashboard_groups', help: 'Groups', registers: [registry] });
  const proxies = new Gauge({ name: 'tessera_dashboard_proxies', help: 'Live registered proxies', registers: [registry] });
  // Per server, from the leader's health checks (a standby checks nothing: no series there).
  const serverUp = new Gauge({ name: 'tessera_dashboard_server_up', help: '1 while a server answers the health checks, 0 while it does not (leader only)', labelNames: ['group', 'addr', 'role'], registers: [registry] });
  const linkUp = new Gauge({ name: 'tessera_dashboard_replica_link_up', help: "1 while a replica's link to its master is up (its own INFO replication)", labelNames: ['group', 'addr'], registers: [registry] });
  const lag = new Gauge({ name: 'tessera_dashboard_replica_lag_bytes', help: "A replica's master offset minus its own, from the last health check", labelNames: ['group', 'addr'], registers: [registry] });
  const failoverEvents = new Counter({ name: 'tessera_dashboard_failovers_total', help: 'Failover work done by this coordinator while leading, by kind', labelNames: ['kind'], registers: [registry] });
  // Migrations (this coordinator's work while leading) and the slots they hold by phase.
  const migrationWork = new Counter({ name: 'tessera_dashboard_migration_work_total', help: 'Migration work done by this coordinator while leading: steps (batched slot-state changes), txns, mover calls and failed mover calls', labelNames: ['kind'], registers: [registry] });
  const moved = new Counter({ name: 'tessera_dashboard_migration_moved_total', help: 'Keys and bytes the movers reported moved (bytes partly estimated)', labelNames: ['unit'], registers: [registry] });
  const migrationSlots = new Gauge({ name: 'tessera_dashboard_migration_slots', help: 'Slots of unfinished migrations by phase (paused ones also counted under paused)', labelNames: ['phase'], registers: [registry] });
  const stateReads = new Counter({ name: 'tessera_dashboard_cluster_state_reads_total', help: "Reads of the cluster state by the coordinator's steps, from its cache or the store", labelNames: ['source'], registers: [registry] });
  const seen = new Map<string, number>();
  let conflictsSeen = 0;

  /** Counters only go up: adds to `counter` what each total grew by since the last scrape (the components keep totals). */
  const countTotals = (counter: Counter<string>, label: string, prefix: string, totals: Readonly<Record<string, number>> | undefined, names: Readonly<Record<string, string>> = {}): void => {
    if (!totals) return;
    for (const [field, total] of Object.entries(totals)) {
      const key = `${prefix}.${field}`;
      const before = seen.get(key) ?? 0;
      if (total > before) counter.inc({ [label]: names[field] ?? field }, total - before);
      seen.set(key, total);
    }
  };

  const countMigrations = async (): Promise<void> => {
    const m = deps.migrations?.migrator;
    if (!m) return;
    const { keysMoved, bytesMoved, ...work } = m.stats;
    countTotals(migrationWork, 'kind', 'migration', work, { moverCalls: 'mover_calls', moverErrors: 'mover_errors' });
    countTotals(moved, 'unit', 'moved', { keysMoved, bytesMoved }, { keysMoved: 'keys', bytesMoved: 'bytes' });
    const phases = { pending: 0, preparing: 0, migrating: 0, finished: 0, paused: 0 };
    for (const b of await m.list()) for (const phase of Object.keys(phases) as Array<keyof typeof phases>) phases[phase] += b.slots[phase];
    for (const [phase, n] of Object.entries(phases)) migrationSlots.set({ phase }, n);
  };

  const sampleHealth = (): void => {
    // Reset first: a server removed from its group must not keep its last value forever.
    serverUp.reset();
    linkUp.reset();
    lag.reset();
    for (const h of deps.failover?.failover.health.all() ?? []) {
      const group = String(h.group);
      serverUp.set({ group, addr: h.addr, role: h.storeRole }, h.reachable ? 1 : 0);
      if (h.storeRole !== 'replica') continue;
      if (h.linkUp !== null) linkUp.set({ group, addr: h.addr }, h.reachable && h.linkUp ? 1 : 0);
      if (h.lagBytes !== null) lag.set({ group, addr: h.addr }, h.lagBytes);
    }
  };

  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, not the URL: label values stay bounded.
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['meta'] } }, async (_req, reply) => {
    const [overview] = await Promise.all([deps.cluster.overview()]);
    slots.set({ state: 'online' }, overview.counts.slots.online);
    slots.set({ state: 'migrating' }, overview.counts.slots.migrating);
    slots.set({ state: 'unassigned' }, overview.counts.slots.unassigned);
    groups.set(overview.counts.groups);
    proxies.set(overview.counts.proxies);
    const now = deps.cluster.stats.conflicts;
    if (now > conflictsSeen) conflicts.inc(now - conflictsSeen);
    conflictsSeen = now;
    countTotals(failoverEvents, 'kind', 'failover', deps.failover?.failover.stats);
    await countMigrations();
    const store = deps.failover?.store;
    if (store instanceof StateCachingStore) countTotals(stateReads, 'source', 'state', { cache: store.stats.hits, store: store.stats.reads });
    sampleHealth();
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
