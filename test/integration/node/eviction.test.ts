// maxmemory on a real node: keys are evicted by policy (LRU, volatile-*), evicted_keys counts
// them, used memory stays bounded, and noeviction (or nothing evictable) answers -OOM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';

const OOM = { error: "OOM command not allowed when used memory > 'maxmemory'." };
const VALUE = 'v'.repeat(1000);

function infoField(info: unknown, name: string): number {
  const m = new RegExp(`\\r\\n${name}:(\\d+)\\r\\n`).exec(String(info));
  if (!m) throw new Error(`INFO has no ${name}`);
  return Number(m[1]);
}

/** Sends many commands pipelined and returns their replies in order. */
async function pipeline(c: RawClient, commands: string[][]): Promise<unknown[]> {
  return Promise.all(commands.map((cmd) => c.call(...cmd)));
}

describe('maxmemory eviction', () => {
  let node: ServerHandle;
  let c: RawClient;
  beforeAll(async () => {
    node = await startNode(['--enable-debug-command', 'yes']);
    c = await RawClient.connect(node.port);
  });
  afterAll(async () => {
    c?.close();
    await stopAll(node);
  });

  /** Sets maxmemory to the current usage plus `headroom` bytes; returns the limit. */
  async function limitAbove(headroom: number, policy: string): Promise<number> {
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'RESETSTAT');
    const used = infoField(await c.call('INFO', 'memory'), 'used_memory');
    const limit = used + headroom;
    expect(plain(await c.call('CONFIG', 'SET', 'maxmemory-policy', policy, 'maxmemory', String(limit)))).toBe('+OK');
    return limit;
  }

  it('allkeys-lru evicts to stay under the limit and keeps recently used keys', async () => {
    const limit = await limitAbove(4 * 1024 * 1024, 'allkeys-lru');
    await c.call('CONFIG', 'SET', 'maxmemory-samples', '10');
    const hot = Array.from({ length: 20 }, (_, i) => `hot:${i}`);
    await pipeline(c, hot.map((k) => ['SET', k, VALUE]));
    const total = 20_000;
    for (let i = 0; i < total; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => ['SET', `cold:${i + j}`, VALUE]);
      const replies = await pipeline(c, [...batch, ...hot.map((k) => ['GET', k])]);
      for (const r of replies.slice(0, 500)) expect(plain(r as never)).toBe('+OK');
    }
    const info = await c.call('INFO', 'everything');
    expect(infoField(info, 'evicted_keys')).toBeGreaterThan(1000);
    expect(infoField(info, 'used_memory')).toBeLessThan(limit + 2 * 1024 * 1024);
    const size = Number(await c.call('DBSIZE'));
    expect(size).toBeLessThan(total);
    expect(size).toBeGreaterThan(0);
    const hotLeft = (await pipeline(c, hot.map((k) => ['EXISTS', k]))).filter((n) => n === 1).length;
    expect(hotLeft).toBeGreaterThanOrEqual(15);
  });

  it('noeviction answers -OOM to writes that may grow memory, but serves reads and DEL', async () => {
    await limitAbove(1024 * 1024, 'noeviction');
    let oom = 0;
    for (let i = 0; i < 10_000 && oom === 0; i += 200) {
      const replies = await pipeline(c, Array.from({ length: 200 }, (_, j) => ['SET', `k:${i + j}`, VALUE]));
      oom = replies.filter((r) => JSON.stringify(plain(r as never)) === JSON.stringify(OOM)).length;
    }
    expect(oom).toBeGreaterThan(0);
    // Client buffers count towards used memory, so right after the pipeline drains a few single
    // writes may fit again; with nothing evictable, writes keep being refused from then on.
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) refused = JSON.stringify(plain(await c.call('SET', `one-more:${i}`, VALUE))) === JSON.stringify(OOM);
    expect(refused).toBe(true);
    expect(plain(await c.call('SET', 'one-more', VALUE))).toEqual(OOM);
    expect(await c.call('GET', 'k:0')).toBe(VALUE);
    expect(await c.call('DEL', 'k:0')).toBe(1);
    expect(infoField(await c.call('INFO', 'stats'), 'evicted_keys')).toBe(0);
    expect(String(await c.call('INFO', 'errorstats'))).toMatch(/errorstat_OOM:count=\d+/);
  });

  it('volatile-lru evicts only keys with a TTL, then answers -OOM', async () => {
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('FLUSHALL');
    await pipeline(c, Array.from({ length: 500 }, (_, i) => ['SET', `keep:${i}`, VALUE]));
    await pipeline(c, Array.from({ length: 500 }, (_, i) => ['SET', `ttl:${i}`, VALUE, 'EX', '1000']));
    const used = infoField(await c.call('INFO', 'memory'), 'used_memory');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru', 'maxmemory', String(used + 256 * 1024));
    let oom = false;
    for (let i = 0; i < 20_000 && !oom; i += 200) {
      const replies = await pipeline(c, Array.from({ length: 200 }, (_, j) => ['SET', `new:${i + j}`, VALUE, 'EX', '1000']));
      oom = replies.some((r) => JSON.stringify(plain(r as never)) === JSON.stringify(OOM));
    }
    expect(infoField(await c.call('INFO', 'stats'), 'evicted_keys')).toBeGreaterThan(0);
    const kept = await pipeline(c, Array.from({ length: 500 }, (_, i) => ['EXISTS', `keep:${i}`]));
    expect(kept.every((n) => n === 1)).toBe(true);
    // Once only keys without a TTL are left, nothing can be evicted: -OOM.
    let lastOom = false;
    for (let i = 0; i < 5000 && !lastOom; i++) lastOom = JSON.stringify(plain(await c.call('SET', `more:${i}`, VALUE))) === JSON.stringify(OOM);
    expect(lastOom).toBe(true);
    expect(String(await c.call('INFO', 'keyspace'))).toMatch(/db0:keys=\d+,expires=0,/);
    const keptAfter = await pipeline(c, Array.from({ length: 500 }, (_, i) => ['EXISTS', `keep:${i}`]));
    expect(keptAfter.every((n) => n === 1)).toBe(true);
  });

  it('allkeys-random and volatile-ttl evict too; lowering maxmemory evicts at once', async () => {
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('FLUSHALL');
    await pipeline(c, Array.from({ length: 3000 }, (_, i) => ['SET', `r:${i}`, VALUE, 'EX', String(100 + i)]));
    const used = infoField(await c.call('INFO', 'memory'), 'used_memory');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl');
    expect(plain(await c.call('CONFIG', 'SET', 'maxmemory', String(used - 1024 * 1024)))).toBe('+OK');
    const evicted = infoField(await c.call('INFO', 'stats'), 'evicted_keys');
    expect(evicted).toBeGreaterThan(0);
    // volatile-ttl prefers the keys closest to expiring: the last ones written live longest.
    expect(await c.call('EXISTS', 'r:2999')).toBe(1);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random');
    for (let i = 0; i < 3000; i += 500) await pipeline(c, Array.from({ length: 500 }, (_, j) => ['SET', `x:${i + j}`, VALUE]));
    expect(infoField(await c.call('INFO', 'stats'), 'evicted_keys')).toBeGreaterThan(evicted);
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
  });

  it('LFU policy keeps an access counter readable through the clock', async () => {
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
    await c.call('SET', 'freq', 'x');
    for (let i = 0; i < 50; i++) await c.call('GET', 'freq');
    const line = String(plain(await c.call('DEBUG', 'OBJECT', 'freq')));
    // Under LFU, lru packs (minutes << 8 | counter); the first access always increments the
    // counter from its initial 5.
    const lru = Number(/ lru:(\d+) /.exec(line)![1]);
    expect(lru & 255).toBeGreaterThanOrEqual(6);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  });
});
