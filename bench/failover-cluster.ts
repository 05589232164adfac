// The failover scenario's cluster: a file store, 2 groups of master + 2 replicas (cluster-mode
// Tessera nodes), the slot table split evenly, one coordinator (`tessera dashboard`, failover
// defaults: health every 250 ms, down-after 1 s) and one proxy. Built from the harness's starters
// (replication-servers.ts, tessera-proxy.ts); stop() ends every process it started.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DashboardClient } from '../cli/admin-api.js';
import { addServer } from '../cli/admin.js';
import { masterOf, parseGroup } from '../common/model.js';
import { groupKey } from '../common/store/keys.js';
import { openStore } from '../common/store/open-store.js';
import { RespClient } from './resp-client.js';
import { startServer, type RunningServer } from './replication-servers.js';
import type { RunningTarget } from './targets.js';
import { startTesseraProxy, writeSlotTable } from './tessera-proxy.js';
import { clusterNodeKind, startDashboard, waitUntil } from './cluster-start.js';

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

async function infoText(port: number, section: string): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    return await c.sendForString(['INFO', section]);
  } finally {
    c.close();
  }
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
    const masters = await Promise.all([1, 2].map(() => startServer(clusterNodeKind(null), undefined)));
    stops.push(() => Promise.all(masters.map((m) => m.stop())).then(() => {}));
    const replicas = await Promise.all(masters.map((m) =>
      Promise.all(Array.from({ length: REPLICAS_PER_GROUP }, () => startServer(clusterNodeKind(m.port), undefined)))));
    stops.push(() => Promise.all(replicas.flat().map((r) => r.stop())).then(() => {}));
    await writeSlotTable(storeUrl, FAILOVER_PRODUCT, masters.map((m) => `127.0.0.1:${m.port}`));
    const store = await openStore(storeUrl);
    stops.push(() => store.close());
    for (const [i, group] of replicas.entries()) {
      for (const r of group) await addServer(store, FAILOVER_PRODUCT, i + 1, `127.0.0.1:${r.port}`, 'replica');
    }
    const dash = await startDashboard(dir, storeUrl, { product: FAILOVER_PRODUCT, token: 'bench-failover-token', deadlineMs: READY_DEADLINE_MS });
    stops.push(() => dash.proc.stop());
    for (const m of masters) {
      await waitUntil(`node ${m.port} to be told its slots`, READY_DEADLINE_MS, async () => /ownership_confirmed:1/.test(await infoText(m.port, 'slots')), () => dash.proc.hasExited());
      await waitUntil(`node ${m.port}'s replicas to attach`, READY_DEADLINE_MS, async () => (await infoText(m.port, 'replication')).includes(`connected_slaves:${REPLICAS_PER_GROUP}`));
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
