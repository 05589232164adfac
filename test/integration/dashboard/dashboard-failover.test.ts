// Two `tessera dashboard` processes for one product, on the file store and on a real etcd: the
// first leads, the second stands by (serves reads, refuses writes with 503 NOT_LEADER naming the
// leader); after a SIGKILL of the leader the standby takes over within a few seconds (the leader
// lock's TTL, 3 s by default) and writes work again, with everything written before still there.
// Concurrent writes to one group lose nothing on either store (compare-and-swap).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Dashboard, apiCall, coordinatorToken, startDashboard as start, stopDashboards } from '../../helpers/coordinator.js';
import { type EtcdHandle, startEtcd } from '../../helpers/etcd.js';
import { waitFor } from '../../helpers/wait-for.js';

const token = coordinatorToken('dash-failover');
const started: Dashboard[] = [];
let etcd: EtcdHandle | undefined;

afterAll(async () => {
  await stopDashboards(started);
  await etcd?.stop();
  token.remove();
});

const startDashboard = (storeUrl: string, product: string) => start({ storeUrl, product, token, logLevel: 'warn', started });
const api = (d: Dashboard, method: string, path: string, body?: unknown) => apiCall(d.url, token.token, method, path, body);
const roleOf = (d: Dashboard) => d.role();

async function leaderStandbyTakeover(store: string, product: string): Promise<void> {
  const a = await startDashboard(store, product);
  await waitFor(async () => (await roleOf(a)) === 'leader', { timeoutMs: 10_000, what: 'the first dashboard to lead' });
  const b = await startDashboard(store, product);
  await waitFor(async () => (await api(b, 'GET', '/overview')).json.standbys.length === 1, { timeoutMs: 10_000, what: 'the second dashboard to stand by' });
  expect((await api(a, 'POST', '/groups', { id: 1 })).status).toBe(201);
  expect((await api(a, 'POST', '/groups/1/servers', { addr: '127.0.0.1:7001', role: 'master' })).status).toBe(200);
  // Concurrent read-modify-writes of one group through the store's compare-and-swap: none is lost.
  const adds = await Promise.all(Array.from({ length: 5 }, (_, i) => api(a, 'POST', '/groups/1/servers', { addr: `127.0.0.1:${7100 + i}`, role: 'replica' })));
  expect(adds.map((r) => r.status)).toEqual(Array(5).fill(200));
  expect((await api(a, 'GET', '/groups/1')).json.servers).toHaveLength(6);

  // The standby serves reads and refuses writes, naming the leader.
  const overview = (await api(b, 'GET', '/overview')).json;
  expect(overview).toMatchObject({ product, self: { role: 'standby', url: b.url }, leader: { url: a.url }, standbys: [{ url: b.url }] });
  expect((await api(b, 'GET', '/groups/1')).json.servers[0]).toEqual({ addr: '127.0.0.1:7001', role: 'master' });
  const refused = await api(b, 'POST', '/groups', { id: 2 });
  expect(refused.status).toBe(503);
  expect(refused.json).toMatchObject({ code: 'NOT_LEADER', leader: a.url });

  // SIGKILL: no resign, the lease has to expire.
  const killedAt = Date.now();
  await a.t.kill();
  await waitFor(async () => (await roleOf(b)) === 'leader', { timeoutMs: 20_000, intervalMs: 50, what: 'the standby to take over' });
  const takeoverMs = Date.now() - killedAt;
  console.log(`dashboard takeover (${store.split(':')[0]} store): ${takeoverMs} ms after SIGKILL of the leader (leader-ttl 3 s)`);
  // Bounded by the lease TTL (3 s) plus the store's expiry detection; generous for a loaded machine.
  expect(takeoverMs).toBeLessThan(8000);
  expect((await api(b, 'POST', '/groups', { id: 2 })).status).toBe(201);
  const groups = (await api(b, 'GET', '/groups')).json.groups;
  expect(groups.map((g: { id: number }) => g.id)).toEqual([1, 2]);
  expect((await api(b, 'GET', '/overview')).json).toMatchObject({ leader: { url: b.url }, standbys: [] });
  await b.t.stop();
}

describe('dashboard leader and standby', () => {
  it('file store: the standby takes over within a few seconds of a SIGKILL of the leader', async () => {
    await leaderStandbyTakeover(`file://${join(token.dir, 'store')}`, 'failover');
  });

  it('etcd: the standby takes over within a few seconds of a SIGKILL of the leader', async () => {
    etcd = await startEtcd();
    await leaderStandbyTakeover(etcd.url, 'failover');
  });
});
