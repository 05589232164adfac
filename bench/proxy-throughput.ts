// Proxy scenario measurements: every test × pipeline against the four paths (ours→redis,
// twemproxy→redis, redis direct, ours→nodes) in alternation, then the ratios and added latency.
import { GET_MISS, type BenchTest } from './redis-benchmark.js';
import { PROXY_PATHS, type ProxyPath } from './proxy-scenario.js';
import { summarize, type SummaryStats } from './stats.js';
import type { RunningTarget } from './targets.js';
import { sampleAlternating, type CellFailure, type RunSample, type ThroughputSettings } from './throughput.js';

export type PathStats = SummaryStats & { samples: RunSample[] };

export { GET_MISS };

export type { Keyspace } from './bench-keyspace.js';
import type { Keyspace } from './bench-keyspace.js';

/** One cell of the proxy scenario: a test at a pipeline depth with a number of clients. */
export interface ProxyCellSpec {
  test: BenchTest;
  pipeline: number;
  clients: number;
  keyspace: Keyspace;
}

/**
 * The cells of one run, in the order they must run: the empty-keyspace cells (GET-miss) first,
 * then every other test on the filled keyspace, then the many-clients check (GET and SET at
 * pipeline 1 with `manyClients` clients; 0 = none).
 */
export function proxyCells(tests: readonly BenchTest[], pipelines: readonly number[], clients: number, manyClients: number): ProxyCellSpec[] {
  const cells = (keyspace: Keyspace): ProxyCellSpec[] => tests
    .filter((t) => (t === GET_MISS) === (keyspace === 'empty'))
    .flatMap((test) => pipelines.map((pipeline) => ({ test, pipeline, clients, keyspace })));
  const many = manyClients === 0 ? [] : tests
    .filter((t) => t.id === 'GET' || t.id === 'SET')
    .map((test): ProxyCellSpec => ({ test, pipeline: 1, clients: manyClients, keyspace: 'filled' }));
  return [...cells('empty'), ...cells('filled'), ...many];
}

export interface ProxyComparison {
  /** ours→redis rps / twemproxy→redis rps (medians). */
  oursVsTwemproxy: number;
  /** The same with each path's best run: the ratio least affected by outside interference. */
  oursVsTwemproxyBestRun: number;
  oursVsDirect: number;
  twemproxyVsDirect: number;
  /** ours→nodes rps / ours→redis rps: what our nodes cost behind the same proxy. */
  nodesVsRedisBehindOurs: number;
  /** Median p50 through a proxy − median p50 of redis direct, in ms. */
  addedP50Ms: { ours: number; twemproxy: number };
  /** Median p99 through a proxy − median p99 of redis direct, in ms. */
  addedP99Ms: { ours: number; twemproxy: number };
  /**
   * Proxy CPU time per request in µs (median over runs of run CPU time / requests), or null if
   * not measured: the proxy's own efficiency, which rps alone hides when a proxy is not the bottleneck.
   */
  proxyCpuMicrosPerRequest: { ours: number | null; twemproxy: number | null; oursNodes: number | null };
  /** The issue's target for ours/twemproxy on this cell, or null where it sets none. */
  goal: { minRatio: number; met: boolean } | null;
}

export interface ProxyCellResult {
  test: string;
  pipeline: number;
  clients: number;
  keyspace: Keyspace;
  requests: number;
  paths: Record<ProxyPath, PathStats>;
  comparison: ProxyComparison;
}

/**
 * The issue's rps targets for ours/twemproxy (at the default client count): GET, SET and GET-miss
 * ≥ 1.0× at pipeline 1; GET and SET ≥ 1.3× at pipeline 16; 10-key MSET ≥ 1.0× at both.
 */
export function proxyGoal(test: string, pipeline: number): number | null {
  if (test === 'MSET (10 keys)') return pipeline === 1 || pipeline === 16 ? 1.0 : null;
  if (pipeline === 1) return test === 'GET' || test === 'SET' || test === 'GET-miss' ? 1.0 : null;
  if (pipeline === 16) return test === 'GET' || test === 'SET' ? 1.3 : null;
  return null;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/**
 * Ratios and added latency of one cell from each path's summary. Pure. `judged` false (a
 * many-clients cell) leaves out the rps goal, which the issue sets for the default clients only.
 */
export function compareProxyPaths(paths: Readonly<Record<ProxyPath, SummaryStats>>, test: string, pipeline: number, judged = true): ProxyComparison {
  const { oursRedis, twemproxy, direct, oursNodes } = paths;
  const oursVsTwemproxy = ratio(oursRedis.rps, twemproxy.rps);
  const minRatio = judged ? proxyGoal(test, pipeline) : null;
  return {
    oursVsTwemproxy,
    oursVsTwemproxyBestRun: ratio(oursRedis.bestRps, twemproxy.bestRps),
    oursVsDirect: ratio(oursRedis.rps, direct.rps),
    twemproxyVsDirect: ratio(twemproxy.rps, direct.rps),
    nodesVsRedisBehindOurs: ratio(oursNodes.rps, oursRedis.rps),
    addedP50Ms: { ours: oursRedis.p50Ms - direct.p50Ms, twemproxy: twemproxy.p50Ms - direct.p50Ms },
    addedP99Ms: { ours: oursRedis.p99Ms - direct.p99Ms, twemproxy: twemproxy.p99Ms - direct.p99Ms },
    proxyCpuMicrosPerRequest: {
      ours: oursRedis.serverCpuMicrosPerRequest, twemproxy: twemproxy.serverCpuMicrosPerRequest, oursNodes: oursNodes.serverCpuMicrosPerRequest,
    },
    goal: minRatio === null ? null : { minRatio, met: oursVsTwemproxy >= minRatio },
  };
}

/**
 * Measures every cell in order; before the first cell of each keyspace kind, `prepare` empties or
 * fills the backends. Runs go ours→redis, twemproxy, direct, ours→nodes in each round, and the
 * twemproxy warm-up sizes them. A failing cell is recorded and the others still run.
 */
export async function runProxyThroughput(
  targets: Readonly<Record<ProxyPath, RunningTarget>>,
  cells: readonly ProxyCellSpec[],
  settings: ThroughputSettings,
  prepare: (keyspace: Keyspace) => Promise<void>,
  log: (line: string) => void,
): Promise<{ results: ProxyCellResult[]; failures: CellFailure[] }> {
  const ordered = PROXY_PATHS.map((p) => targets[p]);
  const sizeBy = PROXY_PATHS.indexOf('twemproxy');
  const results: ProxyCellResult[] = [];
  const failures: CellFailure[] = [];
  let keyspace: Keyspace | null = null;
  for (const cell of cells) {
    const label = `${cell.test.id} -P ${cell.pipeline}${cell.clients === settings.clients ? '' : ` -c ${cell.clients}`}`;
    try {
      if (cell.keyspace !== keyspace) {
        keyspace = cell.keyspace;
        await prepare(keyspace);
      }
      const { requests, samples } = await sampleAlternating(ordered, sizeBy, cell.test, cell.pipeline, { ...settings, clients: cell.clients });
      const paths = Object.fromEntries(PROXY_PATHS.map((p, i) => [p, { ...summarize(samples[i]), samples: samples[i] }])) as Record<ProxyPath, PathStats>;
      const comparison = compareProxyPaths(paths, cell.test.id, cell.pipeline, cell.clients === settings.clients);
      results.push({ test: cell.test.id, pipeline: cell.pipeline, clients: cell.clients, keyspace: cell.keyspace, requests, paths, comparison });
      log(`${label} -n ${requests}: ${PROXY_PATHS.map((p) => `${p} ${Math.round(paths[p].rps)}`).join(', ')} rps; ` +
        `ours/twemproxy ${comparison.oursVsTwemproxy.toFixed(2)}`);
    } catch (err) {
      failures.push({ test: cell.clients === settings.clients ? cell.test.id : `${cell.test.id} -c ${cell.clients}`, pipeline: cell.pipeline, message: (err as Error).message });
      log(`${label} FAILED: ${(err as Error).message}`);
    }
  }
  return { results, failures };
}
