// SLOTSINFO / SLOTSSCAN over the node's per-slot key index. Slots are computed here independently
// (crc32 of the hash tag, modulo 1024) with node:zlib.
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

function slotOfKey(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const tag = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc32(Buffer.from(tag, 'latin1')) % 1024;
}

/** Every key of a slot via SLOTSSCAN, in as many calls as it takes. */
async function scanSlot(c: RawClient, slot: number, count = 7): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, keys] = (await c.call('SLOTSSCAN', slot, cursor, 'COUNT', count)) as [string, string[]];
    out.push(...keys);
    cursor = next;
    calls++;
  } while (cursor !== '0' && calls < 100_000);
  return out;
}

describe('SLOTSINFO and SLOTSSCAN', () => {
  let node: ServerHandle;
  let c: RawClient;
  beforeAll(async () => {
    node = await startNode();
    c = await RawClient.connect(node.port);
  });
  afterAll(async () => {
    c?.close();
    await stopAll(node);
  });
  beforeEach(async () => {
    await c.call('FLUSHALL');
  });

  it('puts hash-tagged keys in one slot and counts every non-empty slot', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 300; i++) keys.push(`plain:${i}`);
    for (let i = 0; i < 40; i++) keys.push(`{user1000}.field${i}`, `x{order:7}y${i}`);
    keys.push('{}empty-tag', 'a{', '}b{c}');
    for (const k of keys) await c.call('SET', k, 'v');
    const expected = new Map<number, number>();
    for (const k of keys) expected.set(slotOfKey(k), (expected.get(slotOfKey(k)) ?? 0) + 1);
    expect(slotOfKey('{user1000}.field0')).toBe(crc32('user1000') % 1024);

    const info = (await c.call('SLOTSINFO')) as Array<[number, number]>;
    expect(new Map(info.map(([slot, n]) => [slot, n]))).toEqual(expected);
    expect(info.map(([slot]) => slot)).toEqual([...expected.keys()].sort((a, b) => a - b));

    const tagSlot = slotOfKey('{user1000}');
    expect((await c.call('SLOTSINFO', tagSlot, 1)) as unknown).toEqual([[tagSlot, expected.get(tagSlot)]]);
    const ranged = (await c.call('SLOTSINFO', 100, 200)) as Array<[number, number]>;
    expect(ranged).toEqual(info.filter(([slot]) => slot >= 100 && slot < 300));
    expect(await c.call('SLOTSINFO', 1023, 1000)).toEqual(info.filter(([slot]) => slot === 1023));
    expect(await c.call('SLOTSINFO', 0, 0)).toEqual([]);

    const tagged = await scanSlot(c, tagSlot);
    const wanted = keys.filter((k) => slotOfKey(k) === tagSlot);
    expect(tagged.sort()).toEqual(wanted.sort());
    expect(new Set(tagged).size).toBe(tagged.length);
    for (const [slot] of info.slice(0, 20)) {
      expect((await scanSlot(c, slot, 1)).sort()).toEqual(keys.filter((k) => slotOfKey(k) === slot).sort());
    }
  });

  it('skips expired keys and empty slots', async () => {
    for (let i = 0; i < 20; i++) await c.call('SET', `{t}${i}`, 'v', ...(i % 2 === 0 ? ['PX', '20'] : []));
    const slot = slotOfKey('{t}');
    await waitFor(async () => (await scanSlot(c, slot)).length === 10, { timeoutMs: 2000, what: 'expiry of half the keys' });
    expect((await scanSlot(c, slot)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `{t}${2 * i + 1}`).sort());
    const empty = (slot + 1) % 1024;
    expect(await c.call('SLOTSSCAN', empty, 0)).toEqual(['0', []]);
  });

  it('validates arguments', async () => {
    const errors = async (...args: Array<string | number>) => plain(await c.call(...args));
    expect(await errors('SLOTSINFO', 'x')).toEqual({ error: 'ERR invalid slot number' });
    expect(await errors('SLOTSINFO', 1024)).toEqual({ error: 'ERR invalid slot number' });
    expect(await errors('SLOTSINFO', -1)).toEqual({ error: 'ERR invalid slot number' });
    expect(await errors('SLOTSINFO', 0, 'x')).toEqual({ error: 'ERR value is not an integer or out of range' });
    expect(await errors('SLOTSINFO', 0, -1)).toEqual({ error: 'ERR value is out of range, must be positive' });
    expect(await errors('SLOTSINFO', 0, 1, 2)).toEqual({ error: 'ERR syntax error' });
    expect(await errors('SLOTSSCAN', 5000, 0)).toEqual({ error: 'ERR invalid slot number' });
    expect(await errors('SLOTSSCAN', 1, 'abc')).toEqual({ error: 'ERR invalid cursor' });
    expect(await errors('SLOTSSCAN', 1, 0, 'COUNT', 0)).toEqual({ error: 'ERR syntax error' });
    expect(await errors('SLOTSSCAN', 1, 0, 'MATCH', '*')).toEqual({ error: 'ERR syntax error' });
    expect(await errors('SLOTSSCAN', 1)).toEqual({ error: "ERR wrong number of arguments for 'slotsscan' command" });
  });
});
