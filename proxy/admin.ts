// The proxy's admin HTTP API (fastify): /health, /stats, /metrics (Prometheus), /slots.
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Proxy } from './proxy.js';

export function buildAdminApp(proxy: Proxy): FastifyInstance {
  const app = Fastify({ logger: false });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const commands = new Counter({ name: 'tessera_proxy_commands_total', help: 'Commands handled, by command', labelNames: ['command'], registers: [registry] });
  const errors = new Counter({ name: 'tessera_proxy_errors_total', help: 'Error replies, by command', labelNames: ['command'], registers: [registry] });
  new Gauge({ name: 'tessera_proxy_sessions', help: 'Connected clients', registers: [registry], collect() { this.set(proxy.sessions.size); } });
  new Gauge({ name: 'tessera_proxy_qps', help: 'Commands per second (5 s average)', registers: [registry], collect() { this.set(proxy.stats.qps); } });
  const seen = new Map<string, { calls: number; errors: number }>();

  app.get('/health', async () => ({ status: 'ok', id: proxy.config.id, tableRevision: proxy.topology.revision }));
  app.get('/stats', async () => ({
    id: proxy.config.id,
    product: proxy.config.product,
    uptimeSeconds: Math.floor((Date.now() - proxy.stats.startedAt) / 1000),
    ops: { total: proxy.stats.totalCommands, errors: proxy.stats.totalErrors, qps: proxy.stats.qps, redirects: proxy.stats.redirects },
    sessions: { total: proxy.stats.totalConnections, alive: proxy.sessions.size },
    commands: proxy.stats.snapshot(),
    backends: proxy.pool.stats(),
    tableRevision: proxy.topology.revision,
  }));
  app.get('/slots', async () => proxy.topology.routes.map((route, slot) => ({ slot, ...route })));
  app.get('/metrics', async (_req, reply) => {
    // Counters are monotonic: add only what happened since the last scrape.
    for (const [name, st] of proxy.stats.commands) {
      const prev = seen.get(name) ?? { calls: 0, errors: 0 };
      if (st.calls > prev.calls) commands.inc({ command: name }, st.calls - prev.calls);
      if (st.errors > prev.errors) errors.inc({ command: name }, st.errors - prev.errors);
      seen.set(name, { calls: st.calls, errors: st.errors });
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return app;
}
