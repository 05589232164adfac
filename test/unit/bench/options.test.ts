import { describe, it, expect } from 'vitest';
import { parseBenchOptions } from '../../../bench/options.js';

describe('parseBenchOptions', () => {
  it('defaults to our node, every test, pipelines 1 and 16, five repeats of ~1 s, calibrated runs, 1M memory keys', () => {
    const o = parseBenchOptions([], {})!;
    expect(o.ours).toBe('tessera');
    expect(o.tests.map((t) => t.id)).toEqual(['SET', 'GET', 'INCR', 'LPUSH', 'HSET', 'SADD', 'ZADD', 'LRANGE_100', 'MSET (10 keys)']);
    expect(o.pipelines).toEqual([1, 16]);
    expect(o.repeats).toBe(5);
    expect(o.fixedRequests).toBeNull();
    expect(o.targetRunSeconds).toBe(1);
    expect(o.memoryKeys).toBe(1_000_000);
  });

  it('--quick shortens runs and the memory load; env overrides request count and keys', () => {
    const o = parseBenchOptions(['--quick', '--tests=get,mset', '--ours=redis-server'], { BENCH_REQUESTS: '5000', BENCH_MEMORY_KEYS: '1000' })!;
    expect(o.targetRunSeconds).toBe(0.3);
    expect(o.repeats).toBe(3);
    expect(o.fixedRequests).toBe(5000);
    expect(o.memoryKeys).toBe(1000);
    expect(o.ours).toBe('redis-server');
    expect(o.tests.map((t) => t.tName)).toEqual(['get', 'mset']);
  });

  it('--scenario=proxy defaults to GET-miss, SET, GET and MSET and its own results file; the node scenario keeps its defaults', () => {
    const proxy = parseBenchOptions(['--scenario=proxy', '--quick'], {})!;
    expect(proxy.scenario).toBe('proxy');
    expect(proxy.tests.map((t) => t.id)).toEqual(['GET-miss', 'SET', 'GET', 'MSET (10 keys)']);
    expect(proxy.manyClients).toBe(500);
    expect(proxy.proxyWorkers).toBeNull();
    expect(proxy.resultsPath).toBe('.bench-results/proxy-latest.json');
    expect(proxy.repeats).toBe(3);
    expect(parseBenchOptions(['--scenario=proxy', '--tests=get'], {})!.tests.map((t) => t.id)).toEqual(['GET']);
    const node = parseBenchOptions([], {})!;
    expect(node.scenario).toBe('node');
    expect(node.resultsPath).toBe('.bench-results/latest.json');
    expect(node.pin).toBe(true);
    expect(parseBenchOptions(['--no-pin'], {})!.pin).toBe(false);
  });

  it('--scenario=replication: 3 repeats, 1M keys (200k quick), 3 s of load, its own results file; env overrides', () => {
    const o = parseBenchOptions(['--scenario=replication'], {})!;
    expect(o.scenario).toBe('replication');
    expect(o.repeats).toBe(3);
    expect(o.replicationKeys).toBe(1_000_000);
    expect(o.replicationLoadSeconds).toBe(3);
    expect(o.resultsPath).toBe('.bench-results/replication-latest.json');
    expect(parseBenchOptions(['--scenario=replication', '--quick'], {})!.replicationKeys).toBe(200_000);
    const env = parseBenchOptions(['--scenario=replication'], { BENCH_REPLICATION_KEYS: '5000', BENCH_REPLICATION_LOAD_SECONDS: '1' })!;
    expect(env.replicationKeys).toBe(5000);
    expect(env.replicationLoadSeconds).toBe(1);
    expect(() => parseBenchOptions(['--scenario=replication', '--memory-only'], {})).toThrow(/memory/);
    expect(parseBenchOptions([], {})!.repeats).toBe(5);
  });

  it('rejects an unknown scenario and --memory-only with the proxy scenario', () => {
    expect(() => parseBenchOptions(['--scenario=cluster'], {})).toThrow(/--scenario/);
    expect(() => parseBenchOptions(['--scenario=proxy', '--memory-only'], {})).toThrow(/memory/);
  });

  it('rejects unknown tests, bad numbers and unknown flags', () => {
    expect(() => parseBenchOptions(['--tests=PING'], {})).toThrow(/unknown test "PING"/);
    expect(() => parseBenchOptions([], { BENCH_REQUESTS: '-1' })).toThrow(/BENCH_REQUESTS/);
    expect(() => parseBenchOptions(['--ours=keydb'], {})).toThrow(/--ours/);
    expect(() => parseBenchOptions(['--fast'], {})).toThrow();
  });

  it('returns null for --help', () => {
    expect(parseBenchOptions(['--help'], {})).toBeNull();
  });

  it('proxy flags: --proxy-workers, --many-clients (0 skips), GET-miss by name; refused outside the proxy scenario', () => {
    const o = parseBenchOptions(['--scenario=proxy', '--proxy-workers=4', '--many-clients=0', '--tests=get-miss,get'], {})!;
    expect(o.proxyWorkers).toBe(4);
    expect(o.manyClients).toBe(0);
    expect(o.tests.map((t) => t.id)).toEqual(['GET-miss', 'GET']);
    expect(() => parseBenchOptions(['--proxy-workers=2'], {})).toThrow(/--scenario=proxy/);
    expect(() => parseBenchOptions(['--tests=get-miss'], {})).toThrow(/unknown test/);
    expect(() => parseBenchOptions(['--scenario=proxy', '--proxy-workers=0'], {})).toThrow(/positive integer/);
  });

  it('node flags: BENCH_NODE_CPU_PROF, BENCH_ZADD_MEMBERS (default 100000, 0 skips)', () => {
    expect(parseBenchOptions([], {})!).toMatchObject({ nodeCpuProfileDir: null, zaddMembers: 100_000 });
    expect(parseBenchOptions([], { BENCH_NODE_CPU_PROF: '/tmp/p', BENCH_ZADD_MEMBERS: '0' })!).toMatchObject({ nodeCpuProfileDir: '/tmp/p', zaddMembers: 0 });
  });
  it('--attribute turns on the migration scenario\'s scheduler sampling (off by default), and only there', () => {
    expect(parseBenchOptions(['--scenario=migration', '--codis'], {})!.migration.attribute).toBe(false);
    expect(parseBenchOptions(['--scenario=migration', '--attribute'], {})!.migration.attribute).toBe(true);
    expect(() => parseBenchOptions(['--attribute'], {})).toThrow(/--attribute are for --scenario=migration/);
  });
});
