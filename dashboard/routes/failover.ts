// /api/v1 failover routes: a group's health and failover status, a planned switchover (promote),
// the failover records, and the health/failover settings (down-after, hold-down, per group).
// Health is checked by the leader only: a standby answers status with 503 NOT_LEADER naming it.
import type { FastifyInstance } from 'fastify';
import { type FailoverSettings, encodeFailoverSettings, isAddr, parseFailoverSettings, validateFailoverSettings } from '../../common/model.js';
import type { CoordStore } from '../../common/store/coord-store.js';
import { failoverSettingsKey } from '../../common/store/keys.js';
import { badRequest } from '../api-error.js';
import type { Failover } from '../coordinator/failover.js';
import { errorReplies, groupIdParams } from '../schemas.js';

const tags = ['failover'];

const healthSchema = {
  type: 'object', additionalProperties: true,
  properties: {
    addr: { type: 'string' }, storeRole: { type: 'string' }, reachable: { type: 'boolean' },
    lastSeen: { type: ['number', 'null'], description: 'ms since the epoch of the last answer' },
    role: { type: ['string', 'null'], description: 'The role the server reports' },
    linkUp: { type: ['boolean', 'null'] }, offset: { type: ['number', 'null'] }, lagBytes: { type: ['number', 'null'] },
    priority: { type: ['number', 'null'], description: 'replica-priority (0 = never promoted)' },
  },
} as const;
const recordSchema = { type: ['object', 'null'], additionalProperties: true } as const;
const statusSchema = {
  type: 'object', additionalProperties: true,
  properties: {
    group: { type: 'integer' }, master: { type: ['string', 'null'] }, masterDown: { type: 'boolean' }, masterDownForMs: { type: 'number' },
    downAfterMs: { type: 'number' }, servers: { type: 'array', items: healthSchema }, failover: recordSchema,
    blocked: { type: ['string', 'null'], description: 'Why a down master cannot be replaced' }, holdDownUntil: { type: ['string', 'null'] },
  },
} as const;
const settingsProperties = {
  healthIntervalMs: { type: 'integer', minimum: 50, maximum: 10_000 },
  downAfterMs: { type: 'integer', minimum: 100, maximum: 600_000 },
  holdDownMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
  auto: { type: 'boolean' },
  groups: { type: 'object', additionalProperties: { type: 'object', required: ['downAfterMs'], additionalProperties: false, properties: { downAfterMs: { type: 'integer', minimum: 100, maximum: 600_000 } } } },
} as const;

export function registerFailoverRoutes(api: FastifyInstance, failover: Failover, store: CoordStore, product: string): void {
  api.get<{ Params: { id: string } }>('/groups/:id/status', {
    schema: {
      summary: "A group's health (per server: reachable, role, link, offset, lag, last seen) and failover state",
      tags, params: groupIdParams, response: { 200: statusSchema, ...errorReplies(400, 401, 404, 503) },
    },
  }, async (req) => failover.status(Number(req.params.id)));

  api.post<{ Params: { id: string }; Body: { addr: string } }>('/groups/:id/promote', {
    schema: {
      summary: 'Planned switchover: pause writes on the master, wait for the replica to catch up, switch (zero lost writes)',
      description: 'Errors: 404 (not a replica of the group), 409 ALREADY_MASTER, NO_MASTER, FAILOVER_IN_PROGRESS, NOT_CAUGHT_UP.',
      tags, params: groupIdParams,
      body: { type: 'object', required: ['addr'], additionalProperties: false, properties: { addr: { type: 'string', description: 'host:port of the replica to promote' } } },
      response: { 200: recordSchema, ...errorReplies(400, 401, 404, 409, 503) },
    },
  }, async (req) => {
    if (!isAddr(req.body.addr)) throw badRequest(`${req.body.addr} is not host:port`);
    return failover.promote(Number(req.params.id), req.body.addr);
  });

  api.get('/failovers', {
    schema: { summary: 'The last failover record of every group', tags, response: { 200: { type: 'object', properties: { failovers: { type: 'array', items: recordSchema } } }, ...errorReplies(401, 503) } },
  }, async () => ({ failovers: [...(await failover.records()).values()] }));

  api.get('/failover/settings', {
    schema: { summary: 'Health-check and failover settings', tags, response: { 200: { type: 'object', properties: settingsProperties }, ...errorReplies(401, 503) } },
  }, async () => {
    const e = await store.get(failoverSettingsKey(product));
    return e ? parseFailoverSettings(e.value) : validateFailoverSettings({});
  });

  api.put<{ Body: Partial<FailoverSettings> }>('/failover/settings', {
    schema: {
      summary: 'Change health-check and failover settings (taken up within one health interval)', tags,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: settingsProperties },
      response: { 200: { type: 'object', properties: settingsProperties }, ...errorReplies(400, 401, 503) },
    },
  }, async (req) => {
    const key = failoverSettingsKey(product);
    const e = await store.get(key);
    const next = validateFailoverSettings({ ...(e ? parseFailoverSettings(e.value) : {}), ...req.body });
    await store.put(key, encodeFailoverSettings(next));
    return next;
  });
}
