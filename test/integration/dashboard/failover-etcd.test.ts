// Failover on etcd with two coordinators, while the failed group is the source of a moving slot:
// a throttled migration of slots 0-15 from group 1 to group 2 runs under an INCR load through the
// proxy; then group 1's master AND the leading coordinator are killed (-9) at the same moment.
// The standby takes the lead, fails group 1 over (pausing the moves of its slots first), resumes
// them afterwards, and the migration finishes: every acknowledged INCR is counted, every preloaded
// key is there, and group 2 saw no error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterOf, parseGroup } from '../../../common/model.js';
import { slotOf } from '../../../common/slots.js';
import { groupKey } from '../../../common/store/keys.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { freePort } from '../../helpers/ports.js';
import { TESSERA_BIN, type TrackedProcess, spawnTracked } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

const TOKEN = 'failover-etcd-token';
const dir = mkdtempSync(join(tmpdir(), 'tessera-fo-etcd-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
const PRELOAD = 1500;
const COUNTERS = 30;

let cluster: Cluster;
const dashboards: Array<{ url: string; t: TrackedProcess }> = [];
const clients: Redis[] = [];

async function startDashboard(): Promise<{ url: string; t: TrackedProcess }> {
  const port = await freePort();
  const t = spawnTracked(process.execPath, [TESSERA_BIN, 'dashboard', '--store', cluster.storeUrl, '--product', cluster.product, '--listen', `127.0.0.1:${port}`, '--token-file', tokenFile, '--log-level', 'info', '--leader-ttl', '1']);
  const d = { url: `http://127.0.0.1:${port}`, t };
  dashboards.push(d);
  await waitFor(async () => {
    if (t.proc.exitCode !== null) throw new Error(`dashboard exited: ${t.output()}`);
    return (await fetch(`${d.url}/api/v1/openapi.json`)).ok;
  }, { timeoutMs: 30_000, what: 'the dashboard to listen' });
  return d;
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${base}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await r.json()) as T;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const role = async (base: string) => (await api<{ self: { role: string } }>(base, 'GET', '/overview')).self.role;

const client = (port: number) => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  return c;
};

/** The n-th key whose slot satisfies `want`. */
function keyWhere(prefix: string, n: number, want: (slot: number) => boolean): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${n}:${i}`;
    if (want(slotOf(k))) return k;
  }
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 2, proxies: 1, store: 'etcd', nodeArgs: ['--slot-ownership', 'yes'] });
  const a = await startDashboard();
  await waitFor(async () => (await role(a.url)) === 'leader', { timeoutMs: 20_000, what: 'the first dashboard to lead' });
  await startDashboard();
  const c = client(cluster.proxies[0]!.port);
  await waitFor(async () => (await c.set('warm{0}', 'x')) === 'OK', { timeoutMs: 20_000, what: 'the nodes to be reconciled' });
  // Keys in the slots that will move (0-15) and elsewhere in group 1.
  const pipe = c.pipeline();
  for (let i = 0; i < PRELOAD; i++) pipe.set(keyWhere('pre', i, (s) => s < (i % 2 ? 16 : 512)), String(i));
  await pipe.exec();
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(dashboards.map((d) => d.t.kill()));
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('failover on etcd with a standby coordinator', () => {
  it('master and leading coordinator killed together mid-migration: the standby fails over, pauses and resumes the move, nothing lost', async () => {
    const [a, b] = dashboards as [typeof dashboards[0], typeof dashboards[0]];
    await api(a.url, 'PUT', '/migrations/settings', { keysPerSecond: 100, batchKeys: 10 });
    const batch = await api<{ id: string }>(a.url, 'POST', '/migrations', { slots: '0-15', to: 2 });
    await waitFor(async () => (await api<{ keys: { moved: number } }>(a.url, 'GET', `/migrations/${batch.id}`)).keys.moved > 20, { timeoutMs: 20_000, what: 'the move to start' });

    // INCRs on counters in the moving slots and in the rest of group 1, and on group 2.
    const c = client(cluster.proxies[0]!.port);
    const ctr = Array.from({ length: COUNTERS }, (_, i) => keyWhere('ctr', i, (s) => (i < 10 ? s < 16 : i < 20 ? s >= 16 && s < 512 : s >= 512)));
    const acked = new Array<number>(COUNTERS).fill(0);
    const errors2: string[] = [];
    let stop = false;
    const loops = Array.from({ length: 3 }, async (_, w) => {
      for (let i = w; !stop; i += 3) {
        const n = i % COUNTERS;
        try {
          await c.incr(ctr[n]!);
          acked[n]!++;
        } catch (err) {
          if (n >= 20) errors2.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    await waitFor(() => acked.reduce((x, y) => x + y, 0) > 300, { timeoutMs: 20_000, what: 'the load to run' });

    const entry = await cluster.store.get(groupKey(cluster.product, 1));
    const oldMaster = masterOf(parseGroup(entry!.value))!;
    const killedAt = Date.now();
    await Promise.all([cluster.groups[0]!.kill(), a.t.kill()]);
    await waitFor(async () => (await role(b.url)) === 'leader', { timeoutMs: 15_000, what: 'the standby to lead' });
    await waitFor(async () => {
      const e = await cluster.store.get(groupKey(cluster.product, 1));
      return masterOf(parseGroup(e!.value)) !== oldMaster;
    }, { timeoutMs: 20_000, intervalMs: 20, what: 'the standby to fail group 1 over' });
    const switchedMs = Date.now() - killedAt;
    const done = await waitFor(async () => {
      const m = await api<{ state: string; slots: { done: number; total: number } }>(b.url, 'GET', `/migrations/${batch.id}`);
      return m.state === 'done' ? m : null;
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'the migration to finish after the failover' });
    stop = true;
    await Promise.all(loops);
    console.log(`etcd, leader and master killed together: group 1 switched ${switchedMs} ms after the kill (leader-ttl 1 s); migration finished ${Date.now() - killedAt} ms after`);
    console.log(b.t.output().split('\n').filter((l) => /elected|failover|event|paus|promot/.test(l)).slice(0, 12).map((l) => { try { const j = JSON.parse(l); return `${j.time - killedAt} ${j.msg}`; } catch { return l; } }).join('\n'));
    expect(done.slots.done).toBe(done.slots.total);

    const events = (await api<{ events: Array<{ type: string; group?: number }> }>(b.url, 'GET', '/events?group=1&limit=1000')).events.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['migrations-paused', 'failover-started', 'promoted', 'failover-done', 'migrations-resumed']));
    expect(events.indexOf('migrations-paused')).toBeLessThan(events.indexOf('failover-started'));
    const rec = (await api<{ failovers: Array<{ group: number; phase: string; pausedSlots: number[] }> }>(b.url, 'GET', '/failovers')).failovers.find((f) => f.group === 1)!;
    expect(rec.phase).toBe('done');
    expect(rec.pausedSlots.length).toBeGreaterThan(0);

    // Group 2's counters: exactly their acknowledged INCRs. Group 1's: replication is asynchronous,
    // so INCRs acknowledged by the killed master in its last milliseconds may be missing (only
    // WAIT makes a write durable: failover.test.ts checks that); reported. Every preloaded key
    // (written long before) is there, moved or not.
    const values = await Promise.all(ctr.map((k) => c.get(k)));
    for (let i = 20; i < COUNTERS; i++) expect(Number(values[i] ?? 0), ctr[i]).toBe(acked[i]);
    const short = values.slice(0, 20).reduce((n, v, i) => n + Math.max(0, acked[i]! - Number(v ?? 0)), 0);
    console.log(`group 1: ${short} acknowledged INCRs (without WAIT) missing after the kill -9, of ${acked.slice(0, 20).reduce((x, y) => x + y, 0)}`);
    const pre = await Promise.all(Array.from({ length: PRELOAD }, (_, i) => c.get(keyWhere('pre', i, (s) => s < (i % 2 ? 16 : 512)))));
    expect(pre.filter((v, i) => v !== String(i)).length).toBe(0);
    expect(errors2).toEqual([]);
  }, 150_000);
});
