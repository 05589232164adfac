// Key expiry on the node: lazy expiry on access, active expiry in the background, TTL precision.
// Timing checks poll with deadlines; nothing here sleeps a fixed time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('key expiry', () => {
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
  beforeEach(async () => {
    await c.call('FLUSHALL');
  });

  it('lazily expires a key when it is accessed after its deadline', async () => {
    expect(plain(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'))).toBe('+OK');
    try {
      await c.call('SET', 'k', 'v', 'PX', '30');
      await c.call('SET', 'keep', 'v');
      const setAt = Date.now();
      // Wait past the deadline without touching the key; it is still counted, not yet reclaimed.
      await waitFor(async () => Date.now() - setAt > 60 && (await c.call('DBSIZE')) === 2, { what: 'deadline to pass' });
      expect(await c.call('KEYS', '*')).toEqual(['keep']);
      expect(await c.call('DBSIZE')).toBe(2);
      expect(await c.call('GET', 'k')).toBeNull();
      expect(await c.call('DBSIZE')).toBe(1);
      expect(await c.call('TTL', 'k')).toBe(-2);
      expect(await c.call('EXISTS', 'k')).toBe(0);
    } finally {
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('actively expires 1000 keys within about 200 ms of their deadlines', async () => {
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1000; i++) pending.push(c.call('SET', `vol:${i}`, 'x', 'PX', String(50 + (i % 101))));
    pending.push(c.call('SET', 'forever', 'x'));
    await Promise.all(pending);
    const lastDeadline = Date.now() + 150;
    expect(await c.call('DBSIZE')).toBeGreaterThan(1);
    // Nothing reads the keys: only the background cycle can remove them.
    await waitFor(async () => (await c.call('DBSIZE')) === 1, { timeoutMs: 2000, intervalMs: 5, what: 'active expiry' });
    expect(Date.now() - lastDeadline).toBeLessThan(250);
    expect(await c.call('KEYS', 'vol:*')).toEqual([]);
    expect(await c.call('GET', 'forever')).toBe('x');
  });

  it('reports TTLs with millisecond precision and rounds seconds like Redis', async () => {
    await c.call('SET', 'k', 'v', 'PX', '5000');
    const pttl = (await c.call('PTTL', 'k')) as number;
    expect(pttl).toBeGreaterThan(4900);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(await c.call('TTL', 'k')).toBe(5);
    await c.call('PEXPIRE', 'k', '2600');
    expect(await c.call('TTL', 'k')).toBe(3); // (ttl + 500) / 1000
    const at = Date.now() + 100_000;
    await c.call('PEXPIREAT', 'k', String(at));
    expect(await c.call('PEXPIRETIME', 'k')).toBe(at);
    expect(await c.call('EXPIRETIME', 'k')).toBe(Math.floor(at / 1000));
    await c.call('EXPIREAT', 'k', String(Math.floor(at / 1000)));
    expect(await c.call('PEXPIRETIME', 'k')).toBe(Math.floor(at / 1000) * 1000);
  });

  it('a key past its deadline answers as missing to every command', async () => {
    await c.call('SET', 'soon', 'v', 'PX', '40');
    await waitFor(async () => (await c.call('EXISTS', 'soon')) === 0, { timeoutMs: 1000, intervalMs: 5, what: 'expiry of soon' });
    expect(await c.call('PTTL', 'soon')).toBe(-2);
    expect(await c.call('PERSIST', 'soon')).toBe(0);
  });
});
