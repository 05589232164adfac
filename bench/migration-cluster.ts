// The migration scenario's cluster: a store (the file store, or a throw-away etcd), 2 groups of master + replica (cluster-mode
// Tessera nodes), the slot table split evenly, one coordinator (`tessera dashboard`) and 2 proxies.
// Built from the harness's starters (replication-servers.ts, tessera-proxy.ts); stops everything.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DashboardClient } from '../cli/admin-api.js';
import { addServer } from '../cli/admin.js';
import { openStore } from '../common/store/open-store.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { RespClient } from './resp-client.js';
import { startServer, type RunningServer } from './replication-servers.js';
import type { RunningTarget } from './targets.js';
import { startTesseraProxy, writeSlotTable } from './tessera-proxy.js';
import { clusterNodeKind, startDashboard, waitUntil } from './cluster-start.js';

const PRODUCT = 'bench-migration';
const READY_DEADLINE_MS = 30_000;

export interface ClusterLayout {
  /** CPU of group 1's master and replica (the source), or undefined: unpinned. */
  sourceCpu?: number;
  /** CPU of group 2's master and replica (the target). */
  targetCpu?: number;
  /** The coordination store: the local file store, or a throw-away etcd (test/helpers/etcd.ts). */
  store: 'file' | 'etcd';
  /** Nodes, proxies and the coordinator write V8 .cpuprofile files here on exit. */
  cpuProfileDir?: string;
}

export interface MigrationCluster {
  /** masters[g - 1] / replicas[g - 1]: group g. */
  readonly masters: readonly RunningServer[];
  readonly replicas: readonly RunningServer[];
  readonly proxies: readonly RunningTarget[];
  readonly dashboard: { readonly url: string; readonly pid: number; readonly client: DashboardClient; outputTail(): string };
  readonly storeUrl: string;
  stop(): Promise<void>;
}

async function registerReplicas(storeUrl: string, replicas: readonly RunningServer[]): Promise<void> {
  const store = await openStore(storeUrl);
  try {
    for (const [i, r] of replicas.entries()) await addServer(store, PRODUCT, i + 1, `127.0.0.1:${r.port}`, 'replica');
  } finally {
    await store.close();
  }
}

/** The nodes refuse every key until the coordinator told them their slots: this is "ready". */
async function ownershipConfirmed(port: number): Promise<boolean> {
  const c = await RespClient.connect(port);
  try {
    const info = await c.sendForString(['INFO', 'slots']);
    return /ownership_confirmed:1/.test(info) && !/config_epoch:0\r?\n/.test(info);
  } finally {
    c.close();
  }
}

/** Starts the whole cluster; on any failure stops what was started and rethrows. */
export async function startMigrationCluster(layout: ClusterLayout, log: (line: string) => void): Promise<MigrationCluster> {
  const dir = await mkdtemp(join(os.tmpdir(), 'tessera-bench-mig-'));
  const stops: Array<() => Promise<void>> = [];
  let storeUrl = `file://${join(dir, 'store')}`;
  const stop = async (): Promise<void> => {
    // Proxies and the coordinator first (they talk to the nodes), then the nodes.
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (layout.store === 'etcd') {
      const etcd = await startEtcd();
      stops.push(() => etcd.stop());
      storeUrl = etcd.url;
    }
    const cpus = [layout.sourceCpu, layout.targetCpu];
    const masters = await Promise.all(cpus.map((cpu) => startServer(clusterNodeKind(null, layout.cpuProfileDir), cpu)));
    stops.push(() => Promise.all(masters.map((m) => m.stop())).then(() => {}));
    // Each replica on the other group's CPU: never on its own master's core, as a replica is never
    // on its master's host. Sharing one, every write of the replication stream woke the replica
    // on the CPU its master was running on, which then waited for it (half the target master's
    // samples during a move were in that write, by a CPU profile).
    const replicas = await Promise.all(masters.map((m, i) => startServer(clusterNodeKind(m.port, layout.cpuProfileDir), cpus[1 - i])));
    stops.push(() => Promise.all(replicas.map((r) => r.stop())).then(() => {}));
    await writeSlotTable(storeUrl, PRODUCT, masters.map((m) => `127.0.0.1:${m.port}`));
    await registerReplicas(storeUrl, replicas);
    const dash = await startDashboard(dir, storeUrl, { product: PRODUCT, token: 'bench-migration-token', deadlineMs: READY_DEADLINE_MS, cpuProfileDir: layout.cpuProfileDir });
    stops.push(() => dash.proc.stop());
    // Automatic failover off: this measures a migration. With it on, a master busy with the
    // pipelined load of 1M keys on this loaded machine missed health checks for over 1 s and
    // the coordinator promoted its replica in the middle of the load.
    await dash.client.call('PUT', '/failover/settings', { auto: false });
    log(`coordinator ${dash.url}; masters ${masters.map((m) => m.port).join(', ')}; replicas ${replicas.map((r) => r.port).join(', ')}`);
    for (const m of masters) await waitUntil(`node ${m.port} to be told its slots`, READY_DEADLINE_MS, () => ownershipConfirmed(m.port), () => dash.proc.hasExited());
    const backendPids = [...masters, ...replicas].map((s) => s.pid);
    const proxies: RunningTarget[] = [];
    stops.push(() => Promise.all(proxies.map((p) => p.stop())).then(() => {}));
    for (let i = 0; i < 2; i++) proxies.push(await startTesseraProxy(storeUrl, PRODUCT, { backendPids, cpuProfileDir: layout.cpuProfileDir }));
    log(`proxies on ports ${proxies.map((p) => p.port).join(', ')}`);
    return {
      masters, replicas, proxies, storeUrl, stop,
      dashboard: { url: dash.url, pid: dash.proc.pid, client: dash.client, outputTail: () => dash.proc.outputTail() },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
