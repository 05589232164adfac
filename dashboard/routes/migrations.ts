// /api/v1/migrations: create (slots → group), list and get with progress, pause/resume/cancel (by
// id or by slots), and the run-time settings (throttle, batch, concurrency). The state machine is
// coordinator/migrations.ts; reads work on a standby too (from the store's records).
import type { FastifyInstance } from 'fastify';
import type { MigrationSettings } from '../../common/model.js';
import { type Migrator, parseSlotList } from '../coordinator/migrations.js';
import {
  batchDetailSchema, batchListSchema, batchSchema, changedSchema, createMigrationBody, errorReplies, migrationSelectorParams, settingsBody, settingsSchema,
} from '../schemas.js';

const tags = ['migrations'];

export function registerMigrationRoutes(api: FastifyInstance, migrator: Migrator): void {
  api.post<{ Body: { slots: string; to: number } }>('/migrations', {
    schema: {
      summary: 'Migrate slots to a group (online, under load); one record per slot',
      description: 'Errors: 400 GROUP_NOT_FOUND (unknown group) or BAD_REQUEST; 409 SLOT_UNASSIGNED, SLOT_ALREADY_THERE, SLOT_MIGRATING, GROUP_HAS_NO_MASTER.',
      tags, body: createMigrationBody, response: { 201: batchSchema, ...errorReplies(400, 401, 409, 503) },
    },
  }, async (req, reply) => reply.code(201).send(await migrator.create(parseSlotList(req.body.slots), req.body.to)));

  api.get('/migrations', {
    schema: { summary: 'Migrations (one per request) with progress: slots by phase, keys, bytes, rate, ETA', tags, response: { 200: batchListSchema, ...errorReplies(401, 503) } },
  }, async () => ({ migrations: await migrator.list() }));

  api.get('/migrations/settings', {
    schema: { summary: 'Migration settings', tags, response: { 200: settingsSchema, ...errorReplies(401, 503) } },
  }, async () => migrator.getSettings());

  api.put<{ Body: Partial<MigrationSettings> }>('/migrations/settings', {
    schema: { summary: 'Change migration settings at run time (throttle, batch, concurrency)', tags, body: settingsBody, response: { 200: settingsSchema, ...errorReplies(400, 401, 503) } },
  }, async (req) => migrator.updateSettings(req.body));

  api.get<{ Params: { id: string } }>('/migrations/:id', {
    schema: { summary: 'One migration (by id, or the records of some slots) with per-slot records', tags, params: migrationSelectorParams, response: { 200: batchDetailSchema, ...errorReplies(400, 401, 404, 503) } },
  }, async (req) => migrator.get(req.params.id));

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    api.post<{ Params: { id: string } }>(`/migrations/:id/${action}`, {
      schema: {
        summary: action === 'cancel'
          ? 'Cancel: pending slots are dropped; slots already told to the nodes move back to their source (nothing lost)'
          : action === 'pause' ? 'Pause: no new mover call (slots stay where they are, served through ASK)' : 'Resume paused slots',
        tags, params: migrationSelectorParams, response: { 200: changedSchema, ...errorReplies(400, 401, 404, 409, 503) },
      },
    }, async (req) => (action === 'cancel' ? migrator.cancel(req.params.id) : migrator.pause(req.params.id, action === 'pause')));
  }
}
