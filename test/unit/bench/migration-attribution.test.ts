import { describe, expect, it } from 'vitest';
import { attribute } from '../../../bench/migration-attribution.js';

describe('attribute without a sampler (the default migration run)', () => {
  it('counts the slow requests and the mover locks, blames no process', () => {
    const requests = [
      { startedAt: 0, ms: 1, slot: 1 },
      { startedAt: 10, ms: 40, slot: 2 },
      { startedAt: 60, ms: 2, slot: 3 },
      { startedAt: 70, ms: 25, slot: 4 },
    ];
    const locks = { batches: 4, keyMs: 500, p50Ms: 3, p99Ms: 9, maxMs: 12 };
    const a = attribute(null, requests, 20, () => [], 0, locks, 100, 1000);
    expect(a.sampled).toBe(false);
    expect(a).toMatchObject({ thresholdMs: 20, requests: 4, over: 2, causes: [], processes: [] });
    expect(a.locks).toEqual({ ...locks, lockedShare: 500 / (100 * 1000) });
    expect(a.slowest.map((s) => [s.ms, s.slot, s.cause])).toEqual([[40, 2, 'not sampled (run with --attribute)'], [25, 4, 'not sampled (run with --attribute)']]);
  });
});
