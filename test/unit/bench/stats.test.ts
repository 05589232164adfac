import { describe, it, expect } from 'vitest';
import { median, summarize, summarizeGc } from '../../../bench/stats.js';

const sample = (rps: number, p50Ms: number, p99Ms: number) => ({ rps, avgMs: 0, minMs: 0, p50Ms, p95Ms: 0, p99Ms, maxMs: 0 });

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle pair of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow();
  });
});

describe('summarize', () => {
  it('takes each metric’s median independently and reports the rps spread', () => {
    const s = summarize([sample(100, 0.5, 9), sample(200, 0.1, 2), sample(150, 0.3, 1)]);
    expect(s).toEqual({ rps: 150, bestRps: 200, p50Ms: 0.3, p99Ms: 2, serverCpuPercent: null, backendCpuPercent: null, serverCpuMicrosPerRequest: null, gc: null, rpsSpread: 100 / 150 });
  });

  it('reports the median server CPU when every run measured it', () => {
    const runs = [{ ...sample(1, 1, 1), serverCpuPercent: 99 }, { ...sample(1, 1, 1), serverCpuPercent: 40 }, { ...sample(1, 1, 1), serverCpuPercent: 70 }];
    expect(summarize(runs).serverCpuPercent).toBe(70);
  });

  it('reports the median backend CPU of a proxy target, and null when a run lacks it', () => {
    const runs = [{ ...sample(1, 1, 1), backendCpuPercent: 30 }, { ...sample(1, 1, 1), backendCpuPercent: 50 }, { ...sample(1, 1, 1), backendCpuPercent: 10 }];
    expect(summarize(runs).backendCpuPercent).toBe(30);
    expect(summarize([...runs, sample(1, 1, 1)]).backendCpuPercent).toBeNull();
  });
});

describe('summarizeGc', () => {
  const gc = (young: number, pauseMaxMs: number, allocatedBytes: number) =>
    ({ young, old: 0, pauseTotalMs: pauseMaxMs * young, pauseMaxMs, scavengeFreedBytes: allocatedBytes / 2, allocatedBytes });

  it('adds the runs’ windows up and divides by every run’s requests; the longest pause is the longest of all', () => {
    const runs = [{ ...sample(1, 1, 1), requests: 1000, gc: gc(2, 0.5, 100_000) }, { ...sample(1, 1, 1), requests: 3000, gc: gc(1, 1.5, 300_000) }];
    expect(summarizeGc(runs)).toEqual({
      young: 3, old: 0, pauseTotalMs: 2.5, pauseMaxMs: 1.5, scavengeFreedBytes: 200_000, allocatedBytes: 400_000,
      requests: 4000, allocatedBytesPerRequest: 100, scavengeFreedBytesPerRequest: 50,
    });
    expect(summarize(runs).gc?.allocatedBytesPerRequest).toBe(100);
  });

  it('is null unless every run was traced', () => {
    expect(summarizeGc([{ ...sample(1, 1, 1), requests: 10, gc: gc(1, 1, 1) }, { ...sample(1, 1, 1), requests: 10 }])).toBeNull();
  });
});
