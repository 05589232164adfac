import { readFileSync } from 'node:fs';
import { afterAll, describe, it, expect } from 'vitest';
import { sendLineCommand } from '../../../bench/net-util.js';
import { stopAll } from '../../../bench/processes.js';
import { PROXY_PATHS, startProxyScenario } from '../../../bench/proxy-scenario.js';
import { renderProxyConsole, renderProxyMarkdown, type ProxyBenchReport } from '../../../bench/proxy-report.js';
import { proxyTargetChecks } from '../../../bench/proxy-targets.js';
import { proxyCells, runProxyThroughput, type Keyspace } from '../../../bench/proxy-throughput.js';
import { BENCH_TESTS, GET_MISS } from '../../../bench/redis-benchmark.js';

afterAll(async () => {
  await stopAll();
});

/** The state letter of /proc/<pid>/stat (R, S, T = stopped …). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

const tiny = { pipelines: [4], repeats: 1, clients: 5, randomKeys: 1000, fixedRequests: 2000, targetRunSeconds: 0.1 };

const positiveFinite = (n: number | null | undefined): void => {
  expect(Number.isFinite(n)).toBe(true);
  expect(n!).toBeGreaterThan(0);
};

describe('bench proxy scenario (real redis-servers, nodes, our proxies, nutcracker)', () => {
  it('GET-miss on emptied backends, GET and MSET on filled ones, a many-clients row; CPU, GC and targets reported; every process stopped', async () => {
    const scenario = await startProxyScenario({});
    const ports = [...PROXY_PATHS.map((p) => scenario.targets[p].port), ...scenario.redisPorts, ...scenario.nodePorts];
    try {
      const tests = [GET_MISS, ...BENCH_TESTS.filter((t) => t.tName === 'get' || t.tName === 'mset')];
      const cells = proxyCells(tests, tiny.pipelines, tiny.clients, 20);
      const prepared: Keyspace[] = [];
      const prepare = async (k: Keyspace): Promise<void> => {
        prepared.push(k);
        await scenario.prepareKeyspace(k, tiny.randomKeys);
      };
      const { results, failures } = await runProxyThroughput(scenario.targets, cells, { tests, ...tiny }, prepare, () => {});
      expect(failures).toEqual([]);
      expect(prepared).toEqual(['empty', 'filled']);
      expect(results.map((r) => `${r.test}/${r.clients}/${r.keyspace}`)).toEqual(['GET-miss/5/empty', 'GET/5/filled', 'MSET (10 keys)/5/filled', 'GET/20/filled']);
      for (const r of results) {
        for (const path of PROXY_PATHS) {
          positiveFinite(r.paths[path].rps);
          expect(r.paths[path].samples).toHaveLength(1);
          expect(r.paths[path].samples[0].requests).toBe(tiny.fixedRequests);
        }
        // CPU comes from /proc/<pid>/stat in 10 ms ticks: 2,000 tiny requests may take under a
        // tick, so one cell may read 0; over all cells each proxy must have used some.
        for (const us of [r.comparison.proxyCpuMicrosPerRequest.ours, r.comparison.proxyCpuMicrosPerRequest.twemproxy, r.comparison.proxyCpuMicrosPerRequest.oursNodes]) {
          expect(Number.isFinite(us)).toBe(true);
          expect(us!).toBeGreaterThanOrEqual(0);
        }
        expect(Number.isFinite(r.comparison.addedP50Ms.ours) && Number.isFinite(r.comparison.addedP99Ms.ours)).toBe(true);
        // Our proxies are GC-traced: the heap marks counted what they allocated; twemproxy is not.
        for (const path of ['oursRedis', 'oursNodes'] as const) {
          const gc = r.paths[path].gc!;
          expect(gc.requests).toBe(tiny.fixedRequests);
          positiveFinite(gc.allocatedBytesPerRequest);
          expect(gc.scavengeFreedBytesPerRequest).toBeGreaterThanOrEqual(0);
          expect(gc.pauseMaxMs).toBeLessThanOrEqual(gc.pauseTotalMs);
        }
        expect(r.paths.twemproxy.gc).toBeNull();
      }
      for (const who of ['ours', 'twemproxy', 'oursNodes'] as const) positiveFinite(results.reduce((sum, r) => sum + r.comparison.proxyCpuMicrosPerRequest[who]!, 0));
      // The filled keyspace: every key redis-benchmark can draw is on each backend.
      for (const port of [...scenario.redisPorts, ...scenario.nodePorts]) expect(Number(await sendLineCommand(port, ['DBSIZE']))).toBeGreaterThanOrEqual(tiny.randomKeys);
      expect(Number(await sendLineCommand(scenario.redisPorts[1], ['EXISTS', 'key:000000000999']))).toBe(1);
      expect(results[0].paths.oursRedis.backendCpuPercent).not.toBeNull();
      expect(results[0].paths.direct.backendCpuPercent).toBeNull();
      // Idle proxies are frozen during other paths' runs; none may be left frozen afterwards.
      for (const path of PROXY_PATHS) {
        for (const pid of scenario.targets[path].pids) expect(processState(pid)).not.toBe('T');
      }
      // Pipeline 4 has no rps/latency/CPU target: bytes per GET, the many-clients p99 and the GC pause are judged.
      const targets = proxyTargetChecks(results, tiny.clients);
      expect(targets.map((t) => t.name)).toEqual([
        'GET-miss -P 4: bytes allocated per request', 'GET -P 4: bytes allocated per request', 'GET -P 1 -c 20: added p99 vs direct', 'longest GC pause, all cells',
      ]);
      for (const t of targets) expect(typeof t.pass).toBe('boolean');
      const report: ProxyBenchReport = {
        startedAt: 'now', scenario: 'proxy',
        paths: Object.fromEntries(PROXY_PATHS.map((p) => [p, { label: p, description: p }])) as ProxyBenchReport['paths'],
        environment: { cpus: 2, cpuModel: 'test', node: process.version, redisServer: 'r', nutcracker: 'n', pinning: 'unpinned' },
        settings: { clients: tiny.clients, randomKeys: tiny.randomKeys, repeats: 1, targetRunSeconds: null, fixedRequests: tiny.fixedRequests, manyClients: 20 },
        tests: results, failures, targets,
      };
      const text = renderProxyConsole(report);
      console.log(text);
      expect(text).toContain('longest GC pause, all cells');
      expect(renderProxyMarkdown(report)).toMatch(/\| GET-miss \| 4 \| 5 \| \d+ \/ \d+ \|/);
    } finally {
      await scenario.stop();
    }
    for (const port of ports) await expect(sendLineCommand(port, ['PING'], 500)).rejects.toThrow();
  }, 180_000);
});
