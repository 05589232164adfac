// /metrics for Prometheus (prom-client, one registry per app so tests can build several).
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppDeps } from '../app.js';

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
  const failoverSeen: Record<string, number> = {};
  let conflictsSeen = 0;

  /** Adds to each failover counter what happened since the last scrape (the Failover keeps totals). */
  const countFailovers = (): void => {
    const stats = deps.failover?.failover.stats;
    if (!stats) return;
    for (const [kind, total] of Object.entries(stats)) {
      const seen = failoverSeen[kind] ?? 0;
      if (total > seen) failoverEvents.inc({ kind }, total - seen);
      failoverSeen[kind] = total;
    }
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
    // Counters only go up: add what happened since the last scrape.
    const now = deps.cluster.stats.conflicts;
    if (now > conflictsSeen) conflicts.inc(now - conflictsSeen);
    conflictsSeen = now;
    countFailovers();
    sampleHealth();
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
