// A whole Tessera cluster on loopback for integration tests: a store (real etcd or the file
// store), N groups of nodes, the slot table split evenly, and M proxies (real processes).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addServer, assignSlots, createGroup } from '../../cli/admin.js';
import { assignEvenly } from '../../common/model.js';
import type { CoordStore } from '../../common/store/coord-store.js';
import { openStore } from '../../common/store/open-store.js';
import { type EtcdHandle, startEtcd } from './etcd.js';
import { freePort } from './ports.js';
import { type ServerHandle, TESSERA_BIN, spawnTracked, startNode, stopAll, waitForPing } from './servers.js';


export interface ProxyHandle {
  port: number;
  adminPort: number;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface Cluster {
  product: string;
  storeUrl: string;
  etcd: EtcdHandle | null;
  store: CoordStore;
  /** groups[i] = the master node of group i + 1 */
  groups: ServerHandle[];
  /** replicas[i] = the replica nodes of group i + 1 (REPLICAOF its master) */
  replicas: ServerHandle[][];
  proxies: ProxyHandle[];
  startProxy(extra?: string[]): Promise<ProxyHandle>;
  stop(): Promise<void>;
}

export async function startProxyProcess(storeUrl: string, product: string, extra: string[]): Promise<ProxyHandle> {
  const port = await freePort();
  const adminPort = await freePort();
  const t = spawnTracked(process.execPath, [
    TESSERA_BIN, 'proxy', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`,
    '--store', storeUrl, '--product', product, ...extra,
  ]);
  try {
    await waitForPing(t, port, 'proxy');
  } catch (err) {
    await t.kill();
    throw err;
  }
  return { port, adminPort, proc: t.proc, output: t.output, stop: t.stop };
}

export async function startCluster(opts: { groups?: number; replicas?: number; proxies?: number; store?: 'etcd' | 'file'; nodeArgs?: string[]; proxyArgs?: string[] } = {}): Promise<Cluster> {
  const product = 'test';
  let etcd: EtcdHandle | null = null;
  let fileDir: string | null = null;
  let storeUrl: string;
  if ((opts.store ?? 'etcd') === 'etcd') {
    etcd = await startEtcd();
    storeUrl = etcd.url;
  } else {
    fileDir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
    storeUrl = `file://${fileDir}`;
  }
  const store = await openStore(storeUrl);
  const nodeArgs = ['--repl-diskless-sync-delay', '0', ...(opts.nodeArgs ?? [])];
  const groups = await allOrStop(Array.from({ length: opts.groups ?? 2 }, () => startNode(nodeArgs)));
  const replicaStarts = groups.flatMap((m) => Array.from({ length: opts.replicas ?? 0 }, () => startNode([...nodeArgs, '--replicaof', '127.0.0.1', String(m.port)])));
  const started = await allOrStop(replicaStarts).catch(async (err: unknown) => {
    await stopAll(...groups);
    throw err;
  });
  const perGroup = opts.replicas ?? 0;
  const replicas = groups.map((_, i) => started.slice(i * perGroup, (i + 1) * perGroup));
  for (let i = 0; i < groups.length; i++) {
    await createGroup(store, product, i + 1);
    await addServer(store, product, i + 1, `127.0.0.1:${groups[i]!.port}`, 'master');
    for (const r of replicas[i]!) await addServer(store, product, i + 1, `127.0.0.1:${r.port}`, 'replica');
  }
  for (const r of assignEvenly(groups.map((_, i) => i + 1))) await assignSlots(store, product, r.from, r.to, r.group);
  const proxies: ProxyHandle[] = [];
  const cluster: Cluster = {
    product,
    storeUrl,
    etcd,
    store,
    groups,
    replicas,
    proxies,
    async startProxy(extra = []) {
      const p = await startProxyProcess(storeUrl, product, [...(opts.proxyArgs ?? []), ...extra]);
      proxies.push(p);
      return p;
    },
    async stop() {
      await Promise.all(proxies.map((p) => p.stop()));
      await store.close();
      await stopAll(...groups, ...replicas.flat());
      await etcd?.stop();
      if (fileDir) rmSync(fileDir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < (opts.proxies ?? 2); i++) await cluster.startProxy();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Every server started, or none left running: when one fails to start, the others are stopped. */
async function allOrStop(starts: Array<Promise<ServerHandle>>): Promise<ServerHandle[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return settled.map((r) => (r as PromiseFulfilledResult<ServerHandle>).value);
  await stopAll(...settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  throw failed.reason;
}
