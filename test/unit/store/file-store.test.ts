// File-store behaviour beyond the shared contract: several writers on one directory, compaction, corruption.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';

let dir = '';
const stores: FileStore[] = [];
const open = async () => {
  const s = await FileStore.open(dir);
  stores.push(s);
  return s;
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-fstore-'));
});
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('FileStore', () => {
  it('loses no update when several store instances increment one counter with CAS', async () => {
    const clients = await Promise.all([open(), open(), open(), open()]);
    const increment = async (store: FileStore) => {
      for (;;) {
        const cur = await store.get('/counter');
        const next = String(Number(cur?.value ?? '0') + 1);
        if ((await store.compareAndSwap('/counter', cur?.revision ?? null, next)).ok) return;
      }
    };
    await Promise.all(clients.flatMap((c) => Array.from({ length: 10 }, () => increment(c))));
    expect((await clients[0].get('/counter'))?.value).toBe('40');
  });

  it('keeps a bounded event log and fails a watch that starts before it', async () => {
    const store = await open();
    const ops = Array.from({ length: 4100 }, (_, i) => ({ op: 'put' as const, key: `/big/${i}`, value: 'x' }));
    const big = await store.txn([], ops);
    const after = await store.put('/big/last', 'y');

    const recent = await store.watch('/big/', after);
    const it = recent[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ key: '/big/last', revision: after });
    recent.cancel();

    const old = await store.watch('/big/', big.revision);
    await expect(old[Symbol.asyncIterator]().next()).rejects.toThrow(/compacted/);
  });

  it('refuses a corrupt or foreign state file with a clear error', async () => {
    await writeFile(join(dir, 'state.json'), '{not json');
    await expect(FileStore.open(dir)).rejects.toThrow(/state\.json is not valid JSON/);
    await writeFile(join(dir, 'state.json'), JSON.stringify({ schema: 99 }));
    await expect(FileStore.open(dir)).rejects.toThrow(/schema 99, expected 1/);
  });

  it('sweeps a lease nobody refreshes once its TTL passes', async () => {
    const holder = await open();
    const reader = await open();
    const eph = await holder.putEphemeral('/eph', 'v', 0.2);
    // Simulate a dead holder: stop its refreshes without deleting the key.
    (eph as unknown as { stop(): void }).stop();
    const deadline = Date.now() + 5000;
    while ((await reader.get('/eph')) !== null) {
      if (Date.now() > deadline) throw new Error('lease never expired');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await reader.get('/eph')).toBeNull();
  });
});
