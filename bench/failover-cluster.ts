// The failover scenario's cluster: a file store, 2 groups of master + 2 replicas (cluster-mode
// Tessera nodes), the slot table split evenly, one coordinator (`tessera dashboard`, failover
// defaults: health every 250 ms, down-after 1 s) and one proxy. Built from the harness's starters
// (replication-servers.ts, tessera-proxy.ts); stop() ends every process it started.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DashboardClient } from '../cli/admin-api.js';
import { addServer } from '../cli/admin.js';
import { masterOf, parseGroup } from '../common/model.js';
import { groupKey } from '../common/store/keys.js';
import { openStore } from '../common/store/open-store.js';
import { freePort } from './net-util.js';
import { spawnManaged, type ManagedProcess } from './processes.js';
import { RespClient } from './resp-client.js';
import { startServer, type RunningServer, type ServerKind } from './replication-servers.js';
import { repoRoot, tesseraNodeCommand, type RunningTarget } from './targets.js';
import { startTesseraProxy, writeSlotTable } from './tessera-proxy.js';

export const FAILOVER_PRODUCT = 'bench-failover';
// Generous: on this shared machine (load averages of 30-40 on 2 CPUs) a coordinator took over 30 s to listen.
const READY_DEADLINE_MS = 60_000;
const REPLICAS_PER_GROUP = 2;

export interface FailoverCluster {
  /** masters[g - 1] / replicas[g - 1]: group g as started. */
  readonly masters: readonly RunningServer[];
  readonly replicas: readonly (readonly RunningServer[])[];
  readonly proxy: RunningTarget;
  readonly dashboard: DashboardClient;
  /** The master the store names for group `id` now (host:port), or null. */
  currentMaster(id: number): Promise<string | null>;
  /** kill -9 of the server started at `addr`; resolves with Date.now() right after the signal. */
  kill(addr: string): Promise<number>;
  /**
   * The run_id of whatever answers at `addr` now, or null when nothing does. After a kill, an
   * answer means another process took the freed port (this machine runs other people's servers on
   * random ports): a run would measure that process, not a failover.
   */
  runIdAt(addr: string): Promise<string | null>;
  stop(): Promise<void>;
}

/** A cluster-mode node: the harness's node command line, plus a dir, slot ownership, no sync delay. */
const clusterNode = (replicaOf: number | null): ServerKind => ({
  name: 'tessera-node (slot-ownership yes)',
  description: 'node bin/tessera node --save "" --appendonly no --slot-ownership yes',
  command(port, dir) {
    const { file, args } = tesseraNodeCommand(port);
    const replica = replicaOf === null ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)];
    return { file, args: [...args, '--dir', dir, '--repl-diskless-sync-delay', '0', '--slot-ownership', 'yes', ...replica] };
  },
});

async function waitUntil(what: string, check: () => Promise<boolean>, isDead: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`${what}: the coordinator exited`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${READY_DEADLINE_MS} ms waiting for ${what}${lastError === null ? '' : ` (${(lastError as Error).message})`}`);
}

async function infoText(port: number, section: string): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    return await c.sendForString(['INFO', section]);
  } finally {
    c.close();
  }
}

async function startDashboard(dir: string, storeUrl: string): Promise<{ proc: ManagedProcess; client: DashboardClient }> {
  const token = 'bench-failover-token';
  const tokenFile = join(dir, 'dashboard-token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const port = await freePort();
  // warn: fastify logs every request at info, and the harness polls the API.
  const proc = spawnManaged(process.execPath, [join(repoRoot(), 'bin', 'tessera'), 'dashboard', '--store', storeUrl, '--product', FAILOVER_PRODUCT,
    '--listen', `127.0.0.1:${port}`, '--token-file', tokenFile, '--log-level', 'warn'], { cwd: repoRoot() });
  const client = new DashboardClient(`http://127.0.0.1:${port}`, token);
  try {
    await waitUntil('the coordinator to lead', async () =>
      (await client.call<{ self: { role: string } }>('GET', '/overview')).self.role === 'leader', () => proc.hasExited());
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.outputTail()}`);
  }
  return { proc, client };
}

/** Starts the whole cluster; on any failure stops what was started and rethrows. */
export async function startFailoverCluster(log: (line: string) => void): Promise<FailoverCluster> {
  const dir = await mkdtemp(join(os.tmpdir(), 'tessera-bench-fo-'));
  const storeUrl = `file://${join(dir, 'store')}`;
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    // The proxy and the coordinator first (they talk to the nodes), then the nodes.
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const masters = await Promise.all([1, 2].map(() => startServer(clusterNode(null), undefined)));
    stops.push(() => Promise.all(masters.map((m) => m.stop())).then(() => {}));
    const replicas = await Promise.all(masters.map((m) =>
      Promise.all(Array.from({ length: REPLICAS_PER_GROUP }, () => startServer(clusterNode(m.port), undefined)))));
    stops.push(() => Promise.all(replicas.flat().map((r) => r.stop())).then(() => {}));
    await writeSlotTable(storeUrl, FAILOVER_PRODUCT, masters.map((m) => `127.0.0.1:${m.port}`));
    const store = await openStore(storeUrl);
    stops.push(() => store.close());
    for (const [i, group] of replicas.entries()) {
      for (const r of group) await addServer(store, FAILOVER_PRODUCT, i + 1, `127.0.0.1:${r.port}`, 'replica');
    }
    const dash = await startDashboard(dir, storeUrl);
    stops.push(() => dash.proc.stop());
    for (const m of masters) {
      await waitUntil(`node ${m.port} to be told its slots`, async () => /ownership_confirmed:1/.test(await infoText(m.port, 'slots')), () => dash.proc.hasExited());
      await waitUntil(`node ${m.port}'s replicas to attach`, async () => (await infoText(m.port, 'replication')).includes(`connected_slaves:${REPLICAS_PER_GROUP}`));
    }
    const proxy = await startTesseraProxy(storeUrl, FAILOVER_PRODUCT, { backendPids: [...masters, ...replicas.flat()].map((s) => s.pid) });
    stops.push(() => proxy.stop());
    log(`failover cluster: masters ${masters.map((m) => m.port).join(', ')}, replicas ${replicas.map((g) => g.map((r) => r.port).join('+')).join(', ')}, proxy ${proxy.port}`);
    return {
      masters, replicas, proxy, stop,
      dashboard: dash.client,
      async currentMaster(id) {
        const e = await store.get(groupKey(FAILOVER_PRODUCT, id));
        return e === null ? null : masterOf(parseGroup(e.value));
      },
      async kill(addr) {
        const server = [...masters, ...replicas.flat()].find((x) => `127.0.0.1:${x.port}` === addr);
        if (server === undefined) throw new Error(`${addr} is not a server of this cluster`);
        process.kill(server.pid, 'SIGKILL');
        const at = Date.now();
        await server.stop(); // waits for the exit (and removes its dir)
        return at;
      },
      async runIdAt(addr) {
        try {
          return /run_id:(\w+)/.exec(await infoText(Number(addr.slice(addr.lastIndexOf(':') + 1)), 'server'))?.[1] ?? 'unknown';
        } catch {
          return null;
        }
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
