// The coordinator's API through fastify's inject, over a real file store: schemas reject bad
// requests with 400 {code, message} naming the field, tokens are required, writes are
// compare-and-swap (concurrent calls lose nothing, a stale revision gets 409), slots owned by
// another group are refused, a standby answers reads and refuses writes with NOT_LEADER.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { encodeProxyInfo, encodeSlot } from '../../../common/model.js';
import { proxyKey, slotKey } from '../../../common/store/keys.js';
import { buildApp } from '../../../dashboard/app.js';
import { Cluster } from '../../../dashboard/coordinator/cluster.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { waitFor } from '../../helpers/wait-for.js';

const TOKEN = 'unit-test-token';
const PRODUCT = 'unit';
let dir = '';
let store: FileStore;
let standbyStore: FileStore;
let leader: Leadership;
let standby: Leadership;
let app: FastifyInstance;
let standbyApp: FastifyInstance;
let openApp: FastifyInstance;

const auth = { authorization: `Bearer ${TOKEN}` };
const call = (a: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = auth) =>
  a.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-dash-'));
  store = await FileStore.open(dir);
  standbyStore = await FileStore.open(dir);
  const self = (n: number) => ({ id: `c${n}`, url: `http://127.0.0.1:${18000 + n}`, pid: process.pid, startedAt: new Date().toISOString() });
  leader = new Leadership(store, PRODUCT, self(1), 3, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'the first coordinator to lead' });
  standby = new Leadership(standbyStore, PRODUCT, self(2), 3, () => {});
  standby.start();
  app = buildApp({ cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: false });
  standbyApp = buildApp({ cluster: new Cluster(standbyStore, PRODUCT, standby), leadership: standby, token: TOKEN, openReads: false });
  openApp = buildApp({ cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: true });
  await waitFor(async () => (await leader.candidates()).length === 2, { what: 'the standby to campaign' });
});

afterAll(async () => {
  await Promise.allSettled([app?.close(), standbyApp?.close(), openApp?.close()]);
  await Promise.allSettled([leader?.stop(), standby?.stop()]);
  await Promise.allSettled([store?.close(), standbyStore?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('dashboard API: groups and slots', () => {
  it('creates groups, adds and removes servers, assigns unassigned slots, and lists them', async () => {
    expect((await call(app, 'POST', '/api/v1/groups', { id: 1 })).statusCode).toBe(201);
    expect((await call(app, 'POST', '/api/v1/groups', { id: 2 })).statusCode).toBe(201);
    const dup = await call(app, 'POST', '/api/v1/groups', { id: 1 });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({ code: 'GROUP_EXISTS', message: 'group 1 already exists' });

    const added = await call(app, 'POST', '/api/v1/groups/1/servers', { addr: '127.0.0.1:7001', role: 'master' });
    expect(added.statusCode).toBe(200);
    expect(added.json()).toMatchObject({ id: 1, master: '127.0.0.1:7001', servers: [{ addr: '127.0.0.1:7001', role: 'master' }], slots: 0 });
    expect((await call(app, 'POST', '/api/v1/groups/1/servers', { addr: '127.0.0.1:7002', role: 'replica' })).statusCode).toBe(200);
    const second = await call(app, 'POST', '/api/v1/groups/1/servers', { addr: '127.0.0.1:7003', role: 'master' });
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('GROUP_HAS_MASTER');
    const elsewhere = await call(app, 'POST', '/api/v1/groups/2/servers', { addr: '127.0.0.1:7001', role: 'master' });
    expect(elsewhere.json()).toEqual({ code: 'SERVER_IN_ANOTHER_GROUP', message: '127.0.0.1:7001 is already in group 1' });

    const assigned = await call(app, 'POST', '/api/v1/slots/assign', { from: 0, to: 511, group: 1 });
    expect(assigned.statusCode).toBe(200);
    expect(assigned.json()).toEqual({ assigned: 512, already: 0 });
    // Again: nothing to do, and the slots stay where they are.
    expect((await call(app, 'POST', '/api/v1/slots/assign', { from: 0, to: 511, group: 1 })).json()).toEqual({ assigned: 0, already: 512 });
    const owned = await call(app, 'POST', '/api/v1/slots/assign', { from: 500, to: 520, group: 2 });
    expect(owned.statusCode).toBe(409);
    expect(owned.json().code).toBe('SLOT_OWNED');
    expect(owned.json().message).toMatch(/slots 500-511 belong to group 1.*migration/);
    // Nothing of the refused range was written.
    const table = (await call(app, 'GET', '/api/v1/slots')).json();
    expect(table.ranges).toEqual([{ from: 0, to: 511, group: 1 }]);
    expect(table.unassigned).toBe(512);
    expect(table.slots).toHaveLength(1024);
    expect(table.slots[512]).toEqual({ id: 512, state: { kind: 'unassigned' } });

    const unknownGroup = await call(app, 'POST', '/api/v1/slots/assign', { from: 600, to: 601, group: 7 });
    expect(unknownGroup.json()).toEqual({ code: 'NOT_FOUND', message: 'group 7 does not exist; create it first' });

    const groups = (await call(app, 'GET', '/api/v1/groups')).json().groups;
    expect(groups.map((g: { id: number; slots: number }) => [g.id, g.slots])).toEqual([[1, 512], [2, 0]]);

    // A group that owns slots or has servers is not deleted; an empty one is.
    const busy = await call(app, 'DELETE', '/api/v1/groups/1');
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe('GROUP_NOT_EMPTY');
    const masterOut = await call(app, 'DELETE', '/api/v1/groups/1/servers/127.0.0.1:7001');
    expect(masterOut.json().code).toBe('GROUP_IN_USE');
    expect((await call(app, 'DELETE', '/api/v1/groups/1/servers/127.0.0.1:7002')).json().servers).toEqual([{ addr: '127.0.0.1:7001', role: 'master' }]);
    expect((await call(app, 'POST', '/api/v1/groups', { id: 3 })).statusCode).toBe(201);
    expect((await call(app, 'DELETE', '/api/v1/groups/3')).json()).toEqual({ deleted: 3 });
    expect((await call(app, 'GET', '/api/v1/groups/3')).statusCode).toBe(404);
  });

  it('loses no update when 12 servers are added to one group concurrently, and refuses a stale revision with 409', async () => {
    expect((await call(app, 'POST', '/api/v1/groups', { id: 10 })).statusCode).toBe(201);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      call(app, 'POST', '/api/v1/groups/10/servers', { addr: `127.0.0.1:${8000 + i}`, role: i === 0 ? 'master' : 'replica' })));
    expect(replies.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    const group = (await call(app, 'GET', '/api/v1/groups/10')).json();
    expect(group.servers).toHaveLength(12);

    const stale = await call(app, 'POST', '/api/v1/groups/10/servers', { addr: '127.0.0.1:9100', role: 'replica', revision: '1' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'CONFLICT', current: group.revision });
    const fresh = await call(app, 'POST', '/api/v1/groups/10/servers', { addr: '127.0.0.1:9100', role: 'replica', revision: group.revision });
    expect(fresh.statusCode).toBe(200);
    // The write the first one read from is gone: the old revision no longer applies.
    const again = await call(app, 'DELETE', `/api/v1/groups/10/servers/127.0.0.1:9100?revision=${group.revision}`);
    expect(again.statusCode).toBe(409);
  });

  it('refuses to assign slots that were taken by another writer between read and write', async () => {
    // A direct store write (as `tessera admin --store`) puts slot 900 online in group 2.
    await store.put(slotKey(PRODUCT, 900), encodeSlot({ id: 900, state: { kind: 'online', group: 2 } }));
    const res = await call(app, 'POST', '/api/v1/slots/assign', { from: 890, to: 910, group: 1 });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('slots 900 belong to group 2');
  });
});

describe('dashboard API: request checking', () => {
  it('rejects bad bodies, parameters and non-JSON with 400 {code, message} naming the field', async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/api/v1/groups', { id: 'one' }, /body\/id must be integer/],
      ['POST', '/api/v1/groups', { id: 0 }, /body\/id must be >= 1/],
      ['POST', '/api/v1/groups', {}, /body must have the field 'id'/],
      ['POST', '/api/v1/groups', { id: 4, color: 'red' }, /body\/color is not a known field/],
      ['POST', '/api/v1/groups/1/servers', { addr: 'nohost', role: 'master' }, /body\/addr must match pattern/],
      ['POST', '/api/v1/groups/1/servers', { addr: '127.0.0.1:1', role: 'boss' }, /body\/role must be one of master, replica/],
      ['POST', '/api/v1/groups/1/servers', { addr: '127.0.0.1:99999', role: 'replica' }, /127.0.0.1:99999 is not host:port/],
      ['POST', '/api/v1/slots/assign', { from: 0, to: 1024, group: 1 }, /body\/to must be <= 1023/],
      ['POST', '/api/v1/slots/assign', { from: 10, to: 5, group: 1 }, /from must be ≤ to/],
      ['POST', '/api/v1/slots/assign', [1, 2], /body must be object/],
      ['GET', '/api/v1/groups/abc', undefined, /params\/id must match pattern/],
      ['DELETE', '/api/v1/groups/1?revision=x', undefined, /querystring\/revision must match pattern/],
      ['DELETE', '/api/v1/groups/1?force=yes', undefined, /querystring\/force is not a known field/],
      ['DELETE', '/api/v1/groups/1/servers/nohost', undefined, /params\/addr must match pattern/],
    ];
    for (const [method, url, body, message] of cases) {
      const res = await call(app, method as 'POST', url, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      const json = res.json();
      expect(Object.keys(json).sort()).toEqual(['code', 'message']);
      expect(json.code).toBe('BAD_REQUEST');
      expect(json.message).toMatch(message);
    }
    const notJson = await app.inject({ method: 'POST', url: '/api/v1/groups', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"id": 1' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/must be JSON/) });
    const form = await app.inject({ method: 'POST', url: '/api/v1/groups', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=1' });
    expect(form.statusCode).toBe(415);
    expect(form.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const unknown = await call(app, 'GET', '/api/v1/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: 'NOT_FOUND', message: 'no route GET /api/v1/nope' });
  });

  it('answers 401 without a token or with a wrong one, on writes, reads and unknown routes; open-reads opens GETs only', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }] as Array<Record<string, string>>) {
      for (const [method, url, body] of [['GET', '/api/v1/groups'], ['GET', '/metrics'], ['GET', '/api/v1/nope'], ['POST', '/api/v1/groups', { id: 50 }], ['DELETE', '/api/v1/groups/1']] as const) {
        const res = await call(app, method, url, body, headers);
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json().code).toBe(headers.authorization?.startsWith('Bearer') ? 'TOKEN_INVALID' : 'TOKEN_MISSING');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    expect((await call(openApp, 'GET', '/api/v1/groups', undefined, {})).statusCode).toBe(200);
    expect((await call(openApp, 'POST', '/api/v1/groups', { id: 51 }, {})).statusCode).toBe(401);
    // The OpenAPI document says nothing about the cluster: always open.
    expect((await call(app, 'GET', '/api/v1/openapi.json', undefined, {})).statusCode).toBe(200);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = (await call(app, 'GET', '/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/groups', '/api/v1/groups/{id}', '/api/v1/groups/{id}/servers', '/api/v1/groups/{id}/servers/{addr}',
      '/api/v1/migrations', '/api/v1/openapi.json', '/api/v1/overview', '/api/v1/proxies', '/api/v1/session', '/api/v1/slots', '/api/v1/slots/assign',
      '/api/v1/stats', '/api/v1/stats/history', '/api/v1/stream', '/api/v1/stream/status', '/metrics',
    ]);
    const add = doc.paths['/api/v1/groups/{id}/servers'].post;
    expect(add.requestBody.content['application/json'].schema.required).toEqual(['addr', 'role']);
    expect(add.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(add.responses['409'].content['application/json'].schema.required).toEqual(['code', 'message']);
    expect(add.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/v1/openapi.json'].get.security).toEqual([]);
  });
});

describe('dashboard API: leader and standby', () => {
  it('a standby serves reads and answers writes with 503 NOT_LEADER naming the leader', async () => {
    expect(standby.role).toBe('standby');
    const groups = await call(standbyApp, 'GET', '/api/v1/groups');
    expect(groups.statusCode).toBe(200);
    expect(groups.json().groups.length).toBeGreaterThan(0);
    const res = await call(standbyApp, 'POST', '/api/v1/groups', { id: 60 });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ code: 'NOT_LEADER', message: expect.stringContaining('http://127.0.0.1:18001'), leader: 'http://127.0.0.1:18001' });
    const overview = (await call(standbyApp, 'GET', '/api/v1/overview')).json();
    expect(overview).toMatchObject({ product: PRODUCT, self: { id: 'c2', role: 'standby' }, leader: { id: 'c1' }, standbys: [{ id: 'c2' }] });
    expect(overview.counts).toMatchObject({ groups: 3, slots: { online: 513, migrating: 0, unassigned: 511 } });
  });

  it('lists lease-registered proxies with the table revision they applied', async () => {
    const info = { id: 'p1', listen: '127.0.0.1:19000', admin: '127.0.0.1:11080', version: '0.1.0', tableRevision: '1', pid: 1234, startedAt: new Date().toISOString() };
    const reg = await store.putEphemeral(proxyKey(PRODUCT, 'p1'), encodeProxyInfo(info), 5);
    try {
      const res = (await call(app, 'GET', '/api/v1/proxies')).json();
      expect(res.proxies).toEqual([{ ...info, upToDate: false }]);
      await reg.update(encodeProxyInfo({ ...info, tableRevision: res.tableRevision }));
      expect((await call(app, 'GET', '/api/v1/proxies')).json().proxies[0].upToDate).toBe(true);
    } finally {
      await reg.revoke();
    }
    expect((await call(app, 'GET', '/api/v1/proxies')).json().proxies).toEqual([]);
  });

  it('/metrics reports leadership, slots and requests', async () => {
    const text = (await call(app, 'GET', '/metrics')).body;
    expect(text).toMatch(/^tessera_dashboard_leader 1$/m);
    expect(text).toMatch(/^tessera_dashboard_slots\{state="online"\} 513$/m);
    expect(text).toMatch(/^tessera_dashboard_http_requests_total\{method="POST",route="\/api\/v1\/groups",status="201"\} \d+$/m);
    expect((await call(standbyApp, 'GET', '/metrics')).body).toMatch(/^tessera_dashboard_leader 0$/m);
  });

  it('the standby takes over when the leader resigns, and a deposed leader cannot write (fenced)', async () => {
    const fence = leader.fence();
    await leader.stop();
    await waitFor(() => standby.role === 'leader', { timeoutMs: 5000, what: 'the standby to take over' });
    expect((await call(standbyApp, 'POST', '/api/v1/groups', { id: 61 })).statusCode).toBe(201);
    // A write fenced by the old term fails, even though it reaches the store.
    const res = await store.txn([fence], [{ op: 'put', key: '/tessera/unit/groups/0062', value: '{}' }]);
    expect(res.ok).toBe(false);
    expect((await call(app, 'POST', '/api/v1/groups', { id: 62 })).json()).toMatchObject({ code: 'NOT_LEADER' });
  });
});
