import { describe, expect, it } from 'vitest';
import { profilePid, profileTop, type CpuProfile } from '../../../bench/profile-top.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

// Samples last until the next one: node 2 (idle) 10 µs, 3 (gc) 20, 4 (handle) 30 + 10, 5 (handle, other node) 30.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('handle', 'file:///work/main/dist/proxy/session.js', 41) },
    { id: 5, callFrame: frame('handle', 'file:///work/main/dist/proxy/session.js', 41) },
    { id: 6, callFrame: frame('', 'file:///x/node_modules/pino/lib.js', 9) },
  ],
  startTime: 0,
  endTime: 110,
  samples: [2, 3, 4, 5, 4, 6],
  timeDeltas: [0, 10, 20, 30, 30, 10],
};

describe('profileTop', () => {
  it('charges each sample the time to the next one, merges a function’s nodes, and reports GC’s share of busy time', () => {
    const top = profileTop(profile, 25);
    expect(top.totalMs).toBeCloseTo(0.11);
    expect(top.idleMs).toBeCloseTo(0.01);
    expect(top.busyMs).toBeCloseTo(0.1);
    expect(top.gcMs).toBeCloseTo(0.02);
    expect(top.gcShare).toBeCloseTo(0.2);
    expect(top.rows.map((r) => [r.functionName, r.location, Math.round(r.selfMs * 1000)])).toEqual([
      ['handle', 'dist/proxy/session.js:42', 70],
      ['(garbage collector)', '', 20],
      ['(anonymous)', 'node_modules/pino/lib.js:10', 10],
    ]);
    expect(profileTop(profile, 1).rows).toHaveLength(1);
  });

  it('leaves out a gap (a frozen process) instead of charging it to the sample before it', () => {
    const frozen = { ...profile, samples: [...profile.samples, 4, 4], timeDeltas: [...profile.timeDeltas, 10, 50_000], endTime: 50_130 };
    const top = profileTop(frozen, 25);
    // Median delta 20 µs → a sample lasts at most 200 µs: the 50 ms gap after the 7th sample ('handle') is cut to 200 µs.
    expect(top.gapMs).toBeCloseTo(49.8);
    expect(top.rows[0]).toMatchObject({ functionName: 'handle' });
    expect(top.rows[0].selfMs).toBeCloseTo(0.07 + 0.2 + 0.02);
  });

  it('reads the pid from Node’s profile file name', () => {
    expect(profilePid('/tmp/p/CPU.20261202.042201.12345.0.001.cpuprofile')).toBe(12345);
    expect(profilePid('other.cpuprofile')).toBeNull();
  });
});
