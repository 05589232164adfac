import { readFileSync } from 'node:fs';
import { afterAll, describe, it, expect } from 'vitest';
import { sendLineCommand } from '../../../bench/net-util.js';
import { stopAll } from '../../../bench/processes.js';
import { PROXY_PATHS, startProxyScenario } from '../../../bench/proxy-scenario.js';
import { runProxyThroughput } from '../../../bench/proxy-throughput.js';
import { BENCH_TESTS } from '../../../bench/redis-benchmark.js';

afterAll(async () => {
  await stopAll();
});

/** The state letter of /proc/<pid>/stat (R, S, T = stopped …). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

const tiny = { pipelines: [4], repeats: 1, clients: 5, randomKeys: 1000, fixedRequests: 2000, targetRunSeconds: 0.1 };

describe('bench proxy scenario (real redis-servers, nodes, our proxies, nutcracker)', () => {
  it('measures MSET through all four paths, spreads keys over both redis-servers, and stops every process', async () => {
    const scenario = await startProxyScenario({});
    const ports = [...PROXY_PATHS.map((p) => scenario.targets[p].port), ...scenario.redisPorts];
    try {
      const mset = BENCH_TESTS.filter((t) => t.tName === 'mset');
      const { results, failures } = await runProxyThroughput(scenario.targets, mset, { tests: mset, ...tiny }, () => {});
      expect(failures).toEqual([]);
      expect(results).toHaveLength(1);
      for (const path of PROXY_PATHS) {
        expect(results[0].paths[path].rps).toBeGreaterThan(0);
        expect(results[0].paths[path].samples).toHaveLength(1);
      }
      // Both proxies split MSET across the two backends: each holds a share of the keys.
      for (const port of scenario.redisPorts) expect(Number(await sendLineCommand(port, ['DBSIZE']))).toBeGreaterThan(0);
      expect(results[0].paths.oursRedis.backendCpuPercent).not.toBeNull();
      expect(results[0].paths.direct.backendCpuPercent).toBeNull();
      // Idle proxies are frozen during other paths' runs; none may be left frozen afterwards.
      for (const path of PROXY_PATHS) {
        for (const pid of scenario.targets[path].pids) expect(processState(pid)).not.toBe('T');
      }
    } finally {
      await scenario.stop();
    }
    for (const port of ports) await expect(sendLineCommand(port, ['PING'], 500)).rejects.toThrow();
  }, 120_000);
});
