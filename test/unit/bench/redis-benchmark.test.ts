import { describe, it, expect } from 'vitest';
import { BENCH_TESTS, benchArgs, parseBenchCsv } from '../../../bench/redis-benchmark.js';

// Real redis-benchmark 7.0.15 output for `-t lrange_100,mset --csv`.
const CSV = [
  '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
  '"LPUSH (needed to benchmark LRANGE)","1538461.50","0.399","0.080","0.375","0.679","0.775","0.831"',
  '"LRANGE_100 (first 100 elements)","240963.86","2.619","0.184","2.583","4.151","5.119","5.583"',
  '"MSET (10 keys)","232558.12","3.319","0.352","3.095","6.407","7.127","7.303"',
  '',
].join('\n');

describe('parseBenchCsv', () => {
  it('reads every column of the matching row', () => {
    expect(parseBenchCsv(CSV, 'LRANGE_100')).toEqual({
      rps: 240963.86, avgMs: 2.619, minMs: 0.184, p50Ms: 2.583, p95Ms: 4.151, p99Ms: 5.119, maxMs: 5.583,
    });
    expect(parseBenchCsv(CSV, 'MSET (10 keys)').rps).toBe(232558.12);
  });

  it('never takes the untimed list-filling LPUSH row for the LPUSH test', () => {
    expect(() => parseBenchCsv(CSV, 'LPUSH')).toThrow(/no "LPUSH" row/);
  });

  it('does not let a test name match a longer one that shares its prefix', () => {
    const csv = `${CSV.split('\n')[0]}\n"SETRANGE","1.0","1","1","1","1","1","1"\n`;
    expect(() => parseBenchCsv(csv, 'SET')).toThrow(/no "SET" row/);
  });

  it('fails loudly on an unexpected header', () => {
    expect(() => parseBenchCsv('"test","rps"\n"SET","1"\n', 'SET')).toThrow(/unexpected redis-benchmark CSV header/);
  });

  it('rejects rows with non-numeric values', () => {
    const csv = `${CSV.split('\n')[0]}\n"SET","n/a","1","1","1","1","1","1"\n`;
    expect(() => parseBenchCsv(csv, 'SET')).toThrow(/bad numbers/);
  });
});

describe('benchArgs', () => {
  it('passes clients, requests, random keys, pipeline, test and csv', () => {
    const zadd = BENCH_TESTS.find((t) => t.id === 'ZADD')!;
    expect(benchArgs({ port: 7001, test: zadd, pipeline: 16, clients: 50, requests: 1000, randomKeys: 100000 })).toEqual([
      '-h', '127.0.0.1', '-p', '7001', '-c', '50', '-n', '1000', '-r', '100000', '-P', '16', '-t', 'zadd', '--csv',
    ]);
  });
});
