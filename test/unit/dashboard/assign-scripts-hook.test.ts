// Cluster.assignSlots runs beforeFirstSlots (the script copy, script-copy.ts) only when the group
// serves no slot yet and another group does, with both masters, before the slots go online.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { Cluster } from '../../../dashboard/coordinator/cluster.js';
import { Leadership } from '../../../dashboard/coordinator/leadership.js';
import { waitFor } from '../../helpers/wait-for.js';

const PRODUCT = 'unit';
let dir = '';
let leader: Leadership;
let cluster: Cluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-assign-hook-'));
  const store = await FileStore.open(dir);
  leader = new Leadership(store, PRODUCT, { id: 'c1', url: 'http://127.0.0.1:18001', pid: process.pid, startedAt: new Date().toISOString() }, 3, () => {});
  leader.start();
  await waitFor(() => leader.role === 'leader', { what: 'the coordinator to lead' });
  cluster = new Cluster(store, PRODUCT, leader);
});

afterAll(async () => {
  await leader?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('copies to a group about to serve its first slots, from the lowest group that serves some', async () => {
  const calls: string[] = [];
  cluster.beforeFirstSlots = async (from, to) => {
    // Called before the write: the target serves nothing yet.
    expect((await cluster.getGroup(to.group)).slots).toBe(0);
    calls.push(`${from.group} ${from.addr} -> ${to.group} ${to.addr}`);
  };
  for (const [id, addr] of [[1, '127.0.0.1:7001'], [2, '127.0.0.1:7002'], [3, '127.0.0.1:7003']] as const) {
    await cluster.createGroup(id);
    await cluster.addServer(id, { addr, role: 'master' });
  }
  await cluster.assignSlots(0, 511, 1); // nobody serves slots: nothing to copy
  expect(calls).toEqual([]);
  await cluster.assignSlots(512, 767, 3);
  expect(calls).toEqual(['1 127.0.0.1:7001 -> 3 127.0.0.1:7003']);
  await cluster.assignSlots(768, 800, 3); // group 3 serves slots already
  await cluster.assignSlots(0, 511, 1); // nothing to assign
  expect(calls).toHaveLength(1);
  await cluster.assignSlots(801, 1023, 2);
  expect(calls).toEqual(['1 127.0.0.1:7001 -> 3 127.0.0.1:7003', '1 127.0.0.1:7001 -> 2 127.0.0.1:7002']);
  expect((await cluster.getGroup(2)).slots).toBe(223);
});
