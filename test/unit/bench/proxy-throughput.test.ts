import { describe, it, expect } from 'vitest';
import { compareProxyPaths, GET_MISS, proxyCells, proxyGoal } from '../../../bench/proxy-throughput.js';
import { BENCH_TESTS } from '../../../bench/redis-benchmark.js';
import type { SummaryStats } from '../../../bench/stats.js';

const stats = (rps: number, bestRps: number, p99Ms: number): SummaryStats =>
  ({ rps, bestRps, p50Ms: p99Ms / 2, p99Ms, serverCpuPercent: null, backendCpuPercent: null, serverCpuMicrosPerRequest: null, gc: null, rpsSpread: 0 });

describe('proxyGoal', () => {
  it('sets the issue’s targets: GET/SET/GET-miss 1.0 at pipeline 1, GET/SET 1.3 at 16, MSET 1.0 at both', () => {
    expect(proxyGoal('GET', 1)).toBe(1.0);
    expect(proxyGoal('GET-miss', 1)).toBe(1.0);
    expect(proxyGoal('SET', 16)).toBe(1.3);
    expect(proxyGoal('GET-miss', 16)).toBeNull();
    expect(proxyGoal('SET', 4)).toBeNull();
    expect(proxyGoal('MSET (10 keys)', 1)).toBe(1.0);
    expect(proxyGoal('MSET (10 keys)', 16)).toBe(1.0);
  });
});

describe('proxyCells', () => {
  const [set, get] = ['SET', 'GET'].map((id) => BENCH_TESTS.find((t) => t.id === id)!);
  it('runs GET-miss first on the empty keyspace, then the rest filled, then the many-clients check at pipeline 1', () => {
    const cells = proxyCells([set, GET_MISS, get], [1, 16], 50, 500);
    expect(cells.map((c) => `${c.test.id}/${c.pipeline}/${c.clients}/${c.keyspace}`)).toEqual([
      'GET-miss/1/50/empty', 'GET-miss/16/50/empty',
      'SET/1/50/filled', 'SET/16/50/filled', 'GET/1/50/filled', 'GET/16/50/filled',
      'SET/1/500/filled', 'GET/1/500/filled',
    ]);
    expect(proxyCells([get], [16], 50, 0).map((c) => c.clients)).toEqual([50]);
  });
});

describe('compareProxyPaths', () => {
  const paths = {
    oursRedis: stats(80_000, 90_000, 1.5),
    twemproxy: stats(100_000, 100_000, 1.2),
    direct: stats(160_000, 170_000, 0.5),
    oursNodes: stats(40_000, 45_000, 3.0),
  };

  it('computes ratios of medians, the best-run ratio and p99 added over redis direct', () => {
    const c = compareProxyPaths(paths, 'GET', 1);
    expect(c.oursVsTwemproxy).toBeCloseTo(0.8);
    expect(c.oursVsTwemproxyBestRun).toBeCloseTo(0.9);
    expect(c.oursVsDirect).toBeCloseTo(0.5);
    expect(c.twemproxyVsDirect).toBeCloseTo(0.625);
    expect(c.nodesVsRedisBehindOurs).toBeCloseTo(0.5);
    expect(c.addedP99Ms.ours).toBeCloseTo(1.0);
    expect(c.addedP99Ms.twemproxy).toBeCloseTo(0.7);
    expect(c.addedP50Ms.ours).toBeCloseTo(0.5);
    expect(c.addedP50Ms.twemproxy).toBeCloseTo(0.35);
    expect(c.goal).toEqual({ minRatio: 1.0, met: false });
    expect(compareProxyPaths(paths, 'GET', 1, false).goal).toBeNull();
  });

  it('takes proxy CPU µs per request from each path’s median per-run value, null where CPU was not measured', () => {
    const c = compareProxyPaths({ ...paths, oursRedis: { ...paths.oursRedis, serverCpuMicrosPerRequest: 12 }, twemproxy: { ...paths.twemproxy, serverCpuMicrosPerRequest: 2.5 } }, 'GET', 16);
    expect(c.proxyCpuMicrosPerRequest.ours).toBe(12);
    expect(c.proxyCpuMicrosPerRequest.twemproxy).toBe(2.5);
    expect(c.proxyCpuMicrosPerRequest.oursNodes).toBeNull();
  });

  it('marks a missed goal, and has none for cells the issue sets no target for', () => {
    expect(compareProxyPaths(paths, 'SET', 16).goal).toEqual({ minRatio: 1.3, met: false });
    expect(compareProxyPaths(paths, 'GET-miss', 16).goal).toBeNull();
  });

  it('reports 0 instead of Infinity when a path measured nothing', () => {
    const c = compareProxyPaths({ ...paths, twemproxy: stats(0, 0, 0) }, 'GET', 1);
    expect(c.oursVsTwemproxy).toBe(0);
    expect(c.oursVsTwemproxyBestRun).toBe(0);
  });
});
