// /api/v1/groups: list, get, create, delete (only when empty), add/remove a server.
import type { FastifyInstance } from 'fastify';
import { isAddr, type ServerRole } from '../../common/model.js';
import { badRequest, conflict } from '../api-error.js';
import type { Cluster } from '../coordinator/cluster.js';
import type { KeyCounter } from '../coordinator/new-master.js';
import { addServerBody, createGroupBody, errorReplies, groupIdParams, groupSchema, revisionQuery, serverParams } from '../schemas.js';

const tags = ['groups'];

function checkAddr(addr: string): string {
  if (!isAddr(addr)) throw badRequest(`${addr} is not host:port with a port 1..65535`);
  return addr;
}

/**
 * Refuses a new master that holds keys (dashboard/coordinator/new-master.ts says why); one that
 * cannot be reached is let through with a warning in the log.
 */
async function checkNewMaster(keys: KeyCounter, addr: string, warn: (msg: string) => void): Promise<void> {
  let held: number;
  try {
    held = await keys.keysHeld(addr);
  } catch (err) {
    warn(`adding ${addr} as a master without checking that it is empty: ${(err as Error).message}`);
    return;
  }
  if (held > 0) {
    throw conflict('NODE_NOT_EMPTY', `${addr} holds ${held} keys: a group's new master must be empty, or its keys would be served as the cluster's once the group owns their slots; empty it (FLUSHALL) or add it with force`);
  }
}

export function registerGroupRoutes(api: FastifyInstance, cluster: Cluster, keys: KeyCounter): void {
  api.get('/groups', {
    schema: { summary: 'Every group with its servers and slot count', tags, response: { 200: { type: 'object', properties: { groups: { type: 'array', items: groupSchema } } }, ...errorReplies(401, 503) } },
  }, async () => ({ groups: await cluster.listGroups() }));

  api.get<{ Params: { id: string } }>('/groups/:id', {
    schema: { summary: 'One group', tags, params: groupIdParams, response: { 200: groupSchema, ...errorReplies(400, 401, 404, 503) } },
  }, async (req) => cluster.getGroup(Number(req.params.id)));

  api.post<{ Body: { id: number } }>('/groups', {
    schema: { summary: 'Create an empty group', tags, body: createGroupBody, response: { 201: groupSchema, ...errorReplies(400, 401, 409, 503) } },
  }, async (req, reply) => reply.code(201).send(await cluster.createGroup(req.body.id)));

  api.delete<{ Params: { id: string }; Querystring: { revision?: string } }>('/groups/:id', {
    schema: {
      summary: 'Delete a group that has no servers and owns no slots', tags, params: groupIdParams, querystring: revisionQuery,
      response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, ...errorReplies(400, 401, 404, 409, 503) },
    },
  }, async (req) => {
    const id = Number(req.params.id);
    await cluster.deleteGroup(id, req.query.revision);
    return { deleted: id };
  });

  api.post<{ Params: { id: string }; Body: { addr: string; role: ServerRole; force?: boolean; revision?: string } }>('/groups/:id/servers', {
    schema: {
      summary: 'Add a server (master or replica) to a group', tags, params: groupIdParams, body: addServerBody,
      response: { 200: groupSchema, ...errorReplies(400, 401, 404, 409, 503) },
    },
  }, async (req) => {
    const { addr, role, force, revision } = req.body;
    checkAddr(addr);
    if (role === 'master' && force !== true) await checkNewMaster(keys, addr, (msg) => req.log.warn(msg));
    return cluster.addServer(Number(req.params.id), { addr, role }, revision);
  });

  api.delete<{ Params: { id: string; addr: string }; Querystring: { revision?: string } }>('/groups/:id/servers/:addr', {
    schema: {
      summary: 'Remove a server from a group (a master only while the group owns no slots)', tags, params: serverParams, querystring: revisionQuery,
      response: { 200: groupSchema, ...errorReplies(400, 401, 404, 409, 503) },
    },
  }, async (req) => cluster.removeServer(Number(req.params.id), checkAddr(req.params.addr), req.query.revision));
}
