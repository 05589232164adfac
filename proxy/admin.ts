// The proxy's admin HTTP API (fastify): /health, /stats, /metrics (Prometheus), /slots.
// Every route needs `Authorization: Bearer <admin-token>`; /health and /metrics may be opened
// with admin-open-reads. Without an admin-token the API answers loopback clients only.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { checkBearer, tokenDigest } from '../common/http-auth.js';
import type { BackendHealth, HealthState } from './backend/pool.js';
import { isLocalAddress } from '../common/protected-mode.js';
import type { Group, SlotRoute } from '../common/model.js';
import type { ProxyConfig } from './config.js';
import type { Proxy } from './proxy.js';
import { RECENT_SLOTS, type RecentFigures } from './stats.js';

/** Routes that reveal nothing about the cluster's layout and change nothing. */
const READ_ONLY_ROUTES = new Set(['/health', '/metrics']);

/** What the admin routes read: one proxy process, or a multi-worker proxy's figures summed over its workers. */
export interface AdminSource {
  readonly config: ProxyConfig;
  health(): Promise<HealthFigures>;
  /** The /stats body. */
  stats(): Promise<Record<string, unknown>>;
  slots(): Promise<Array<{ slot: number } & SlotRoute>>;
  metrics(): Promise<MetricFigures>;
}

export interface HealthFigures {
  tableRevision: string;
  backends: ServerHealth[];
  /** A multi-worker proxy: workers configured and serving (fewer serving = degraded). */
  workers?: { configured: number; serving: number };
}

/** What /metrics reads at a scrape. */
export interface MetricFigures {
  commands: Iterable<[string, { calls: number; errors: number }]>;
  sessions: number;
  qps: number;
  backendsDown: number;
  recent: RecentFigures;
}

/** The admin API of a single-process proxy (reads the Proxy's own state). */
export function buildAdminApp(proxy: Proxy): FastifyInstance {
  return buildAdminAppFrom(localAdminSource(proxy));
}

/** The figures of this process's Proxy (a single-process proxy, or one worker of many). */
export function localAdminSource(proxy: Proxy): AdminSource {
  return {
    config: proxy.config,
    health: async () => ({ tableRevision: proxy.topology.revision, backends: backendHealth(proxy) }),
    stats: async () => localStats(proxy),
    slots: async () => proxy.topology.routes.map((route, slot) => ({ slot, ...route })),
    metrics: async () => ({
      commands: proxy.stats.commands, sessions: proxy.sessions.size, qps: proxy.stats.qps,
      backendsDown: backendHealth(proxy).filter((b) => b.state === 'down').length, recent: proxy.stats.recentSummary(),
    }),
  };
}

/** The /stats body of one process. */
export function localStats(proxy: Proxy): Record<string, unknown> {
  return {
    id: proxy.config.id,
    product: proxy.config.product,
    uptimeSeconds: Math.floor((Date.now() - proxy.stats.startedAt) / 1000),
    ops: { total: proxy.stats.totalCommands, errors: proxy.stats.totalErrors, qps: proxy.stats.qps, redirects: proxy.stats.redirects },
    sessions: { total: proxy.stats.totalConnections, alive: proxy.sessions.size },
    recent: proxy.stats.recentSummary(),
    commands: proxy.stats.snapshot(),
    backends: proxy.pool.stats(),
    tableRevision: proxy.topology.revision,
  };
}

export function buildAdminAppFrom(source: AdminSource): FastifyInstance {
  const app = Fastify({ logger: false });
  app.decorateRequest('adminAuthorized', false);
  app.addHook('onRequest', adminAuth(source.config.adminToken, source.config.adminOpenReads));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The gauges read the figures fetched at the start of the scrape (collect() cannot wait for workers).
  let scrape: MetricFigures | null = null;
  const commands = new Counter({ name: 'tessera_proxy_commands_total', help: 'Commands handled, by command', labelNames: ['command'], registers: [registry] });
  const errors = new Counter({ name: 'tessera_proxy_errors_total', help: 'Error replies, by command', labelNames: ['command'], registers: [registry] });
  new Gauge({ name: 'tessera_proxy_sessions', help: 'Connected clients', registers: [registry], collect() { this.set(scrape?.sessions ?? 0); } });
  new Gauge({ name: 'tessera_proxy_qps', help: 'Commands per second (5 s average)', registers: [registry], collect() { this.set(scrape?.qps ?? 0); } });
  new Gauge({ name: 'tessera_proxy_backends_down', help: 'Backend nodes the proxy cannot reach', registers: [registry], collect() { this.set(scrape?.backendsDown ?? 0); } });
  // The recent window (RECENT_SLOTS s): percentiles over all commands, set at each scrape.
  new Gauge({
    name: 'tessera_proxy_recent_latency_microseconds', help: `Request latency over the last ${RECENT_SLOTS} s (sampled requests), by quantile`,
    labelNames: ['quantile'], registers: [registry],
    collect() {
      if (scrape === null) return;
      this.set({ quantile: '0.5' }, scrape.recent.p50_us);
      this.set({ quantile: '0.99' }, scrape.recent.p99_us);
      this.set({ quantile: '1' }, scrape.recent.max_us);
    },
  });
  new Gauge({ name: 'tessera_proxy_recent_qps', help: `Commands per second over the last ${RECENT_SLOTS} s`, registers: [registry], collect() { this.set(scrape?.recent.qps ?? 0); } });
  const seen = new Map<string, { calls: number; errors: number }>();

  app.get('/health', async (req) => {
    const h = await source.health();
    const down = h.backends.filter((b) => b.state === 'down' || b.state === 'degraded');
    const workersShort = h.workers !== undefined && h.workers.serving < h.workers.configured;
    // The proxy itself answers (so 200); "degraded" says some groups' requests fail or failed lately.
    const summary = { status: down.length === 0 && !workersShort ? 'ok' : 'degraded', id: source.config.id, tableRevision: h.tableRevision, ...(h.workers ? { workers: h.workers } : {}) };
    // An open read (admin-open-reads, no token) learns the status, not where the nodes are.
    if (!req.adminAuthorized) return { ...summary, degradedBackends: down.length };
    return {
      ...summary,
      degraded: down.map((b) => `${b.addr} (group ${b.group} ${b.role}: ${b.state}${b.lastError ? `, ${b.lastError}` : ''})`),
      backends: h.backends,
    };
  });
  app.get('/stats', async () => source.stats());
  app.get('/slots', async () => source.slots());
  app.get('/metrics', async (_req, reply) => {
    scrape = await source.metrics();
    // Counters are monotonic: add only what happened since the last scrape.
    for (const [name, st] of scrape.commands) {
      const prev = seen.get(name) ?? { calls: 0, errors: 0 };
      if (st.calls > prev.calls) commands.inc({ command: name }, st.calls - prev.calls);
      if (st.errors > prev.errors) errors.inc({ command: name }, st.errors - prev.errors);
      seen.set(name, { calls: Math.max(st.calls, prev.calls), errors: Math.max(st.errors, prev.errors) });
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
  return serverHealth(proxy.topology.groups.values(), proxy.pool.health());
}

/** Every server of `groups` with the state of `links` (one process's, or several workers' joined). */
export function serverHealth(groups: Iterable<Group>, health: readonly BackendHealth[]): ServerHealth[] {
  const links = new Map(health.map((h) => [h.addr, h]));
  const out: ServerHealth[] = [];
  for (const g of [...groups].sort((a, b) => a.id - b.id)) {
    for (const server of g.servers) {
      const h = links.get(server.addr);
      out.push({ addr: server.addr, group: g.id, role: server.role, state: h?.state ?? 'idle', lastError: h?.lastError ?? '', lastErrorAt: h?.lastErrorAt ?? null });
    }
  }
  return out;
}
