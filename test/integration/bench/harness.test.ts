import { afterAll, describe, it, expect } from 'vitest';
import { loadStringKeys, measureMemory } from '../../../bench/memory.js';
import { freePort, sendLineCommand, waitForPong } from '../../../bench/net-util.js';
import { spawnManaged, stopAll } from '../../../bench/processes.js';
import { BENCH_TESTS, runRedisBenchmark } from '../../../bench/redis-benchmark.js';
import { redisServerTarget } from '../../../bench/targets.js';

afterAll(async () => {
  await stopAll();
});

describe('bench harness against a real redis-server', () => {
  it('loads keys, confirms them with DBSIZE, and measures a positive RSS growth; the server is stopped after', async () => {
    const result = await measureMemory(redisServerTarget, 20_000, {});
    expect(result.dbsize).toBe(20_000);
    expect(result.rssAfterBytes).toBeGreaterThan(result.rssBeforeBytes);
    expect(result.bytesPerKey).toBeGreaterThan(0);
  });

  it('runs redis-benchmark and parses a sample; stop() really ends the server', async () => {
    const running = await redisServerTarget.start({});
    try {
      const mset = BENCH_TESTS.find((t) => t.tName === 'mset')!;
      const sample = await runRedisBenchmark({ port: running.port, test: mset, pipeline: 4, clients: 5, requests: 2000, randomKeys: 1000 });
      expect(sample.rps).toBeGreaterThan(0);
      expect(sample.p99Ms).toBeGreaterThanOrEqual(sample.p50Ms);
      await loadStringKeys(running.port, 1500);
      expect(Number(await sendLineCommand(running.port, ['EXISTS', 'key:1499']))).toBe(1);
    } finally {
      await running.stop();
    }
    await expect(sendLineCommand(running.port, ['PING'], 500)).rejects.toThrow();
  });

  it('fails a run whose commands get error replies instead of reporting them as throughput', async () => {
    const port = await freePort();
    // SET renamed away: every SET gets "ERR unknown command", as an unsupported command would on our node.
    const server = spawnManaged('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--rename-command', 'SET', '']);
    try {
      await waitForPong(port, 10_000, () => server.hasExited());
      const set = BENCH_TESTS.find((t) => t.id === 'SET')!;
      await expect(runRedisBenchmark({ port, test: set, pipeline: 1, clients: 2, requests: 200, randomKeys: 10 })).rejects.toThrow(/Error from server: ERR unknown command/);
    } finally {
      await server.stop();
    }
  });
});
