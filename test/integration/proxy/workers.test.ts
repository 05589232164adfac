// `tessera proxy --workers 4` as real processes on 2 groups: clients spread over the workers, the
// admin API's stats add up over them, the one registration's table revision waits for the slowest
// worker, a SIGKILLed worker is replaced while clients keep being served, and SIGTERM of the
// primary ends every worker. One cluster and one proxy for the file.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignSlots } from '../../../cli/admin.js';
import { parseProxyInfo } from '../../../common/model.js';
import { type Reply, ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { proxiesPrefix } from '../../../common/store/keys.js';
import { type Cluster, type ProxyHandle, startCluster } from '../../helpers/cluster.js';
import { RawClient, infoFields } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

const WORKERS = 4;
// Secrets given on the primary's command line and in its environment: the workers get them by IPC only.
const ADMIN_PASSWORD = 'argv-secret-7f3a';
const ADMIN_TOKEN = 'env-secret-91c2';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface WorkerRow { index: number; pid: number | null; serving: boolean; answered: boolean; restarts: number; tableRevision: string | null; sessions: number; commands: number; connections: number }
interface Stats { ops: { total: number }; sessions: { total: number; alive: number }; commands: Record<string, { calls: number; p99_us: number }>; tableRevision: string; workers: WorkerRow[] }

let cluster: Cluster;
let proxy: ProxyHandle;
let admin: string;
const stopped = new Set<number>();

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, proxies: 0, store: 'file' });
  process.env.TESSERA_ADMIN_TOKEN = ADMIN_TOKEN; // inherited by the spawned proxy
  try {
    proxy = await cluster.startProxy(['--workers', String(WORKERS), '--admin-password', ADMIN_PASSWORD]);
  } finally {
    delete process.env.TESSERA_ADMIN_TOKEN;
  }
  admin = `http://127.0.0.1:${proxy.adminPort}`;
  // The workers answer PING as soon as they listen; the primary's admin API opens once all do.
  await waitFor(async () => (await fetch(`${admin}/health`, { headers: auth })).ok, { what: 'the admin API' });
}, 60_000);

afterAll(async () => {
  for (const pid of stopped) resume(pid);
  await cluster?.stop();
});

async function stats(): Promise<Stats> {
  return (await (await fetch(`${admin}/stats`, { headers: auth })).json()) as Stats;
}

/** /stats once every worker answered (a worker busy past the primary's ask timeout counts its last heartbeat instead). */
function statsOfAll(): Promise<Stats> {
  return waitFor(async () => {
    const s = await stats();
    return s.workers.every((w) => w.answered) ? s : null;
  }, { what: 'every worker answering /stats' });
}

async function registration(): Promise<string> {
  const entries = await cluster.store.list(proxiesPrefix(cluster.product));
  expect(entries).toHaveLength(1);
  return parseProxyInfo(entries[0]!.value).tableRevision;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch { /* gone */ }
  stopped.delete(pid);
}

function text(r: Reply): string {
  return r instanceof ReplyErrorValue ? `-${r.message}` : r instanceof SimpleString ? r.value : String(r);
}

/** `n` connections, each sending SET and GET of its own key `rounds` times; returns the clients (open). */
async function traffic(n: number, rounds: number, prefix: string): Promise<RawClient[]> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(proxy.port)));
  await Promise.all(clients.map(async (c, i) => {
    for (let r = 0; r < rounds; r++) {
      expect(text(await c.call('SET', `${prefix}:${i}`, `v${r}`))).toBe('OK');
      expect(text(await c.call('GET', `${prefix}:${i}`))).toBe(`v${r}`);
    }
  }));
  return clients;
}

describe('proxy --workers 4', () => {
  it('spreads clients over the workers and sums their stats (commands, clients) in /stats and INFO', async () => {
    const before = await statsOfAll();
    expect(before.workers).toHaveLength(WORKERS);
    expect(before.workers.every((w) => w.serving && w.answered && w.pid !== null)).toBe(true);
    expect(new Set(before.workers.map((w) => w.pid)).size).toBe(WORKERS);
    const clients = await traffic(40, 5, 'spread');
    try {
      const after = await statsOfAll();
      // 40 clients × 5 rounds × (SET + GET), nothing else was sent meanwhile.
      expect(after.ops.total - before.ops.total).toBe(400);
      expect((after.commands.set?.calls ?? 0) - (before.commands.set?.calls ?? 0)).toBe(200);
      expect((after.commands.get?.calls ?? 0) - (before.commands.get?.calls ?? 0)).toBe(200);
      expect(after.commands.get!.p99_us).toBeGreaterThan(0);
      expect(after.workers.reduce((n, w) => n + w.commands, 0)).toBe(after.ops.total);
      expect(after.sessions.alive).toBe(40);
      expect(after.workers.reduce((n, w) => n + w.sessions, 0)).toBe(40);
      const served = after.workers.filter((w, i) => w.commands > before.workers[i]!.commands);
      expect(served.length).toBeGreaterThan(1);
      // INFO through any worker counts every worker's clients (the others' as of the last second).
      await waitFor(async () => Number((await infoFields(proxy.port, 'clients')).connected_clients) === 41, { what: 'INFO connected_clients over all workers' });
      const info = await infoFields(proxy.port, 'server');
      expect(info.proxy_workers).toBe(String(WORKERS));
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('passes the config, secrets included, to the workers by IPC only (not argv, title or environment)', async () => {
    expect((await fetch(`${admin}/stats`)).status).toBe(401); // the token from the environment is in force
    const c = await RawClient.connect(proxy.port);
    try {
      expect(text(await c.call('AUTH', 'admin', ADMIN_PASSWORD))).toBe('OK'); // the worker knows the password
    } finally {
      c.close();
    }
    for (const w of (await stats()).workers) {
      const cmdline = readFileSync(`/proc/${w.pid}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${w.pid}/environ`, 'latin1');
      expect(cmdline).toMatch(/tessera proxy .*worker/);
      for (const secret of [ADMIN_PASSWORD, ADMIN_TOKEN]) {
        expect(cmdline).not.toContain(secret);
        expect(environ).not.toContain(secret);
      }
    }
  });

  it('registers the lowest table revision its workers applied: a stopped worker holds it back', async () => {
    const base = await waitFor(async () => {
      const s = await stats();
      const revs = s.workers.map((w) => w.tableRevision);
      return revs.every((r) => r === revs[0]) && (await registration()) === revs[0] ? revs[0]! : null;
    }, { what: 'every worker and the registration on one revision' });
    const slow = (await stats()).workers[1]!;
    process.kill(slow.pid!, 'SIGSTOP');
    stopped.add(slow.pid!);
    try {
      await assignSlots(cluster.store, cluster.product, 0, 0, 2); // slot 0: group 1 → group 2
      // The three running workers apply it; the primary hears of each at once.
      const next = await waitFor(async () => {
        const others = (await stats()).workers.filter((w) => w.index !== slow.index);
        return others.every((w) => BigInt(w.tableRevision ?? '0') > BigInt(base)) ? others[0]!.tableRevision : null;
      }, { what: 'the running workers applying the new table' });
      const health = (await (await fetch(`${admin}/health`, { headers: auth })).json()) as { status: string; workers: { configured: number; serving: number } };
      expect(health.workers).toEqual({ configured: WORKERS, serving: WORKERS - 1 });
      expect(health.status).toBe('degraded');
      // Not advanced while the stopped worker still serves the old table (any write would have landed by now).
      for (let i = 0; i < 5; i++) {
        expect(await registration()).toBe(base);
        await new Promise((r) => setTimeout(r, 100));
      }
      resume(slow.pid!);
      await waitFor(async () => BigInt(await registration()) >= BigInt(next!), { what: 'the registration advancing once the stopped worker applied the table' });
      const s = await stats();
      expect(s.tableRevision).toBe(await registration());
    } finally {
      resume(slow.pid!);
      await assignSlots(cluster.store, cluster.product, 0, 0, 1);
    }
  });

  it('replaces a SIGKILLed worker while the others keep serving their clients', async () => {
    const clients = await traffic(20, 1, 'kill');
    try {
      const victim = (await stats()).workers[2]!;
      process.kill(victim.pid!, 'SIGKILL');
      await waitFor(() => !alive(victim.pid!), { what: `worker pid ${victim.pid} gone` });
      // Clients of the other workers are still served on their connections.
      const answers = await Promise.all(clients.map((c, i) => (c.closed ? Promise.resolve(null) : c.call('GET', `kill:${i}`).catch(() => null))));
      const served = answers.filter((a) => a === 'v0').length;
      expect(served).toBeGreaterThan(0);
      // New clients are all served, on the survivors or the replacement.
      for (const c of await traffic(20, 1, 'after')) c.close();
      const replaced = await waitFor(async () => {
        const w = (await stats()).workers[2]!;
        return w.serving && w.pid !== null && w.pid !== victim.pid ? w : null;
      }, { what: 'worker 2 replaced' });
      expect(replaced.restarts).toBe(1);
      expect(alive(replaced.pid!)).toBe(true);
      expect(proxy.output()).toMatch(new RegExp(`worker 2 \\(pid ${victim.pid}\\) exited \\(signal SIGKILL\\); replacing it`));
      // The replacement takes clients too (the primary hands connections out round-robin).
      await waitFor(async () => {
        for (const c of await traffic(8, 1, 'again')) c.close();
        return (await stats()).workers[2]!.connections > 0;
      }, { what: 'the replacement serving clients' });
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('SIGTERM of the primary stops every worker and drops the registration', async () => {
    const pids = (await stats()).workers.map((w) => w.pid!);
    expect(pids.every(alive)).toBe(true);
    await proxy.stop();
    expect(proxy.proc.exitCode).toBe(0);
    await waitFor(() => pids.every((p) => !alive(p)), { what: `workers ${pids.join(', ')} gone` });
    expect(await cluster.store.list(proxiesPrefix(cluster.product))).toHaveLength(0);
  });
});
