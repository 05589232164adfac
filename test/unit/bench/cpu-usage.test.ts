import { describe, it, expect } from 'vitest';
import { cpuSeconds, parseStatCpuTicks } from '../../../bench/cpu-usage.js';

describe('parseStatCpuTicks', () => {
  it('adds utime and stime, even when the command name holds spaces and parentheses', () => {
    const stat = '4843 (redis (x) srv) S 4831 4831 3136 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 5 0 70432 3133440 357';
    expect(parseStatCpuTicks(stat)).toBe(325);
  });
});

describe('cpuSeconds', () => {
  it('grows while this process burns CPU', async () => {
    const before = await cpuSeconds([process.pid]);
    const until = Date.now() + 120;
    while (Date.now() < until) Math.sqrt(Math.random());
    expect(await cpuSeconds([process.pid])).toBeGreaterThan(before);
  });
});
