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
  let conflictsSeen = 0;

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
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
