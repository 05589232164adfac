// The node scenario's new measurements at a tiny size, with real processes: our node GC-traced and
// CPU-profiled beside a redis-server, CPU µs per request for both, our node's heap bytes per request
// and pauses, the sorted-set build, the targets table, and the profile summary. Structure and
// sanity only (numbers present, finite, positive), never speed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeTargetChecks } from '../../../bench/node-targets.js';
import { stopAll } from '../../../bench/processes.js';
import { profilePid, profileTop, readProfile, renderProfileTops } from '../../../bench/profile-top.js';
import { BENCH_TESTS } from '../../../bench/redis-benchmark.js';
import { renderConsole, renderMarkdown, type BenchReport } from '../../../bench/report.js';
import { redisServerTarget, tesseraNodeTarget, type RunningTarget } from '../../../bench/targets.js';
import { runThroughput } from '../../../bench/throughput.js';
import { measureZaddBuild } from '../../../bench/zadd-build.js';

const profileDir = mkdtempSync(join(tmpdir(), 'bench-node-prof-'));
afterAll(async () => {
  await stopAll();
  rmSync(profileDir, { recursive: true, force: true });
});

const positiveFinite = (n: number | null | undefined): void => {
  expect(Number.isFinite(n)).toBe(true);
  expect(n!).toBeGreaterThan(0);
};

describe('bench node scenario (our node GC-traced and profiled, redis-server)', () => {
  it('GET/ZADD at pipeline 16: CPU µs/request both sides, our heap bytes/request; sorted-set build; targets; a profile summary', async () => {
    const started: RunningTarget[] = [];
    let oursPid = 0;
    let report: BenchReport;
    try {
      const ours = await tesseraNodeTarget.start({ gcTrace: true, cpuProfileDir: profileDir });
      started.push(ours);
      oursPid = ours.pids[0];
      const redis = await redisServerTarget.start({});
      started.push(redis);
      const tests = BENCH_TESTS.filter((t) => t.id === 'GET' || t.id === 'ZADD');
      const settings = { tests, pipelines: [16], repeats: 1, clients: 5, randomKeys: 1000, fixedRequests: 40_000, targetRunSeconds: 0.1 };
      // 40,000 requests: enough CPU time for /proc/<pid>/stat's 10 ms ticks to see redis-server's share.
      const { results, failures } = await runThroughput(ours, redis, settings, () => {});
      expect(failures).toEqual([]);
      expect(results.map((r) => r.test)).toEqual(['GET', 'ZADD']);
      for (const r of results) {
        positiveFinite(r.candidate.serverCpuMicrosPerRequest);
        positiveFinite(r.baseline.serverCpuMicrosPerRequest);
        expect(r.candidate.gc!.requests).toBe(40_000);
        positiveFinite(r.candidate.gc!.allocatedBytesPerRequest);
        expect(r.baseline.gc).toBeNull();
      }
      const zaddBuild = await measureZaddBuild([{ name: 'tessera-node', running: ours }, { name: 'redis-server', running: redis }], 3000, 1);
      expect(zaddBuild.map((b) => [b.target, b.members, b.runs.length])).toEqual([['tessera-node', 3000, 1], ['redis-server', 3000, 1]]);
      for (const b of zaddBuild) {
        positiveFinite(b.microsPerInsert);
        expect(b.cpuMicrosPerInsert).toBeGreaterThanOrEqual(0); // 10 ms CPU ticks: a tiny build may read 0
      }
      const targets = nodeTargetChecks({ tests: results, zaddBuild, memory: [] }, 'tessera-node', 'redis-server');
      expect(targets.map((t) => [t.name, t.pass === null ? 'n/a' : 'judged'])).toEqual([
        ['GET -P 16: rps vs redis-server', 'judged'], ['SET -P 16: rps vs redis-server', 'n/a'], ['ZADD -P 16: rps vs redis-server', 'judged'],
        ['ZADD 100,000 members: time per insert vs redis-server', 'n/a'], ['1,000,000 small string keys: RSS vs redis-server', 'n/a'],
      ]);
      report = {
        startedAt: 'now', scenario: 'node-vs-redis', labels: { candidate: 'ours', baseline: 'redis' },
        candidate: { name: 'tessera-node', description: 'ours' }, baseline: { name: 'redis-server', description: 'redis' },
        environment: { cpus: 2, cpuModel: 'test', node: process.version, redisServer: 'r', pinning: 'unpinned' },
        settings: { clients: 5, randomKeys: 1000, repeats: 1, targetRunSeconds: null, fixedRequests: 40_000 },
        tests: results, failures, memory: [], zaddBuild, targets,
      };
    } finally {
      for (const t of started) await t.stop();
    }
    const text = renderConsole(report);
    expect(text).toContain('ours heap B/request');
    expect(text).toContain('sorted-set build');
    expect(renderMarkdown(report)).toMatch(/\| GET \| 16 \| \d+ \| \d+ \| \d+\+\d+ \|/);
    // SIGTERM let our node exit cleanly, so Node wrote its profile; the summary names it.
    const files = readdirSync(profileDir).filter((f) => profilePid(f) === oursPid);
    expect(files).toHaveLength(1);
    const top = profileTop(await readProfile(join(profileDir, files[0])), 25);
    positiveFinite(top.busyMs);
    expect(top.rows.length).toBeGreaterThan(0);
    expect(top.rows.length).toBeLessThanOrEqual(25);
    expect(top.gcShare).toBeGreaterThanOrEqual(0);
    expect(top.gcShare).toBeLessThanOrEqual(1);
    expect(await renderProfileTops(profileDir, new Map([[oursPid, 'tessera-node']]))).toContain(`tessera-node (${files[0]})`);
  }, 120_000);
});
