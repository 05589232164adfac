// The pure parts of `tessera proxy --workers N`: the workers setting, and the primary's sums of
// its workers' stats (counters add, latency histograms merge, backend links join per address).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendHealth } from '../../../proxy/backend/pool.js';
import { MAX_WORKERS, loadProxyConfig, parseWorkers } from '../../../proxy/config.js';
import { ProxyStats } from '../../../proxy/stats.js';
import { joinBackends, joinHealth } from '../../../proxy/workers-admin.js';
import { StatsSum, exportStats, totalsOf } from '../../../proxy/workers-stats.js';

describe('the workers setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-workers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const toml = (text: string) => {
    const f = join(dir, `${Math.random()}.toml`);
    writeFileSync(f, text);
    return f;
  };

  it('defaults to 1 and takes a number, a numeric flag or auto (the cores)', () => {
    expect(loadProxyConfig(undefined, {}).workers).toBe(1);
    expect(loadProxyConfig(toml('workers = 3\n'), {}).workers).toBe(3);
    expect(loadProxyConfig(toml('workers = "auto"\n'), {}).workers).toBe(Math.min(MAX_WORKERS, availableParallelism()));
    // commander hands flags over as strings; the flag wins over the file.
    expect(loadProxyConfig(toml('workers = 3\n'), { workers: '4' as unknown as number }).workers).toBe(4);
    expect(parseWorkers('auto')).toBe(Math.min(MAX_WORKERS, availableParallelism()));
  });

  it('refuses anything else with an error naming the setting (and the file)', () => {
    for (const bad of [0, -1, 1.5, MAX_WORKERS + 1, '', 'two', '3x', true]) {
      expect(() => parseWorkers(bad), String(bad)).toThrow(/^workers must be a positive integer up to 256 or auto/);
    }
    const f = toml('workers = 0\n');
    expect(() => loadProxyConfig(f, {})).toThrow(`${f}: workers must be`);
    expect(() => loadProxyConfig(undefined, { workers: 'many' as unknown as number })).toThrow(/workers must be .*"many"/);
  });
});

describe("the primary's sum of its workers' stats", () => {
  /** A worker's stats: `n` GETs of `ms` each (every one timed), `errors` of them errors. */
  function worker(n: number, ms: number, errors = 0): ProxyStats {
    const s = new ProxyStats();
    s.stop();
    const get = s.entry('get');
    for (let i = 0; i < n; i++) s.record(get, ms, i < errors);
    s.totalConnections = 2;
    return s;
  }

  it('adds counters and merges latencies so percentiles cover every worker', () => {
    const fast = worker(90, 0.1);
    const slow = worker(10, 20, 1);
    const sum = new StatsSum();
    sum.addExport(exportStats(fast, 3));
    sum.addExport(exportStats(slow, 1));
    expect(sum.totals).toMatchObject({ totalCommands: 100, totalErrors: 1, totalConnections: 4, sessions: 4 });
    const get = sum.commandFigures().get!;
    expect(get).toMatchObject({ calls: 100, errors: 1 });
    // p50 from the fast worker, p99 and max from the slow one: the histograms merged, not averaged.
    expect(get.p50_us).toBeLessThan(150);
    expect(get.p99_us).toBeGreaterThanOrEqual(19_000);
    expect(get.max_us).toBeGreaterThanOrEqual(19_000);
    expect(get.recent).toMatchObject({ calls: 100, errors: 1 });
    expect(get.recent.p99_us).toBeGreaterThanOrEqual(19_000);
    const recent = sum.recent.figures();
    expect(recent).toMatchObject({ calls: 100, errors: 1, samples: slow.recentSummary().samples + fast.recentSummary().samples });
    expect(recent.p50_us).toBeLessThan(150);
  });

  it("counts a dead worker's last counters (no latencies, no clients)", () => {
    const sum = new StatsSum();
    sum.addExport(exportStats(worker(5, 1), 1));
    sum.addRetired(totalsOf(worker(7, 1), 9));
    expect(sum.totals).toMatchObject({ totalCommands: 12, sessions: 1 });
    expect(sum.commandFigures().get!.calls).toBe(12);
    const silent = new StatsSum();
    silent.addRetired(totalsOf(worker(7, 1), 9), true); // live but did not answer: its clients count
    expect(silent.totals.sessions).toBe(9);
  });

  it('joins backend links per address: down only when down from every worker', () => {
    const link = (addr: string, state: BackendHealth['state'], lastErrorAt: string | null = null): BackendHealth => ({
      addr, state, links: 2, connected: state === 'down' ? 0 : 2, inFlight: 1, blockingLinks: 0, blockingWaiting: 0, timeouts: 0,
      lastError: lastErrorAt ? `failed at ${lastErrorAt}` : '', lastErrorAt,
    });
    const joined = joinHealth([
      [link('a', 'up'), link('b', 'down', '2026-01-01T00:00:01.000Z'), link('c', 'down', '2026-01-01T00:00:05.000Z')],
      [link('a', 'up'), link('b', 'down', '2026-01-01T00:00:03.000Z'), link('c', 'up')],
    ]);
    const by = new Map(joined.map((h) => [h.addr, h]));
    expect(by.get('a')).toMatchObject({ state: 'up', links: 4, connected: 4, inFlight: 2 });
    expect(by.get('b')).toMatchObject({ state: 'down', connected: 0, lastErrorAt: '2026-01-01T00:00:03.000Z' });
    expect(by.get('c')).toMatchObject({ state: 'degraded', connected: 2, lastError: 'failed at 2026-01-01T00:00:05.000Z' });
    expect(joinBackends([[{ addr: 'a', connected: 2, inFlight: 1 }], [{ addr: 'a', connected: 1, inFlight: 3 }, { addr: 'b', connected: 2, inFlight: 0 }]]))
      .toEqual([{ addr: 'a', connected: 3, inFlight: 4 }, { addr: 'b', connected: 2, inFlight: 0 }]);
  });
});
