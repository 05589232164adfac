// The proxy scenario's processes: two redis-servers and two Tessera nodes (backends, on the
// backend CPU), our proxy over each pair and twemproxy over the redis pair (on the proxy CPU).
// Owns starting them in order and stopping all of them, also when a start fails halfway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prepareBackends } from './bench-keyspace.js';
import { startNutcracker } from './nutcracker.js';
import type { Keyspace } from './proxy-throughput.js';
import { redisServerTarget, tesseraNodeTarget, type RunningTarget } from './targets.js';
import { startTesseraProxy, writeSlotTable } from './tessera-proxy.js';

/** Column keys of the four measured paths, in the order their runs alternate. */
export const PROXY_PATHS = ['oursRedis', 'twemproxy', 'direct', 'oursNodes'] as const;
export type ProxyPath = (typeof PROXY_PATHS)[number];

/** Short labels for tables and JSON. */
export const PROXY_PATH_LABELS: Readonly<Record<ProxyPath, string>> = {
  oursRedis: 'ours→redis',
  twemproxy: 'twemproxy→redis',
  direct: 'redis direct',
  oursNodes: 'ours→nodes',
};

export const PROXY_PATH_DESCRIPTIONS: Readonly<Record<ProxyPath, string>> = {
  oursRedis: '(a) bin/tessera proxy (file store) in front of two redis-servers, slots 0-511 and 512-1023',
  twemproxy: '(b) nutcracker 0.5.0 (fnv1a_64, ketama, auto_eject_hosts off) in front of the same two redis-servers',
  direct: '(c) the first of those redis-servers, without a proxy',
  oursNodes: '(d) bin/tessera proxy in front of two Tessera nodes, slots 0-511 and 512-1023',
};

export interface ProxyScenarioCpus {
  /** CPU of the proxies under test, or undefined for no pinning. */
  proxyCpu?: number;
  /** CPU of the backends (shared with redis-benchmark), or undefined. */
  backendCpu?: number;
  /** Where our proxies write a V8 CPU profile on exit (BENCH_PROXY_CPU_PROF), or undefined. */
  cpuProfileDir?: string;
  /** `--proxy-workers N`: our proxies run `--workers N` (undefined: the flag is not passed). */
  workers?: number;
}

export interface RunningProxyScenario {
  readonly targets: Readonly<Record<ProxyPath, RunningTarget>>;
  /** Ports of the two redis-servers behind (a) and (b), in slot-table order. */
  readonly redisPorts: readonly number[];
  /** Ports of the two Tessera nodes behind (d). */
  readonly nodePorts: readonly number[];
  /**
   * Empties every backend (FLUSHALL), or fills each of them with all `keys` keys redis-benchmark
   * -r may draw, so GETs hit whichever backend a proxy's hashing picks.
   */
  prepareKeyspace(keyspace: Keyspace, keys: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts every process of the scenario; on any failure stops what already started and rethrows. */
export async function startProxyScenario(cpus: ProxyScenarioCpus): Promise<RunningProxyScenario> {
  const started: RunningTarget[] = [];
  // One store per proxy: with a shared file store, every lease refresh of one proxy makes the
  // other re-read and parse the whole file, which costs the measured proxy's core CPU time.
  const storeDirs = [mkdtempSync(join(tmpdir(), 'bench-store-redis-')), mkdtempSync(join(tmpdir(), 'bench-store-nodes-'))];
  const stop = async (): Promise<void> => {
    // Proxies first so they never see their backends vanish under load.
    await Promise.all(started.slice(4).map((t) => t.stop()));
    await Promise.all(started.slice(0, 4).map((t) => t.stop()));
    for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true });
  };
  const track = (t: RunningTarget): RunningTarget => {
    started.push(t);
    return t;
  };
  try {
    const onBackendCpu = { cpu: cpus.backendCpu };
    const redisA = track(await redisServerTarget.start(onBackendCpu));
    const redisB = track(await redisServerTarget.start(onBackendCpu));
    const nodeA = track(await tesseraNodeTarget.start(onBackendCpu));
    const nodeB = track(await tesseraNodeTarget.start(onBackendCpu));
    const redisAddrs = [redisA, redisB].map((t) => `127.0.0.1:${t.port}`);
    const nodeAddrs = [nodeA, nodeB].map((t) => `127.0.0.1:${t.port}`);
    const [redisStore, nodesStore] = storeDirs.map((dir) => pathToFileURL(dir).href);
    await writeSlotTable(redisStore, 'bench-redis', redisAddrs);
    await writeSlotTable(nodesStore, 'bench-nodes', nodeAddrs);
    const redisPids = [...redisA.pids, ...redisB.pids];
    const nodePids = [...nodeA.pids, ...nodeB.pids];
    const ours = { cpu: cpus.proxyCpu, cpuProfileDir: cpus.cpuProfileDir, gcTrace: true, workers: cpus.workers };
    const oursRedis = track(await startTesseraProxy(redisStore, 'bench-redis', { ...ours, backendPids: redisPids }));
    const twemproxy = track(await startNutcracker(redisAddrs, { cpu: cpus.proxyCpu, backendPids: redisPids }));
    const oursNodes = track(await startTesseraProxy(nodesStore, 'bench-nodes', { ...ours, backendPids: nodePids }));
    // Stopping the direct path would stop a shared backend: the scenario's stop() owns that.
    const direct: RunningTarget = { port: redisA.port, pids: redisA.pids, stop: async () => {} };
    const backendPorts = [redisA, redisB, nodeA, nodeB].map((t) => t.port);
    return {
      targets: { oursRedis, twemproxy, direct, oursNodes },
      redisPorts: [redisA.port, redisB.port],
      nodePorts: [nodeA.port, nodeB.port],
      prepareKeyspace: (keyspace, keys) => prepareBackends(backendPorts, keyspace, keys),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
