// The proxy's admin HTTP API (fastify): /health, /stats, /metrics (Prometheus), /slots.
// Every route needs `Authorization: Bearer <admin-token>`; /health and /metrics may be opened
// with admin-open-reads. Without an admin-token the API answers loopback clients only.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { checkBearer, tokenDigest } from '../common/http-auth.js';
import type { HealthState } from './backend/pool.js';
import { isLocalAddress } from '../common/protected-mode.js';
import type { Proxy } from './proxy.js';
import { RECENT_SLOTS } from './stats.js';

/** Routes that reveal nothing about the cluster's layout and change nothing. */
const READ_ONLY_ROUTES = new Set(['/health', '/metrics']);

export function buildAdminApp(proxy: Proxy): FastifyInstance {
  const app = Fastify({ logger: false });
  app.decorateRequest('adminAuthorized', false);
  app.addHook('onRequest', adminAuth(proxy.config.adminToken, proxy.config.adminOpenReads));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const commands = new Counter({ name: 'tessera_proxy_commands_total', help: 'Commands handled, by command', labelNames: ['command'], registers: [registry] });
  const errors = new Counter({ name: 'tessera_proxy_errors_total', help: 'Error replies, by command', labelNames: ['command'], registers: [registry] });
  new Gauge({ name: 'tessera_proxy_sessions', help: 'Connected clients', registers: [registry], collect() { this.set(proxy.sessions.size); } });
  new Gauge({ name: 'tessera_proxy_qps', help: 'Commands per second (5 s average)', registers: [registry], collect() { this.set(proxy.stats.qps); } });
  new Gauge({ name: 'tessera_proxy_backends_down', help: 'Backend nodes the proxy cannot reach', registers: [registry], collect() { this.set(backendHealth(proxy).filter((b) => b.state === 'down').length); } });
  // The recent window (RECENT_SLOTS s): percentiles over all commands, set at each scrape.
  new Gauge({
    name: 'tessera_proxy_recent_latency_microseconds', help: `Request latency over the last ${RECENT_SLOTS} s (sampled requests), by quantile`,
    labelNames: ['quantile'], registers: [registry],
    collect() {
      const r = proxy.stats.recentSummary();
      this.set({ quantile: '0.5' }, r.p50_us);
      this.set({ quantile: '0.99' }, r.p99_us);
      this.set({ quantile: '1' }, r.max_us);
    },
  });
  new Gauge({ name: 'tessera_proxy_recent_qps', help: `Commands per second over the last ${RECENT_SLOTS} s`, registers: [registry], collect() { this.set(proxy.stats.recentSummary().qps); } });
  const seen = new Map<string, { calls: number; errors: number }>();

  app.get('/health', async (req) => {
    const backends = backendHealth(proxy);
    const down = backends.filter((b) => b.state === 'down' || b.state === 'degraded');
    // The proxy itself answers (so 200); "degraded" says some groups' requests fail or failed lately.
    const summary = { status: down.length === 0 ? 'ok' : 'degraded', id: proxy.config.id, tableRevision: proxy.topology.revision };
    // An open read (admin-open-reads, no token) learns the status, not where the nodes are.
    if (!req.adminAuthorized) return { ...summary, degradedBackends: down.length };
    return {
      ...summary,
      degraded: down.map((b) => `${b.addr} (group ${b.group} ${b.role}: ${b.state}${b.lastError ? `, ${b.lastError}` : ''})`),
      backends,
    };
  });
  app.get('/stats', async () => ({
    id: proxy.config.id,
    product: proxy.config.product,
    uptimeSeconds: Math.floor((Date.now() - proxy.stats.startedAt) / 1000),
    ops: { total: proxy.stats.totalCommands, errors: proxy.stats.totalErrors, qps: proxy.stats.qps, redirects: proxy.stats.redirects },
    sessions: { total: proxy.stats.totalConnections, alive: proxy.sessions.size },
    recent: proxy.stats.recentSummary(),
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

declare module 'fastify' {
  interface FastifyRequest {
    /** Passed the admin guard (a good token, or loopback while no token is set). */
    adminAuthorized: boolean;
  }
}

/**
 * The onRequest hook guarding every route (unknown ones too, so a 404 reveals nothing):
 * 401 for a missing or wrong bearer token; 403 for a non-loopback client when no token is set.
 * With admin-open-reads the read-only routes let everyone in, unauthorized (they then answer
 * without backend addresses).
 */
function adminAuth(token: string, openReads: boolean) {
  const want = token === '' ? null : tokenDigest(token);
  const verdict = (req: FastifyRequest): [number, string, string] | null => {
    if (want === null) {
      if (isLocalAddress(req.socket.remoteAddress)) return null;
      return [403, 'ADMIN_PROTECTED_MODE', 'no admin-token is set, so the admin API answers loopback clients only; set admin-token (see docs/security.md)'];
    }
    const bearer = checkBearer(req.headers.authorization, want);
    if (bearer === 'missing') return [401, 'ADMIN_TOKEN_MISSING', 'this route needs an Authorization: Bearer <admin-token> header'];
    return bearer === 'ok' ? null : [401, 'ADMIN_TOKEN_INVALID', 'the admin token is wrong'];
  };
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const refused = verdict(req);
    if (refused === null) {
      req.adminAuthorized = true;
      return;
    }
    if (openReads && READ_ONLY_ROUTES.has(req.url.split('?', 1)[0]!)) return;
    return refuse(reply, ...refused);
  };
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('www-authenticate', 'Bearer realm="tessera-proxy"').send({ code, message });
}

export interface ServerHealth {
  addr: string;
  group: number;
  role: 'master' | 'replica';
  /** From the pool's links (see BackendPool.health); idle: the proxy has no link to it (yet). */
  state: HealthState | 'idle';
  lastError: string;
  lastErrorAt: string | null;
}

/** Every server of every group with the state of the proxy's links to it. */
export function backendHealth(proxy: Proxy): ServerHealth[] {
  const links = new Map(proxy.pool.health().map((h) => [h.addr, h]));
  const out: ServerHealth[] = [];
  for (const g of [...proxy.topology.groups.values()].sort((a, b) => a.id - b.id)) {
    for (const server of g.servers) {
      const h = links.get(server.addr);
      out.push({ addr: server.addr, group: g.id, role: server.role, state: h?.state ?? 'idle', lastError: h?.lastError ?? '', lastErrorAt: h?.lastErrorAt ?? null });
    }
  }
  return out;
}
