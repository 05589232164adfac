import { describe, it, expect } from 'vitest';
import { parseVmRssBytes, rssBytes } from '../../../bench/memory.js';

describe('parseVmRssBytes', () => {
  it('converts the kB figure to bytes', () => {
    expect(parseVmRssBytes('Name:\tredis-server\nVmHWM:\t   20000 kB\nVmRSS:\t   12180 kB\nRssAnon:\t 1 kB\n')).toBe(12180 * 1024);
  });

  it('fails when VmRSS is missing (kernel thread or exited process)', () => {
    expect(() => parseVmRssBytes('Name:\tkthreadd\n')).toThrow(/VmRSS/);
  });

  it('reads this process’s own RSS from /proc', async () => {
    const bytes = await rssBytes([process.pid]);
    expect(bytes).toBeGreaterThan(1024 * 1024);
  });
});
