import { describe, it, expect } from 'vitest';
import { requestsForDuration } from '../../../bench/throughput.js';

describe('requestsForDuration', () => {
  it('sizes a run to the wanted seconds, rounded to a thousand', () => {
    expect(requestsForDuration(123_456, 1.5)).toBe(185_000);
  });

  it('clamps very slow and very fast targets', () => {
    expect(requestsForDuration(100, 1)).toBe(10_000);
    expect(requestsForDuration(1e9, 60)).toBe(20_000_000);
  });
});
