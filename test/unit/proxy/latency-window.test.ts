// The rolling latency window (common/latency-histogram.ts) and the proxy's use of it
// (proxy/stats.ts): bucket layout as HdrHistogram's, percentiles, ageing out after one window,
// QPS over the covered time, and recent figures next to the since-start ones.
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyWindow, LogHistogram } from '../../../common/latency-histogram.js';
import { ProxyStats, RECENT_SLOTS } from '../../../proxy/stats.js';
import { buildAdminApp } from '../../../proxy/admin.js';
import { PROXY_DEFAULTS } from '../../../proxy/config.js';
import type { Proxy } from '../../../proxy/proxy.js';

describe('LogHistogram', () => {
  it('reports a value as the top of its bucket, like Redis hdr (2 significant digits)', () => {
    const h = new LogHistogram(8, 1_000_000_000);
    h.record(4000); // ns: Redis prints 4.015 µs for a 4 µs call
    expect(h.valueAtPercentile(50)).toBe(4015);
    h.reset();
    h.record(7000);
    expect(h.valueAtPercentile(99)).toBe(7007);
    h.record(200); // exact below 256
    expect(h.valueAtPercentile(0)).toBe(200);
  });

  it('keeps every value within its precision and monotone across bucket edges', () => {
    const h = new LogHistogram(8, 1_000_000_000);
    let prev = -1;
    for (let v = 1; v < 1_000_000_000; v = Math.ceil(v * 1.37)) {
      const i = h.indexOf(v);
      expect(i).toBeGreaterThanOrEqual(prev);
      prev = i;
      expect(h.lowestAt(i)).toBeLessThanOrEqual(v);
      expect(h.highestAt(i)).toBeGreaterThanOrEqual(v);
      expect(h.highestAt(i) - v).toBeLessThanOrEqual(v / 128);
    }
    expect(h.indexOf(1_000_000_000)).toBe(h.counts.length - 1);
  });

  it("walks power-of-two levels as hdr's log iterator does for Redis's LATENCY HISTOGRAM", () => {
    const h = new LogHistogram(8, 1_000_000_000);
    const levels = () => {
      const out: Array<[number, number]> = [];
      h.forEachLogLevel(1024, (highest, cumulative) => out.push([highest, cumulative]));
      return out;
    };
    expect(levels()).toEqual([]); // empty: nothing visited
    for (const ns of [1000, 1031, 1032, 2063, 2064, 5000]) h.record(ns);
    // Each level's bucket ends at 1031, 2063, 4127, 8255 ns (µs 1, 2, 4, 8 as Redis prints them);
    // counts are cumulative up to that end; the walk stops at the level that reaches every value.
    expect(levels()).toEqual([[1031, 2], [2063, 4], [4127, 5], [8255, 6]]);
    h.reset();
    h.record(600_000_000); // past the last level inside the array (2^29 ns): never visited
    h.record(10);
    expect(levels().map(([top]) => Math.floor(top / 1000)).slice(0, 6)).toEqual([1, 2, 4, 8, 16, 33]);
    expect(levels().at(-1)).toEqual([h.highestAt(h.indexOf(2 ** 29)), 1]);
  });

  it('computes percentiles by rank and clamps values to its range', () => {
    const h = new LogHistogram(5, 60_000_000);
    for (let v = 1; v <= 100; v++) h.record(v * 10);
    expect(h.total).toBe(100);
    const p50 = h.valueAtPercentile(50);
    expect(p50).toBeGreaterThanOrEqual(500);
    expect(p50).toBeLessThanOrEqual(500 * 1.07);
    expect(h.valueAtPercentile(99)).toBeGreaterThanOrEqual(990);
    expect(h.valueAtPercentile(100)).toBeGreaterThanOrEqual(1000);
    h.record(1e12);
    expect(h.max).toBe(60_000_000);
    expect(new LogHistogram(5, 100).valueAtPercentile(99)).toBe(0);
  });
});

describe('LatencyWindow', () => {
  it('forgets a slow spell once it is older than the window', () => {
    const t0 = 1_000_000;
    const w = new LatencyWindow(10, 1000, 5, 60_000_000, t0);
    for (let i = 0; i < 100; i++) {
      w.count(false);
      w.record(50_000); // a slow spell: 50 ms
    }
    let now = t0;
    for (let s = 1; s <= 9; s++) {
      w.rotate((now = t0 + s * 1000));
      for (let i = 0; i < 100; i++) {
        w.count(false);
        w.record(100);
      }
    }
    // 1000 samples, 100 of them slow: p99 is the spell's.
    let sum = w.summary(now + 500);
    expect(sum.samples).toBe(1000);
    expect(sum.p99).toBeGreaterThanOrEqual(50_000);
    expect(sum.max).toBe(50_000);
    expect(sum.seconds).toBeCloseTo(9.5, 5);
    expect(sum.qps).toBeCloseTo(1000 / 9.5, 5);
    // One more rotation drops the spell's slot.
    w.rotate((now = t0 + 10_000));
    for (let i = 0; i < 100; i++) {
      w.count(i % 10 === 0);
      w.record(100);
    }
    sum = w.summary(now + 1000);
    expect(sum.samples).toBe(1000);
    expect(sum.p99).toBeLessThan(110);
    expect(sum.max).toBe(100);
    expect(sum.errors).toBe(10);
    expect(sum.seconds).toBe(10);
  });

  it('covers only the time it has run, and reset empties it', () => {
    const w = new LatencyWindow(10, 1000, 5, 60_000_000, 0);
    for (let i = 0; i < 50; i++) w.count(false);
    expect(w.summary(500)).toMatchObject({ seconds: 0.5, calls: 50, qps: 100, samples: 0, p99: 0 });
    w.reset(600);
    expect(w.summary(700)).toMatchObject({ calls: 0, qps: 0 });
    expect(w.percentiles([50, 99])).toEqual([0, 0]);
  });
});

describe('ProxyStats recent figures', () => {
  let stats: ProxyStats | undefined;
  afterEach(() => stats?.stop());

  it('counts every request and times the sampled ones into the command and overall windows', () => {
    stats = new ProxyStats();
    const get = stats.entry('get');
    const set = stats.entry('set');
    for (let i = 0; i < 80; i++) stats.record(get, stats.shouldTime(get) ? 0.2 : -1, false); // 200 µs, 1 in 8 timed
    for (let i = 0; i < 8; i++) stats.record(set, 5, i === 0); // 5 ms
    const all = stats.recentSummary();
    expect(all.calls).toBe(88);
    expect(all.errors).toBe(1);
    expect(all.samples).toBe(18);
    expect(all.p50_us).toBeGreaterThanOrEqual(200);
    expect(all.p50_us).toBeLessThan(215);
    expect(all.p99_us).toBeGreaterThanOrEqual(5000);
    expect(all.max_us).toBe(5000);
    expect(all.windowSeconds).toBeLessThanOrEqual(RECENT_SLOTS);
    const snap = stats.snapshot();
    expect(snap.get!.recent).toMatchObject({ calls: 80, samples: 10 });
    expect(snap.get!.recent.p99_us).toBeLessThan(215);
    expect(snap.set!.recent).toMatchObject({ calls: 8, errors: 1, max_us: 5000 });
    // The since-start numbers stay beside them.
    expect(snap.get!.calls).toBe(80);
    expect(snap.set!.p99_us).toBeGreaterThanOrEqual(4950);
  });

  it('are served by the admin API: /stats recent (overall and per command) and /metrics gauges', async () => {
    stats = new ProxyStats();
    const get = stats.entry('get');
    for (let i = 0; i < 16; i++) stats.record(get, 0.3, false);
    const proxy = {
      config: { ...PROXY_DEFAULTS, id: 'p1', adminToken: 't' },
      topology: { revision: '1', routes: [], groups: new Map() },
      pool: { health: () => [], stats: () => [] },
      sessions: new Set(),
      stats,
    } as unknown as Proxy;
    const app = buildAdminApp(proxy);
    try {
      const headers = { authorization: 'Bearer t' };
      const body = (await app.inject({ method: 'GET', url: '/stats', headers })).json();
      expect(body.recent).toMatchObject({ calls: 16, samples: 16, errors: 0 });
      expect(body.recent.p99_us).toBeGreaterThanOrEqual(300);
      expect(body.commands.get.recent).toMatchObject({ calls: 16, samples: 16 });
      expect(body.commands.get.p99_us).toBeGreaterThanOrEqual(299); // since start, beside it
      const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers })).body;
      expect(metrics).toMatch(/tessera_proxy_recent_latency_microseconds\{quantile="0\.99"\} 3\d\d/);
      expect(metrics).toMatch(/tessera_proxy_recent_qps \d+/);
    } finally {
      await app.close();
    }
  });
});
