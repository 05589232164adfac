// Proxy scenario measurements: every test × pipeline against the four paths (ours→redis,
// twemproxy→redis, redis direct, ours→nodes) in alternation, then the ratios and added latency.
import type { BenchTest } from './redis-benchmark.js';
import { PROXY_PATHS, type ProxyPath } from './proxy-scenario.js';
import { summarize, type SummaryStats } from './stats.js';
import type { RunningTarget } from './targets.js';
import { sampleAlternating, type CellFailure, type RunSample, type ThroughputSettings } from './throughput.js';

export type PathStats = SummaryStats & { samples: RunSample[] };

export interface ProxyComparison {
  /** ours→redis rps / twemproxy→redis rps (medians). */
  oursVsTwemproxy: number;
  /** The same with each path's best run: the ratio least affected by outside interference. */
  oursVsTwemproxyBestRun: number;
  oursVsDirect: number;
  twemproxyVsDirect: number;
  /** ours→nodes rps / ours→redis rps: what our nodes cost behind the same proxy. */
  nodesVsRedisBehindOurs: number;
  /** Median p99 through a proxy − median p99 of redis direct, in ms. */
  addedP99Ms: { ours: number; twemproxy: number };
  /**
   * Proxy CPU time per request in µs (median CPU % / median rps), or null if not measured: the
   * proxy's own efficiency, which rps alone hides when a proxy is not the bottleneck.
   */
  proxyCpuMicrosPerRequest: { ours: number | null; twemproxy: number | null; oursNodes: number | null };
  /** The issue's target for ours/twemproxy on this cell, or null where it sets none. */
  goal: { minRatio: number; met: boolean } | null;
}

export interface ProxyCellResult {
  test: string;
  pipeline: number;
  requests: number;
  paths: Record<ProxyPath, PathStats>;
  comparison: ProxyComparison;
}

/** Targets from the issue: ours ≥ 0.8× twemproxy at pipeline 1 and ≥ 1.0× at pipeline 16, for GET and SET. */
export function proxyGoal(test: string, pipeline: number): number | null {
  if (test !== 'GET' && test !== 'SET') return null;
  if (pipeline === 1) return 0.8;
  if (pipeline === 16) return 1.0;
  return null;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

function cpuMicrosPerRequest(s: SummaryStats): number | null {
  if (s.serverCpuPercent === null || s.rps === 0) return null;
  return ((s.serverCpuPercent / 100) / s.rps) * 1e6;
}

/** Ratios and added latency of one cell from each path's summary. Pure. */
export function compareProxyPaths(paths: Readonly<Record<ProxyPath, SummaryStats>>, test: string, pipeline: number): ProxyComparison {
  const { oursRedis, twemproxy, direct, oursNodes } = paths;
  const oursVsTwemproxy = ratio(oursRedis.rps, twemproxy.rps);
  const minRatio = proxyGoal(test, pipeline);
  return {
    oursVsTwemproxy,
    oursVsTwemproxyBestRun: ratio(oursRedis.bestRps, twemproxy.bestRps),
    oursVsDirect: ratio(oursRedis.rps, direct.rps),
    twemproxyVsDirect: ratio(twemproxy.rps, direct.rps),
    nodesVsRedisBehindOurs: ratio(oursNodes.rps, oursRedis.rps),
    addedP99Ms: { ours: oursRedis.p99Ms - direct.p99Ms, twemproxy: twemproxy.p99Ms - direct.p99Ms },
    proxyCpuMicrosPerRequest: {
      ours: cpuMicrosPerRequest(oursRedis), twemproxy: cpuMicrosPerRequest(twemproxy), oursNodes: cpuMicrosPerRequest(oursNodes),
    },
    goal: minRatio === null ? null : { minRatio, met: oursVsTwemproxy >= minRatio },
  };
}

/**
 * Measures every cell; runs go ours→redis, twemproxy, direct, ours→nodes in each round, and the
 * twemproxy warm-up sizes them. A failing cell is recorded and the others still run.
 */
export async function runProxyThroughput(
  targets: Readonly<Record<ProxyPath, RunningTarget>>,
  tests: readonly BenchTest[],
  settings: ThroughputSettings,
  log: (line: string) => void,
): Promise<{ results: ProxyCellResult[]; failures: CellFailure[] }> {
  const ordered = PROXY_PATHS.map((p) => targets[p]);
  const sizeBy = PROXY_PATHS.indexOf('twemproxy');
  const results: ProxyCellResult[] = [];
  const failures: CellFailure[] = [];
  for (const test of tests) {
    for (const pipeline of settings.pipelines) {
      try {
        const { requests, samples } = await sampleAlternating(ordered, sizeBy, test, pipeline, settings);
        const paths = Object.fromEntries(PROXY_PATHS.map((p, i) => [p, { ...summarize(samples[i]), samples: samples[i] }])) as Record<ProxyPath, PathStats>;
        const comparison = compareProxyPaths(paths, test.id, pipeline);
        results.push({ test: test.id, pipeline, requests, paths, comparison });
        log(`${test.id} -P ${pipeline} -n ${requests}: ${PROXY_PATHS.map((p) => `${p} ${Math.round(paths[p].rps)}`).join(', ')} rps; ` +
          `ours/twemproxy ${comparison.oursVsTwemproxy.toFixed(2)}`);
      } catch (err) {
        failures.push({ test: test.id, pipeline, message: (err as Error).message });
        log(`${test.id} -P ${pipeline} FAILED: ${(err as Error).message}`);
      }
    }
  }
  return { results, failures };
}
