// The coordinator's HTTP API, built without listening so tests can inject requests. Every reply
// that is not a success is {code, message}: schema errors (400 BAD_REQUEST naming the field), a
// body that is not JSON (400), a missing or wrong token (401), unknown routes (404), a standby
// asked to write (503 NOT_LEADER with the leader's URL: the CLI follows it once), a store that
// fails (503 STORE_UNAVAILABLE).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { checkBearer, tokenDigest } from '../common/http-auth.js';
import { ApiError } from './api-error.js';
import type { Cluster } from './coordinator/cluster.js';
import { type LeaderView, NotLeaderError } from './coordinator/leadership.js';
import { StoreUnavailableError } from './coordinator/store-errors.js';
import { OpenApiCollector } from './openapi.js';
import { registerGroupRoutes } from './routes/groups.js';
import type { Migrator } from './coordinator/migrations.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerMigrationRoutes } from './routes/migrations.js';
import { type RebalanceDeps, registerRebalanceRoutes } from './routes/rebalance.js';
import { registerSlotRoutes } from './routes/slots.js';
import type { EventLog } from './coordinator/events.js';
import type { Failover } from './coordinator/failover.js';
import { registerEventRoutes } from './routes/events.js';
import { registerFailoverRoutes } from './routes/failover.js';
import { registerStatusRoutes } from './routes/status.js';
import { StreamHub } from './live/stream-hub.js';
import { registerStatsRoutes } from './routes/stats.js';
import { registerStreamRoutes } from './routes/stream.js';
import { registerUiRoutes } from './routes/ui.js';
import { type KeyCounter, RedisKeyCounter } from './coordinator/new-master.js';

export const API_PREFIX = '/api/v1';
export const VERSION = '0.1.0';
/** Request bodies are a few fields: anything bigger is refused before it is parsed. */
const BODY_LIMIT = 64 * 1024;

export interface AppDeps {
  cluster: Cluster;
  leadership: LeaderView;
  token: string;
  openReads: boolean;
  /** The migration state machine and rebalance (without: GET /migrations lists the raw records only). */
  migrations?: { migrator: Migrator; rebalance: RebalanceDeps };
  /** Health checks, failover and the event log (issue 9). */
  failover?: { failover: Failover; events: EventLog; store: import('../common/store/coord-store.js').CoordStore };
  /** fastify's logger option (pino); false in tests. */
  logger?: FastifyServerOptions['logger'];
  /** Counts a would-be master's keys (default: asks the node over its port, with live.nodePassword). */
  keyCounter?: KeyCounter;
  /** Credentials the live stats sampler uses: the nodes' requirepass, the proxies' admin token. */
  live?: { nodePassword: string | null; proxyAdminToken: string | null };
}

declare module 'fastify' {
  /** Annotations for the OpenAPI document (fastify ignores them). */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
    /** Left out of the OpenAPI document (the web UI's files). */
    hide?: boolean;
  }
  interface FastifyContextConfig {
    /** Served without the token (the OpenAPI document: it says nothing about the cluster). */
    open?: boolean;
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT,
    // Bodies are checked exactly as sent: no type coercion, and unknown fields are errors (a
    // typo'd field must not be dropped silently). Path parameters are strings with patterns.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const openapi = new OpenApiCollector();
  app.addHook('onRoute', (route) => openapi.add(route, route.config?.open === true));
  app.addHook('onRequest', authHook(deps.token, deps.openReads));
  // A standby answers reads; every mutating route needs the leader (checked before any work).
  app.addHook('preHandler', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && deps.leadership.role !== 'leader') throw new NotLeaderError('this coordinator is a standby');
  });
  app.setErrorHandler<FastifyError>((err, req, reply) => replyError(err, req, reply, deps.leadership));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?', 1)[0]}` });
  });

  registerMetricsRoute(app, deps);
  // The live state behind the web UI's stream, shared by every subscriber (dashboard/live/).
  const hub = new StreamHub({
    cluster: deps.cluster, leadership: deps.leadership, migrator: deps.migrations?.migrator, events: deps.failover?.events, store: deps.failover?.store,
    nodePassword: deps.live?.nodePassword ?? null, proxyAdminToken: deps.live?.proxyAdminToken ?? null, log: (msg) => app.log.warn(msg),
  });
  app.addHook('preClose', async () => hub.close());
  // Asks a server being added as a master how many keys it holds (routes/groups.ts).
  const keyCounter = deps.keyCounter ?? new RedisKeyCounter(deps.live?.nodePassword ?? null);
  app.addHook('onClose', async () => keyCounter.close());
  app.register(registerUiRoutes);
  app.register(async (api) => {
    registerGroupRoutes(api, deps.cluster, keyCounter);
    registerSlotRoutes(api, deps.cluster);
    registerStatusRoutes(api, deps.cluster, !deps.migrations);
    if (deps.migrations) {
      registerMigrationRoutes(api, deps.migrations.migrator);
      registerRebalanceRoutes(api, deps.migrations.rebalance);
    }
    if (deps.failover) {
      registerFailoverRoutes(api, deps.failover.failover, deps.failover.store, deps.cluster.product);
      registerEventRoutes(api, deps.failover.events);
    }
    registerStreamRoutes(api, hub, deps.token, deps.leadership);
    registerStatsRoutes(api, hub);
    api.get('/openapi.json', { config: { open: true }, schema: { summary: 'This OpenAPI document', tags: ['meta'] } }, async () =>
      openapi.document({ title: 'Tessera coordinator API', version: VERSION, openReads: deps.openReads }));
  }, { prefix: API_PREFIX });
  return app;
}

/**
 * Runs for every request, unknown routes too (so a 404 reveals nothing without the token):
 * 401 for a missing or wrong bearer token; GETs pass without one when open-reads is set.
 */
function authHook(token: string, openReads: boolean) {
  const want = tokenDigest(token);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.config?.open === true) return;
    if (openReads && (req.method === 'GET' || req.method === 'HEAD')) return;
    const verdict = checkBearer(req.headers.authorization, want);
    if (verdict === 'ok') return;
    const [code, message] = verdict === 'missing'
      ? ['TOKEN_MISSING', 'this route needs an Authorization: Bearer <token> header (the coordinator\'s token)']
      : ['TOKEN_INVALID', 'the token is wrong'];
    return reply.code(401).header('www-authenticate', 'Bearer realm="tessera-dashboard"').send({ code, message });
  };
}

async function replyError(err: FastifyError, req: FastifyRequest, reply: FastifyReply, leadership: LeaderView): Promise<FastifyReply> {
  if (err instanceof ApiError) return reply.code(err.status).send({ code: err.code, message: err.message, ...err.extra });
  if (err instanceof NotLeaderError) {
    const leader = (await leadership.candidates().catch(() => []))[0];
    const url = leader && leader.id !== leadership.self.id ? leader.url : null;
    return reply.code(503).header('retry-after', '1').send({
      code: 'NOT_LEADER',
      message: `${err.message}: send writes to the leader${url ? ` at ${url}` : ' (none elected yet; retry shortly)'}`,
      leader: url,
    });
  }
  if (err instanceof StoreUnavailableError) {
    req.log.warn(err.message);
    return reply.code(503).header('retry-after', '1').send({ code: 'STORE_UNAVAILABLE', message: err.message });
  }
  if (err.validation) return reply.code(400).send({ code: 'BAD_REQUEST', message: validationMessage(err) });
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply.code(400).send({ code: 'BAD_REQUEST', message: `the body must be JSON: ${err.message}` });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply.code(415).send({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `send the body as application/json, not ${req.headers['content-type'] ?? 'nothing'}` });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply.code(413).send({ code: 'PAYLOAD_TOO_LARGE', message: `the body is larger than ${BODY_LIMIT} bytes` });
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return reply.code(status).send({ code: 'BAD_REQUEST', message: err.message });
  req.log.error({ err }, 'request failed');
  return reply.code(500).send({ code: 'INTERNAL', message: err.message });
}

/** "body/role must be one of master, replica" — names the field, and what is allowed. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const where = `${err.validationContext ?? 'request'}${first.instancePath}`;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') return `${where}/${String(params.additionalProperty)} is not a known field`;
  if (first.keyword === 'enum') return `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
  if (first.keyword === 'required') return `${where} must have the field '${String(params.missingProperty)}'`;
  return `${where} ${first.message ?? 'is invalid'}`;
}
