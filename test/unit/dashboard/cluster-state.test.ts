// The coordinator's cached cluster state (dashboard/coordinator/cluster-state.ts) never returns a
// state older than a write made through it, follows another writer through the store's watch,
// and keeps serving from the cache across writes that do not touch slots, groups or the epoch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeEpoch, encodeGroup, encodeSlot } from '../../../common/model.js';
import { FileStore } from '../../../common/store/file-store.js';
import { epochKey, groupKey, migrationKey, slotKey } from '../../../common/store/keys.js';
import { StateCachingStore, readClusterState } from '../../../dashboard/coordinator/cluster-state.js';
import { waitFor } from '../../helpers/wait-for.js';

const PRODUCT = 'unit';
let dir = '';
let other: FileStore;
let cached: StateCachingStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cluster-state-'));
  other = await FileStore.open(dir); // another process's view of the same store
  await other.put(groupKey(PRODUCT, 1), encodeGroup({ id: 1, servers: [{ addr: '127.0.0.1:7001', role: 'master' }] }));
  await other.put(groupKey(PRODUCT, 2), encodeGroup({ id: 2, servers: [{ addr: '127.0.0.1:7002', role: 'master' }] }));
  for (let s = 0; s < 4; s++) await other.put(slotKey(PRODUCT, s), encodeSlot({ id: s, state: { kind: 'online', group: 1 } }));
  await other.put(epochKey(PRODUCT), encodeEpoch(3));
  cached = new StateCachingStore(await FileStore.open(dir), PRODUCT);
});

afterAll(async () => {
  await cached?.close();
  await other?.close();
  await rm(dir, { recursive: true, force: true });
});

it('reads what the store holds, then answers from the cache', async () => {
  const first = await readClusterState(cached, PRODUCT);
  const direct = await readClusterState(other, PRODUCT);
  expect(first.epoch).toBe(3);
  expect(first.table[0]).toMatchObject({ kind: 'online', group: 1, master: '127.0.0.1:7001' });
  expect({ ...first, epochEntry: first.epochEntry?.value }).toEqual({ ...direct, epochEntry: direct.epochEntry?.value });
  const hits = cached.stats.hits;
  const reads = cached.stats.reads;
  expect(await readClusterState(cached, PRODUCT)).toBe(first);
  expect(cached.stats.hits).toBe(hits + 1);
  expect(cached.stats.reads).toBe(reads);
});

it('never returns a state older than a write made through it', async () => {
  for (let i = 0; i < 20; i++) {
    await readClusterState(cached, PRODUCT); // cached before the write
    const group = i % 2 === 0 ? 2 : 1;
    await cached.txn([], [{ op: 'put', key: slotKey(PRODUCT, 0), value: encodeSlot({ id: 0, state: { kind: 'online', group } }) }, { op: 'put', key: epochKey(PRODUCT), value: encodeEpoch(10 + i) }]);
    const st = await readClusterState(cached, PRODUCT);
    expect(st.table[0]).toMatchObject({ kind: 'online', group });
    expect(st.epoch).toBe(10 + i);
  }
  // Applied to the cache, not read again: and what the cache holds is what the store holds.
  const reads = cached.stats.reads;
  const st = await readClusterState(cached, PRODUCT);
  expect(cached.stats.reads).toBe(reads);
  const direct = await readClusterState(other, PRODUCT);
  const comparable = (x: typeof st) => ({ ...x, epochEntry: { value: x.epochEntry?.value, revision: x.epochEntry?.revision } });
  expect(comparable(st)).toEqual(comparable(direct));
});

it('keeps the cache across writes outside the cluster state', async () => {
  const before = await readClusterState(cached, PRODUCT);
  const reads = cached.stats.reads;
  await cached.put(migrationKey(PRODUCT, 1), '{"not":"state"}');
  expect(await readClusterState(cached, PRODUCT)).toBe(before);
  expect(cached.stats.reads).toBe(reads);
});

it("follows another writer's changes through the watch", async () => {
  await readClusterState(cached, PRODUCT);
  await other.put(slotKey(PRODUCT, 3), encodeSlot({ id: 3, state: { kind: 'migrating', from: 1, to: 2 } }));
  await other.put(groupKey(PRODUCT, 2), encodeGroup({ id: 2, servers: [{ addr: '127.0.0.1:7012', role: 'master' }] }));
  await waitFor(async () => {
    const st = await readClusterState(cached, PRODUCT);
    return st.table[3]!.kind === 'migrating' && st.groups.get(2)!.servers[0]!.addr === '127.0.0.1:7012';
  }, { what: 'the cached state to show the other writer\'s changes' });
  const st = await readClusterState(cached, PRODUCT);
  expect(st.table[3]).toMatchObject({ kind: 'migrating', from: 1, to: 2, toMaster: '127.0.0.1:7012' });
});
