// /api/v1/stats and /api/v1/stats/history: what the nodes and proxies report (the stored state
// cannot say it): per server role, link, replication lag, keys, memory, ops/s, last seen; per
// group the sums, the mean µs per command and the recent p99; per proxy sessions, QPS, recent
// p99, errors; and the last five minutes of QPS and p99 per proxy and per group. Sampled once a second by the stream
// hub while anyone looks (shared by the stream and these routes), every call bounded to 1 s.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-error.js';
import type { StreamHub } from '../live/stream-hub.js';
import { errorReplies } from '../schemas.js';

const tags = ['live'];
const NUM = { type: ['number', 'null'] } as const;
const STR = { type: ['string', 'null'] } as const;

const serverStats = {
  type: 'object',
  properties: {
    addr: { type: 'string' }, group: { type: 'integer' }, storeRole: { type: 'string', description: 'The role the store gives it' },
    reachable: { type: 'boolean' }, role: { ...STR, description: 'The role it reports (INFO replication)' }, linkUp: { type: ['boolean', 'null'] },
    offset: NUM, lagBytes: { ...NUM, description: "Bytes behind its group's master" }, keys: NUM, memory: { ...NUM, description: 'used_memory' },
    opsPerSec: { ...NUM, description: 'instantaneous_ops_per_sec' }, lastSeen: { ...NUM, description: 'ms since the epoch of its last answer' }, error: STR,
  },
} as const;

const groupStats = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, keys: { ...NUM, description: "The master's keys" }, memory: { ...NUM, description: "The master's used_memory" },
    opsPerSec: { type: 'number', description: 'Sum over its servers' },
    usPerCall: { ...NUM, description: 'Mean µs per command over the last second (INFO commandstats)' },
    p99Us: { ...NUM, description: "The highest p99 µs over the last 10 s among the group's servers (INFO tessera); null when none ran commands" },
    serversUp: { type: 'integer' }, servers: { type: 'integer' },
  },
} as const;

const proxyStats = {
  type: 'object',
  properties: {
    id: { type: 'string' }, reachable: { type: 'boolean' }, sessions: NUM, qps: { ...NUM, description: 'Requests per second over the last second' },
    errorsPerSec: NUM, errors: { ...NUM, description: 'Error replies since the proxy started' },
    p99Us: { ...NUM, description: 'p99 µs over the last 10 s, all commands (the proxy\'s admin /stats `recent`; timed requests are one in 8); null when it timed none' },
    redirects: NUM, error: STR,
  },
} as const;

export const statsSchema = {
  type: 'object',
  properties: {
    at: { type: 'number' },
    servers: { type: 'array', items: serverStats },
    groups: { type: 'array', items: groupStats },
    proxies: { type: 'array', items: proxyStats },
    totals: { type: 'object', properties: { keys: { type: 'number' }, memory: { type: 'number' }, opsPerSec: { type: 'number' }, qps: { type: 'number' } } },
  },
} as const;

const seriesSchema = {
  type: 'object',
  properties: { t: { type: 'array', items: { type: 'number' } }, qps: { type: 'array', items: { type: 'number' } }, latencyUs: { type: 'array', items: NUM } },
} as const;

export function registerStatsRoutes(api: FastifyInstance, hub: StreamHub): void {
  api.get('/stats', {
    schema: { summary: 'Per server, group and proxy figures reported by the nodes (INFO) and proxies (admin /stats), sampled each second', tags, response: { 200: statsSchema, ...errorReplies(401, 503) } },
  }, async () => {
    const stats = await hub.stats();
    if (!stats) throw new ApiError(503, 'STORE_UNAVAILABLE', 'no stats yet: the groups and proxies could not be read from the store; retry shortly');
    return stats;
  });

  api.get('/stats/history', {
    schema: {
      summary: 'The last 5 minutes (one point a second) of QPS and p99 µs (each point over the trailing 10 s) per proxy (`proxy:<id>`) and per group (`group:<id>`: ops/s, the highest p99 of its servers)',
      tags, response: { 200: { type: 'object', additionalProperties: seriesSchema }, ...errorReplies(401, 503) },
    },
  }, async () => {
    await hub.stats();
    return hub.sampler.history();
  });
}
