// The mover's bound on keys locked at once (node/cluster/mover.ts MAX_LOCKED_KEYS): four slots
// moved by concurrent TESSERA.MIGRATE SLOT calls go in batches of at most the cap (without it,
// each call sent its slot in batches of 256: 12 batches here instead of at least 19), every key
// arrives, and STATUS reports the batches' lock times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOCKED_KEYS } from '../../../node/cluster/mover.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { keysInSlot, migrateAll } from '../../helpers/mover.js';

const CLUSTER = ['--slot-ownership', 'yes'];
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;
const SLOTS = [11, 12, 13, 14];
const PER_SLOT = 600;

async function status(c: RawClient): Promise<Record<string, string>> {
  const flat = (await c.call('TESSERA.MIGRATE', 'STATUS')) as unknown[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

describe('mover lock cap', () => {
  let source: ServerHandle;
  let target: ServerHandle;
  let src: RawClient;
  let dst: RawClient;
  const calls: RawClient[] = [];

  beforeAll(async () => {
    source = await startNode(CLUSTER);
    target = await startNode(CLUSTER);
    src = await RawClient.connect(source.port);
    dst = await RawClient.connect(target.port);
    expect(await src.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'OWNED')).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual({ value: 'OK' });
  }, 60_000);

  afterAll(async () => {
    for (const c of [src, dst, ...calls]) c?.close();
    await stopAll(target, source);
  });

  it('concurrent slot calls share one bound on locked keys; every key moves; STATUS shows the lock times', async () => {
    for (const slot of SLOTS) {
      await Promise.all(keysInSlot(slot, PER_SLOT, `c${slot}:`).map((k) => src.call('SET', k, `v-${k}`)));
    }
    const list = SLOTS.join(',');
    expect(await src.call('TESSERA.SLOTS', 'SET', 2, list, 'MIGRATING', addr(target))).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', 2, list, 'IMPORTING', addr(source))).toEqual({ value: 'OK' });

    // One connection per slot: the calls run at once on the source, as the coordinator's lanes do.
    for (const _ of SLOTS) calls.push(await RawClient.connect(source.port));
    const results = await Promise.all(SLOTS.map((slot, i) => migrateAll(calls[i]!, slot, addr(target), ['MAXKEYS', 10_000])));
    const moved = results.flat().reduce((n, r) => n + r[0]!, 0);
    expect(moved).toBe(SLOTS.length * PER_SLOT);

    const st = await status(src);
    const batches = Number(st['batch_locks']);
    // Each batch locked at most the cap (single-key tag groups here): at least total / cap batches.
    expect(batches).toBeGreaterThanOrEqual(Math.ceil((SLOTS.length * PER_SLOT) / MAX_LOCKED_KEYS));
    expect(Number(st['batch_lock_max_ms'])).toBeGreaterThanOrEqual(0);
    expect(Number(st['batch_lock_p99_ms'])).toBeGreaterThanOrEqual(Number(st['batch_lock_p50_ms']));
    expect(Number(st['batch_lock_key_ms'])).toBeGreaterThan(0);

    // Every key is on the target with its value, none left here.
    for (const slot of SLOTS) {
      expect(await src.call('SLOTSINFO', slot, 1)).toEqual([]);
      const k = keysInSlot(slot, PER_SLOT, `c${slot}:`)[PER_SLOT - 1]!;
      expect(await dst.call('ASKING')).toEqual({ value: 'OK' });
      expect(await dst.call('GET', k)).toBe(`v-${k}`);
    }
  }, 60_000);
});
