// Every route of the coordinator's API, as its own OpenAPI document lists them (so a route added
// later is covered without touching this test): the full app (groups, slots, migrations,
// rebalance, failover, events) built with buildApp and called with inject, over a real file store.
//  - a missing token gets 401 TOKEN_MISSING, a wrong one 401 TOKEN_INVALID (only the OpenAPI
//    document is open), both as exactly {code, message};
//  - every route that takes a body refuses a body of the wrong shape, an unknown field and (where
//    it has required fields) an empty object with 400 BAD_REQUEST as exactly {code, message}
//    naming the field; every path parameter with a pattern refuses a bad value the same way;
//  - a migration to an unknown group, or of an unassigned slot, gets an error that says so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGroup, encodeSlot } from '../../../common/model.js';
import { SLOT_COUNT } from '../../../common/slots.js';
import { FileStore } from '../../../common/store/file-store.js';
import { groupKey, slotKey } from '../../../common/store/keys.js';
import { buildApp } from '../../../dashboard/app.js';
import { Cluster } from '../../../dashboard/coordinator/cluster.js';
import { EventLog } from '../../../dashboard/coordinator/events.js';
import { Failover, RedisReplicationAdmin } from '../../../dashboard/coordinator/failover.js';
import { RedisProbe } from '../../../dashboard/coordinator/health.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { Migrator } from '../../../dashboard/coordinator/migrations.js';
import { RedisNodeApi } from '../../../dashboard/coordinator/node-client.js';
import { Reconciler, Serial } from '../../../dashboard/coordinator/reconcile.js';
import { waitFor } from '../../helpers/wait-for.js';

const TOKEN = 'api-errors-token';
const PRODUCT = 'apierr';
let dir = '';
let store: FileStore;
let leader: Leadership;
let migrator: Migrator;
let nodes: RedisNodeApi;
let app: FastifyInstance;

interface Operation { method: string; path: string; body: { required?: string[]; properties?: Record<string, unknown> } | null; params: Array<{ name: string; schema: { pattern?: string } }> }
let operations: Operation[] = [];

const auth = { authorization: `Bearer ${TOKEN}` };

/** A concrete URL for an OpenAPI path: every parameter filled with a value its pattern accepts. */
function fill(path: string, override: Record<string, string> = {}): string {
  const good: Record<string, string> = { id: '1', addr: '127.0.0.1:1' };
  let url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(override[name] ?? good[name] ?? 'x'));
  // /migrations/{id} selects migrations: a slot list is a valid selector too.
  if (path.startsWith('/api/v1/migrations/{id}') && override.id === undefined) url = url.replace('/migrations/1', '/migrations/m-none');
  return url;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-api-errors-'));
  store = await FileStore.open(dir);
  leader = new Leadership(store, PRODUCT, { id: 'c1', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() }, 30, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'leadership' });
  // Group 1 (no reachable server: nothing here talks to nodes) owns slots 0-1000; 1001-1023 unassigned.
  await store.put(groupKey(PRODUCT, 1), encodeGroup({ id: 1, servers: [{ addr: '127.0.0.1:1', role: 'master' }] }));
  await store.put(groupKey(PRODUCT, 2), encodeGroup({ id: 2, servers: [{ addr: '127.0.0.1:2', role: 'master' }] }));
  const ops = [];
  for (let s = 0; s <= 1000; s++) ops.push({ op: 'put' as const, key: slotKey(PRODUCT, s), value: encodeSlot({ id: s, state: { kind: 'online', group: 1 } }) });
  for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
  const log = () => {};
  nodes = new RedisNodeApi(null);
  const serial = new Serial();
  const reconciler = new Reconciler(store, PRODUCT, leader, nodes, log);
  migrator = new Migrator({ store, product: PRODUCT, leader, nodes, reconciler, serial, log });
  await migrator.start();
  const events = new EventLog(store, PRODUCT, () => {});
  const failover = new Failover({ store, product: PRODUCT, leader, nodes, repl: new RedisReplicationAdmin(), probe: new RedisProbe(), reconciler, serial, events, migrations: migrator, log });
  app = buildApp({
    cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: false,
    migrations: { migrator, rebalance: { store, product: PRODUCT, nodes, migrator } },
    failover: { failover, events, store },
  });
  const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Operation['body'] }> }; parameters?: Array<Operation['params'][number] & { in: string }> }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(), path,
    body: op.requestBody?.content['application/json']?.schema ?? null,
    params: (op.parameters ?? []).filter((p) => p.in === 'path'),
  })));
}, 30_000);

afterAll(async () => {
  await app?.close();
  await migrator?.stop();
  await nodes?.close();
  await leader?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { ...headers, 'content-type': 'application/json' } }) });

function expectError(res: { statusCode: number; body: string; json(): unknown }, status: number, code: string, what: string): { code: string; message: string } {
  expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
  const body = res.json() as { code: string; message: string };
  expect(Object.keys(body).sort(), what).toEqual(['code', 'message']);
  expect(body.code, what).toBe(code);
  expect(typeof body.message === 'string' && body.message.length > 0, what).toBe(true);
  return body;
}

describe('every API route', () => {
  it('the document lists the routes of every part (groups, slots, migrations, rebalance, failover, events, metrics)', () => {
    const paths = new Set(operations.map((o) => o.path));
    for (const p of ['/api/v1/groups', '/api/v1/slots/assign', '/api/v1/migrations', '/api/v1/migrations/{id}/cancel', '/api/v1/migrations/settings',
      '/api/v1/rebalance', '/api/v1/groups/{id}/promote', '/api/v1/failover/settings', '/api/v1/events', '/metrics']) expect(paths.has(p), p).toBe(true);
    expect(operations.length).toBeGreaterThan(25);
  });

  it('without a token: 401 TOKEN_MISSING; with a wrong one: 401 TOKEN_INVALID (only the OpenAPI document is open)', async () => {
    let checked = 0;
    for (const op of operations) {
      const url = fill(op.path);
      const payload = op.body ? {} : undefined;
      if (op.path === '/api/v1/openapi.json') {
        expect((await inject(op.method, url, {})).statusCode).toBe(200);
        continue;
      }
      expectError(await inject(op.method, url, {}, payload), 401, 'TOKEN_MISSING', `${op.method} ${op.path} without a token`);
      expectError(await inject(op.method, url, { authorization: 'Bearer not-the-token' }, payload), 401, 'TOKEN_INVALID', `${op.method} ${op.path} with a wrong token`);
      checked++;
    }
    expect(checked).toBe(operations.length - 1);
  });

  it('every body schema refuses a wrong shape, an unknown field and a missing required field with 400 {code, message} naming it', async () => {
    const withBody = operations.filter((o) => o.body !== null);
    expect(withBody.length).toBeGreaterThanOrEqual(7);
    for (const op of withBody) {
      const url = fill(op.path);
      const what = `${op.method} ${op.path}`;
      expect(expectError(await inject(op.method, url, auth, [1, 2]), 400, 'BAD_REQUEST', `${what} with an array`).message).toMatch(/^body must be object/);
      expect(expectError(await inject(op.method, url, auth, 'text'), 400, 'BAD_REQUEST', `${what} with a string`).message).toMatch(/^body must be object/);
      const props = Object.keys(op.body!.properties ?? {});
      const first = props[0];
      const unknown = { ...(first ? { [first]: 0 } : {}), notAField: 1 };
      const m = expectError(await inject(op.method, url, auth, unknown), 400, 'BAD_REQUEST', `${what} with an unknown field`).message;
      // Either the unknown field or the first field's bad value is named (ajv stops at the first error).
      expect(m, what).toMatch(first ? new RegExp(`notAField|${first}|must have`) : /notAField/);
      const required = op.body!.required ?? [];
      if (required.length > 0) {
        expect(expectError(await inject(op.method, url, auth, {}), 400, 'BAD_REQUEST', `${what} with {}`).message).toMatch(new RegExp(`must have the field '(${required.join('|')})'`));
      }
    }
  });

  it('every path parameter with a pattern refuses a bad value with 400 {code, message} naming it', async () => {
    let checked = 0;
    for (const op of operations) {
      for (const p of op.params) {
        if (!p.schema.pattern) continue;
        const res = await inject(op.method, fill(op.path, { [p.name]: 'bad|value' }), auth, op.body ? {} : undefined);
        expect(expectError(res, 400, 'BAD_REQUEST', `${op.method} ${op.path} with a bad ${p.name}`).message).toMatch(new RegExp(`params/${p.name} must match pattern`));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('a migration to an unknown group, or of an unassigned slot, gets an error that says so', async () => {
    const unknown = expectError(await inject('POST', '/api/v1/migrations', auth, { slots: '0-3', to: 9 }), 400, 'GROUP_NOT_FOUND', 'unknown group');
    expect(unknown.message).toBe('group 9 does not exist');
    const unassigned = expectError(await inject('POST', '/api/v1/migrations', auth, { slots: `999-${SLOT_COUNT - 1}`, to: 2 }), 409, 'SLOT_UNASSIGNED', 'unassigned slots');
    expect(unassigned.message).toMatch(/slots 1001-1023 are unassigned: assign them/);
    const range = expectError(await inject('POST', '/api/v1/migrations', auth, { slots: '5-2000', to: 2 }), 400, 'BAD_REQUEST', 'slot out of range');
    expect(range.message).toMatch(/0-1023/);
    // Nothing was created by the refused requests.
    expect((await inject('GET', '/api/v1/migrations', auth)).json()).toEqual({ migrations: [] });
  });
});
