// /api/v1/events: the coordinator's event log (failovers, promotions, fencing, repairs), newest last.
import type { FastifyInstance } from 'fastify';
import type { EventLog } from '../coordinator/events.js';
import { errorReplies } from '../schemas.js';

export function registerEventRoutes(api: FastifyInstance, events: EventLog): void {
  api.get<{ Querystring: { limit?: string; group?: string; type?: string } }>('/events', {
    schema: {
      summary: 'The event log (capped in the store), newest last', tags: ['events'],
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' }, group: { type: 'string', pattern: '^[0-9]{1,4}$' }, type: { type: 'string', maxLength: 64 } },
      },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorReplies(400, 401, 503) },
    },
  }, async (req) => ({
    events: await events.list({
      limit: req.query.limit === undefined ? 100 : Number(req.query.limit),
      group: req.query.group === undefined ? undefined : Number(req.query.group),
      type: req.query.type,
    }),
  }));
}
