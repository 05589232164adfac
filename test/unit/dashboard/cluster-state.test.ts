// The coordinator's cached cluster state (dashboard/coordinator/cluster-state.ts) never returns a
// state older than a write made through it, follows another writer through the store's watches
// (slots, groups, the epoch), caches nothing while one of them is down, and keeps serving from the
// cache across writes that do not touch slots, groups or the epoch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeEpoch, encodeGroup, encodeSlot } from '../../../common/model.js';
import { FileStore } from '../../../common/store/file-store.js';
import type { WatchStream } from '../../../common/store/watch-stream.js';
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
  await other.put(epochKey(PRODUCT), encodeEpoch(77));
  await waitFor(async () => {
    const st = await readClusterState(cached, PRODUCT);
    return st.table[3]!.kind === 'migrating' && st.groups.get(2)!.servers[0]!.addr === '127.0.0.1:7012' && st.epoch === 77;
  }, { what: 'the cached state to show the other writer\'s changes' });
  const st = await readClusterState(cached, PRODUCT);
  expect(st.table[3]).toMatchObject({ kind: 'migrating', from: 1, to: 2, toMaster: '127.0.0.1:7012' });
});

it('caches nothing while one of its watches is down; the next read opens them again', async () => {
  const inner = await FileStore.open(dir);
  const streams: WatchStream[] = [];
  const watch = inner.watch.bind(inner);
  inner.watch = async (prefix, fromRevision) => {
    const w = await watch(prefix, fromRevision);
    streams.push(w as WatchStream);
    return w;
  };
  const logs: string[] = [];
  const store = new StateCachingStore(inner, PRODUCT, (msg) => logs.push(msg));
  try {
    await readClusterState(store, PRODUCT);
    await readClusterState(store, PRODUCT);
    const reads = store.stats.reads;
    await readClusterState(store, PRODUCT);
    expect(store.stats.reads).toBe(reads);
    expect(streams).toHaveLength(3);
    streams[1]!.fail(new Error('watch broke'));
    await waitFor(() => logs.some((l) => l.includes('watch broke')), { what: 'the failure logged' });
    expect(streams.every((w) => w.closed)).toBe(true); // its siblings are cancelled with it
    // Meanwhile another writer changes a slot: the next read goes to the store and sees it.
    await other.put(slotKey(PRODUCT, 1), encodeSlot({ id: 1, state: { kind: 'online', group: 2 } }));
    const st = await readClusterState(store, PRODUCT);
    expect(st.table[1]).toMatchObject({ kind: 'online', group: 2 });
    expect(store.stats.reads).toBe(reads + 1);
    expect(streams).toHaveLength(6);
    expect(await readClusterState(store, PRODUCT)).toBe(st); // cached again
  } finally {
    await store.close();
  }
});
