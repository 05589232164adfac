// The web UI's server side: /api/v1/session (the login check), /api/v1/stream (server-sent
// events over a real listening app: every section first, then a change within about a second,
// the same frames for every subscriber), the UI files (open, CSP, no path escape), the stats
// sampler against a fake proxy admin API (QPS from two samples, p99 of the busy commands, the
// history ring) and an unreachable node (its row says so, quickly), and INFO parsing.
import { type Server, createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { buildApp } from '../../../dashboard/app.js';
import { Cluster } from '../../../dashboard/coordinator/cluster.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { parseInfo } from '../../../dashboard/live/node-info.js';
import { HISTORY_POINTS, StatsSampler } from '../../../dashboard/live/stats-sampler.js';
import { waitFor } from '../../helpers/wait-for.js';

const TOKEN = 'live-unit-token';
const PRODUCT = 'live';
let dir = '';
let store: FileStore;
let leader: Leadership;
let app: FastifyInstance;
let base = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-live-'));
  store = await FileStore.open(dir);
  leader = new Leadership(store, PRODUCT, { id: 'c1', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() }, 3, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'the coordinator to lead' });
  app = buildApp({ cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: true });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await leader?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Reads SSE frames from /api/v1/stream until `until` is satisfied (bounded by the deadline). */
async function readStream(until: (events: Array<{ event: string; data: unknown }>) => boolean, ms = 5000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const events: Array<{ event: string; data: unknown }> = [];
  try {
    const res = await fetch(`${base}/api/v1/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    }
    return events;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

describe('web UI routes', () => {
  it('GET /api/v1/session checks the token even with open reads', async () => {
    const get = (h: Record<string, string>) => app.inject({ method: 'GET', url: '/api/v1/session', headers: h });
    expect((await get({ authorization: 'Bearer wrong' })).json()).toEqual({ code: 'TOKEN_INVALID', message: 'the token is wrong' });
    expect((await get({})).statusCode).toBe(401);
    const ok = await get({ authorization: `Bearer ${TOKEN}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, role: 'leader', id: 'c1' });
  });

  it('the stream needs the token (reads are open, the stream is not special)', async () => {
    const closedApp = buildApp({ cluster: new Cluster(store, PRODUCT, leader), leadership: leader, token: TOKEN, openReads: false });
    try {
      const r = await closedApp.inject({ method: 'GET', url: '/api/v1/stream' });
      expect(r.statusCode).toBe(401);
      expect(r.json().code).toBe('TOKEN_MISSING');
    } finally {
      await closedApp.close();
    }
  });

  it('streams every section first, then a change within about a second, the same to every subscriber', async () => {
    const sections = ['history', 'overview', 'groups', 'slots', 'proxies', 'migrations', 'events', 'stats'];
    const first = await readStream((evs) => sections.every((s) => evs.some((e) => e.event === s)));
    expect(new Set(first.map((e) => e.event))).toEqual(new Set([...sections, ...first.some((e) => e.event === 'slotstats') ? ['slotstats'] : []]));
    const slots = first.find((e) => e.event === 'slots')!.data as { owner: number[]; unassigned: number };
    expect(slots.owner).toHaveLength(1024);
    expect(slots.unassigned).toBe(1024);
    const hasGroup9 = (evs: Array<{ event: string; data: unknown }>) =>
      evs.some((e) => e.event === 'groups' && (e.data as { groups: Array<{ id: number }> }).groups.some((g) => g.id === 9));
    const a = readStream(hasGroup9);
    const b = readStream(hasGroup9);
    await new Promise((r) => setTimeout(r, 200)); // both subscribed
    const t0 = Date.now();
    expect((await app.inject({ method: 'POST', url: '/api/v1/groups', headers: { authorization: `Bearer ${TOKEN}` }, payload: { id: 9 } })).statusCode).toBe(201);
    const [ea, eb] = await Promise.all([a, b]);
    expect(Date.now() - t0).toBeLessThan(2000); // polled each second without a store watch
    const last = (evs: typeof ea) => JSON.stringify(evs.filter((e) => e.event === 'groups').at(-1)!.data);
    expect(last(ea)).toBe(last(eb));
  });

  it('GET /stats and /stats/history answer from the shared sampler; /stream/status counts subscribers', async () => {
    const h = { authorization: `Bearer ${TOKEN}` };
    // The latest sample (at most a second old): group 9, created by the stream test, shows within a few.
    const stats = await waitFor(async () => {
      const r = await app.inject({ method: 'GET', url: '/api/v1/stats', headers: h });
      expect(r.statusCode).toBe(200);
      return r.json().groups.some((g: { id: number }) => g.id === 9) ? r.json() : null;
    }, { timeoutMs: 5_000, what: 'group 9 in /stats' });
    expect(stats).toMatchObject({ servers: [], proxies: [], totals: { keys: 0, qps: 0 } });
    const hist = await app.inject({ method: 'GET', url: '/api/v1/stats/history', headers: h });
    expect(hist.json()['group:9'].t.length).toBeGreaterThan(0);
    await waitFor(async () => (await app.inject({ method: 'GET', url: '/api/v1/stream/status', headers: h })).json().subscribers === 0, { what: 'the closed streams to be gone' });
    const st = (await app.inject({ method: 'GET', url: '/api/v1/stream/status', headers: h })).json();
    expect(st.statsSamples).toBeGreaterThan(0);
    expect(st.active).toBe(true); // kept running: GET /stats asked for it
  });

  it('serves the UI at / without the token, with a strict CSP, and nothing outside its directory', async () => {
    const index = await app.inject({ method: 'GET', url: '/' });
    if (index.statusCode === 503) expect(index.body).toMatch(/npm run build/); // built UI absent (sources only)
    else {
      expect(index.statusCode).toBe(200);
      expect(index.body).toContain('/ui/app.js');
      expect(index.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/);
    }
    for (const url of ['/ui/../../package.json', '/ui/%2e%2e/%2e%2e/package.json']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).not.toBe(200);
    }
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain('/');
    expect(Object.keys(doc.paths)).toContain('/api/v1/stream');
  });
});

describe('stats sampler', () => {
  let proxyAdmin: Server;
  let total = 1000;
  let seenAuth: string | undefined;
  /** The proxy's recent window in its /stats (undefined: a proxy from before it). */
  let recent: { samples: number; p99_us: number } | undefined;
  beforeAll(async () => {
    proxyAdmin = createServer((req, res) => {
      seenAuth = req.headers.authorization;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        ops: { total, errors: 3, redirects: 0 }, sessions: { alive: 7 }, recent,
        commands: { get: { calls: total - 100, p99_us: 150 }, set: { calls: 99, p99_us: 900 }, ping: { calls: 1, p99_us: 50_000 } },
      }));
    });
    await new Promise<void>((r) => proxyAdmin.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => proxyAdmin.close(() => r())));

  it('computes QPS from two samples, the p99 of the busy commands, and keeps a bounded history', async () => {
    const port = (proxyAdmin.address() as { port: number }).port;
    const sampler = new StatsSampler(null, 'admin-token');
    const targets = {
      groups: [{ id: 1, servers: [{ addr: '127.0.0.1:1', role: 'master' }], master: '127.0.0.1:1' }],
      proxies: [{ id: 'p1', admin: `127.0.0.1:${port}`, listen: '127.0.0.1:2' }],
      slotsOf: () => [0, 1],
    };
    try {
      const t0 = Date.now();
      const s1 = await sampler.sample(targets, t0);
      expect(Date.now() - t0).toBeLessThan(1500); // an unreachable node costs at most its bound
      expect(seenAuth).toBe('Bearer admin-token');
      expect(s1.proxies[0]).toMatchObject({ id: 'p1', reachable: true, sessions: 7, qps: null, errors: 3 });
      expect(s1.servers[0]).toMatchObject({ addr: '127.0.0.1:1', reachable: false, keys: null, lastSeen: null });
      expect(s1.servers[0]!.error).toMatch(/127\.0\.0\.1:1/);
      total += 500; // 500 requests in the next "second": 400 GET, 99 SET, 1 PING
      // (the fake's counts: get = total - 100 → +500; set and ping unchanged → only GET was busy)
      const s2 = await sampler.sample(targets, t0 + 1000);
      expect(s2.proxies[0]!.qps).toBe(500);
      expect(s2.proxies[0]!.p99Us).toBe(150); // SET and PING carried nothing this interval
      expect(s2.totals.qps).toBe(500);
      const h = sampler.history();
      expect(h['proxy:p1']!.qps).toEqual([0, 500]);
      expect(h['group:1']!.t).toEqual([t0, t0 + 1000]);
      for (let i = 0; i < HISTORY_POINTS + 5; i++) await sampler.sample({ ...targets, groups: [] }, t0 + 2000 + i);
      expect(sampler.history()['proxy:p1']!.t).toHaveLength(HISTORY_POINTS);
      expect(sampler.history()['group:1']).toBeUndefined(); // a group that is gone drops its series
    } finally {
      sampler.close();
    }
  });

  it("charts a proxy's recent-window p99 (not its since-start histograms) and a group's from INFO tessera", async () => {
    const port = (proxyAdmin.address() as { port: number }).port;
    const sampler = new StatsSampler(null, null);
    const targets = {
      groups: [{ id: 1, servers: [{ addr: '127.0.0.1:1', role: 'master' }], master: '127.0.0.1:1' }],
      proxies: [{ id: 'p1', admin: `127.0.0.1:${port}`, listen: '127.0.0.1:2' }],
      slotsOf: () => [],
    };
    try {
      recent = { samples: 40, p99_us: 321 };
      const t0 = Date.now();
      const s1 = await sampler.sample(targets, t0);
      expect(s1.proxies[0]!.p99Us).toBe(321); // known at the first sample: no delta needed
      recent = { samples: 0, p99_us: 0 }; // an idle window: no p99, not a zero
      const s2 = await sampler.sample(targets, t0 + 1000);
      expect(s2.proxies[0]!.p99Us).toBeNull();
      expect(s2.groups[0]!.p99Us).toBeNull(); // its only server is unreachable
      expect(sampler.history()['proxy:p1']!.latencyUs).toEqual([321, null]);
      expect(sampler.history()['group:1']!.latencyUs).toEqual([null, null]);
    } finally {
      recent = undefined;
      sampler.close();
    }
    const i = parseInfo('# Tessera\r\nrecent_latency_window_seconds:10.0\r\nrecent_latency_calls:12\r\nrecent_latency_p50_usec:3.007\r\nrecent_latency_p99_usec:15.039\r\n');
    expect(i).toMatchObject({ recentCalls: 12, recentP99Us: 15.039 });
    expect(parseInfo('recent_latency_calls:0\r\nrecent_latency_p99_usec:0.000\r\n').recentP99Us).toBeNull();
    expect(parseInfo('role:master\r\n').recentP99Us).toBeNull(); // a plain Redis: no such section
  });

  it('parses INFO: role, link, offsets, replicas, keys over dbs, memory, ops/s, commandstats totals', () => {
    const text = [
      '# Memory', 'used_memory:123456', '', '# Stats', 'instantaneous_ops_per_sec:42', '', '# Replication', 'role:master',
      'connected_slaves:1', 'slave0:ip=127.0.0.1,port=7001,state=online,offset=900,lag=0', 'master_repl_offset:1000', '',
      '# Commandstats', 'cmdstat_get:calls=10,usec=50,usec_per_call=5.00', 'cmdstat_set:calls=5,usec=25,usec_per_call=5.00', '',
      '# Keyspace', 'db0:keys=30,expires=0,avg_ttl=0', 'db3:keys=12,expires=1,avg_ttl=5',
    ].join('\r\n');
    const i = parseInfo(text);
    expect(i).toMatchObject({ role: 'master', linkUp: null, offset: 1000, keys: 42, memory: 123456, opsPerSec: 42, calls: 15, usec: 75 });
    expect([...i.replicaOffsets]).toEqual([['127.0.0.1:7001', 900]]);
    const r = parseInfo('role:slave\r\nmaster_link_status:down\r\nslave_repl_offset:700\r\nmaster_repl_offset:700\r\n');
    expect(r).toMatchObject({ role: 'slave', linkUp: false, offset: 700, keys: 0 });
  });
});
