// /api/v1/overview, /api/v1/proxies, /api/v1/migrations: read-only views of the product.
import type { FastifyInstance } from 'fastify';
import type { Cluster } from '../coordinator/cluster.js';
import { errorReplies, migrationsSchema, overviewSchema, proxiesSchema } from '../schemas.js';

export function registerStatusRoutes(api: FastifyInstance, cluster: Cluster, migrationRecords = true): void {
  api.get('/overview', {
    schema: { summary: 'Product, leader and standbys, counts', tags: ['status'], response: { 200: overviewSchema, ...errorReplies(401, 503) } },
  }, async () => cluster.overview());

  api.get('/proxies', {
    schema: { summary: 'Live proxies (lease-registered) with the table revision each applied', tags: ['proxies'], response: { 200: proxiesSchema, ...errorReplies(401, 503) } },
  }, async () => cluster.proxies());

  if (migrationRecords) api.get('/migrations', {
    schema: { summary: 'Per-slot migration records', tags: ['migrations'], response: { 200: migrationsSchema, ...errorReplies(401, 503) } },
  }, async () => ({ migrations: await cluster.migrations() }));
}
