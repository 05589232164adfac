import { describe, it, expect } from 'vitest';
import { compareProxyPaths, proxyGoal } from '../../../bench/proxy-throughput.js';
import type { SummaryStats } from '../../../bench/stats.js';

const stats = (rps: number, bestRps: number, p99Ms: number): SummaryStats =>
  ({ rps, bestRps, p50Ms: p99Ms / 2, p99Ms, serverCpuPercent: null, backendCpuPercent: null, rpsSpread: 0 });

describe('proxyGoal', () => {
  it('sets the issue’s targets for GET and SET only: 0.8 at pipeline 1, 1.0 at pipeline 16', () => {
    expect(proxyGoal('GET', 1)).toBe(0.8);
    expect(proxyGoal('SET', 16)).toBe(1.0);
    expect(proxyGoal('SET', 4)).toBeNull();
    expect(proxyGoal('MSET (10 keys)', 16)).toBeNull();
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
    expect(c.goal).toEqual({ minRatio: 0.8, met: true });
  });

  it('derives proxy CPU µs per request from median CPU % and rps, null where CPU was not measured', () => {
    const c = compareProxyPaths({ ...paths, oursRedis: { ...paths.oursRedis, serverCpuPercent: 96 }, twemproxy: { ...paths.twemproxy, serverCpuPercent: 25 } }, 'GET', 16);
    expect(c.proxyCpuMicrosPerRequest.ours).toBeCloseTo(12); // 0.96 s / 80,000 requests
    expect(c.proxyCpuMicrosPerRequest.twemproxy).toBeCloseTo(2.5);
    expect(c.proxyCpuMicrosPerRequest.oursNodes).toBeNull();
  });

  it('marks a missed goal, and has none for cells the issue sets no target for', () => {
    expect(compareProxyPaths(paths, 'SET', 16).goal).toEqual({ minRatio: 1.0, met: false });
    expect(compareProxyPaths(paths, 'MSET (10 keys)', 16).goal).toBeNull();
  });

  it('reports 0 instead of Infinity when a path measured nothing', () => {
    const c = compareProxyPaths({ ...paths, twemproxy: stats(0, 0, 0) }, 'GET', 1);
    expect(c.oursVsTwemproxy).toBe(0);
    expect(c.oursVsTwemproxyBestRun).toBe(0);
  });
});
