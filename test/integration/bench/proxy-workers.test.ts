// --proxy-workers: the bench starts our proxy with --workers 2 and measures it as one target: its
// pids are the primary and both workers (CPU and GC marks summed over them), and stopping it ends
// all three. Structure and sanity only, never speed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childPids } from '../../../bench/process-tree.js';
import { stopAll } from '../../../bench/processes.js';
import { BENCH_TESTS } from '../../../bench/redis-benchmark.js';
import { redisServerTarget, type RunningTarget } from '../../../bench/targets.js';
import { startTesseraProxy, writeSlotTable } from '../../../bench/tessera-proxy.js';
import { sampleAlternating } from '../../../bench/throughput.js';

const storeDir = mkdtempSync(join(tmpdir(), 'bench-workers-store-'));
afterAll(async () => {
  await stopAll();
  rmSync(storeDir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('bench: our proxy with --workers 2 as one measured target', () => {
  it('pids = primary + 2 workers; a run reports CPU and GC summed over them; stop ends every one', async () => {
    const started: RunningTarget[] = [];
    let pids: readonly number[] = [];
    try {
      const redis = await redisServerTarget.start({});
      started.push(redis);
      const store = pathToFileURL(storeDir).href;
      await writeSlotTable(store, 'bench-workers', [`127.0.0.1:${redis.port}`]);
      const proxy = await startTesseraProxy(store, 'bench-workers', { backendPids: redis.pids, gcTrace: true, workers: 2 });
      started.push(proxy);
      pids = proxy.pids;
      expect(pids).toHaveLength(3);
      expect(childPids(pids[0])).toEqual([...pids.slice(1)].sort((a, b) => a - b));
      expect(proxy.gc!.probed(pids)).toEqual(pids); // every worker loaded the heap probe (Node's flags are inherited)
      const get = BENCH_TESTS.find((t) => t.id === 'GET')!;
      const settings = { tests: [get], pipelines: [4], repeats: 1, clients: 10, randomKeys: 1000, fixedRequests: 20_000, targetRunSeconds: 0.1 };
      const { samples: [[run]] } = await sampleAlternating([proxy], 0, get, 4, settings);
      expect(run.requests).toBe(20_000);
      expect(Number.isFinite(run.serverCpuMicrosPerRequest) && run.serverCpuMicrosPerRequest > 0).toBe(true);
      expect(run.gc!.allocatedBytes).toBeGreaterThan(0);
    } finally {
      for (const t of started.reverse()) await t.stop();
    }
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
