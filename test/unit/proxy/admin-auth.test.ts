// The admin HTTP API's guard, with fastify inject() (no sockets): bearer token, open reads,
// and loopback-only when no token is set.
import { describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../../proxy/admin.js';
import { PROXY_DEFAULTS, type ProxyConfig } from '../../../proxy/config.js';
import type { Proxy } from '../../../proxy/proxy.js';
import { resolveSecrets } from '../../../proxy/main.js';

/** Just what the routes read: a proxy with one group of two servers, the replica down. */
function fakeProxy(config: Partial<ProxyConfig>): Proxy {
  return {
    config: { ...PROXY_DEFAULTS, id: 'p1', ...config },
    topology: {
      revision: '7',
      routes: [{ kind: 'online', group: 1, master: '127.0.0.1:1' }],
      groups: new Map([[1, { id: 1, servers: [{ addr: '127.0.0.1:1', role: 'master' }, { addr: '127.0.0.1:2', role: 'replica' }] }]]),
    },
    pool: {
      health: () => [
        { addr: '127.0.0.1:1', state: 'up', lastError: '', lastErrorAt: null },
        { addr: '127.0.0.1:2', state: 'down', lastError: 'connect ECONNREFUSED', lastErrorAt: '2026-01-01T00:00:00.000Z' },
      ],
      stats: () => [],
    },
    sessions: new Set(),
    stats: { commands: new Map(), qps: 0, recentSummary: () => ({ windowSeconds: 0, calls: 0, errors: 0, qps: 0, samples: 0, p50_us: 0, p99_us: 0, max_us: 0 }) },
  } as unknown as Proxy;
}

describe('admin API authentication', () => {
  const app = buildAdminApp(fakeProxy({ adminToken: 'the-token' }));

  it('refuses a missing or wrong token with 401 and a {code, message} body', async () => {
    const none = await app.inject({ url: '/slots' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: 'ADMIN_TOKEN_MISSING', message: expect.stringContaining('Bearer') });
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await app.inject({ url: '/slots', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('ADMIN_TOKEN_INVALID');
    // Unknown routes are guarded too: a 404 would tell what exists.
    expect((await app.inject({ url: '/nothing-here' })).statusCode).toBe(401);
    // Read-only routes are closed unless admin-open-reads.
    expect((await app.inject({ url: '/health' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
  });

  it('serves every route with the right token', async () => {
    const ok = await app.inject({ url: '/slots', headers: { authorization: 'Bearer the-token' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual([{ slot: 0, kind: 'online', group: 1, master: '127.0.0.1:1' }]);
  });

  it('reports degraded backends on /health, with their group and role', async () => {
    const res = await app.inject({ url: '/health', headers: { authorization: 'bearer the-token' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('degraded');
    expect(body.degraded).toEqual(['127.0.0.1:2 (group 1 replica: down, connect ECONNREFUSED)']);
    expect(body.backends).toEqual([
      { addr: '127.0.0.1:1', group: 1, role: 'master', state: 'up', lastError: '', lastErrorAt: null },
      { addr: '127.0.0.1:2', group: 1, role: 'replica', state: 'down', lastError: 'connect ECONNREFUSED', lastErrorAt: '2026-01-01T00:00:00.000Z' },
    ]);
  });

  it('admin-open-reads opens /health and /metrics only', async () => {
    const open = buildAdminApp(fakeProxy({ adminToken: 'the-token', adminOpenReads: true }));
    const health = await open.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    // Without the token it tells the status, not where the nodes are.
    expect(health.json()).toEqual({ status: 'degraded', id: 'p1', tableRevision: '7', degradedBackends: 1 });
    const full = await open.inject({ url: '/health', headers: { authorization: 'Bearer the-token' } });
    expect(full.json().backends).toHaveLength(2);
    expect((await open.inject({ url: '/metrics' })).statusCode).toBe(200);
    expect((await open.inject({ url: '/slots' })).statusCode).toBe(401);
    expect((await open.inject({ url: '/stats' })).statusCode).toBe(401);
  });

  it('without a token, answers loopback clients only (403 for others)', async () => {
    const local = buildAdminApp(fakeProxy({ adminToken: '' }));
    expect((await local.inject({ url: '/slots', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await local.inject({ url: '/slots', remoteAddress: '::1' })).statusCode).toBe(200);
    const far = await local.inject({ url: '/slots', remoteAddress: '10.1.2.3' });
    expect(far.statusCode).toBe(403);
    expect(far.json().code).toBe('ADMIN_PROTECTED_MODE');
  });
});

describe('proxy secrets from files and the environment', () => {
  it('a flag beats the environment; the environment fills what is missing', () => {
    const env = { TESSERA_BACKEND_PASSWORD: 'env-backend', TESSERA_ADMIN_TOKEN: 'env-token', TESSERA_PROXY_REQUIREPASS: 'env-client' };
    const out = resolveSecrets({ requirepass: 'flag-client' }, env);
    expect(out).toEqual({ requirepass: 'flag-client', backendPassword: 'env-backend', adminToken: 'env-token' });
  });
});
