// /api/v1/slots: the table, and assigning unassigned slots to a group.
import type { FastifyInstance } from 'fastify';
import type { Cluster } from '../coordinator/cluster.js';
import { assignSlotsBody, assignSlotsReply, errorReplies, slotTableSchema } from '../schemas.js';

const tags = ['slots'];

export function registerSlotRoutes(api: FastifyInstance, cluster: Cluster): void {
  api.get('/slots', {
    schema: { summary: 'The slot table: every slot\'s state, and the online ranges', tags, response: { 200: slotTableSchema, ...errorReplies(401, 503) } },
  }, async () => cluster.slotTable());

  api.post<{ Body: { from: number; to: number; group: number } }>('/slots/assign', {
    schema: {
      summary: 'Put the unassigned slots FROM..TO online in a group (slots another group owns are refused: migrate them)',
      tags, body: assignSlotsBody, response: { 200: assignSlotsReply, ...errorReplies(400, 401, 404, 409, 503) },
    },
  }, async (req) => cluster.assignSlots(req.body.from, req.body.to, req.body.group));
}
