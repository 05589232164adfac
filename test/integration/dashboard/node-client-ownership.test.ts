// The coordinator's RedisNodeApi.ownership() asks one thing (TESSERA.SLOTS GET) and tells a node
// without slot ownership from one with it: redis-server and a plain Tessera node are `null` (plain:
// nothing to tell), a cluster-mode node answers its epoch and runs, and a refusal for another
// reason (a wrong password) is an error, never taken for "plain".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisNodeApi } from '../../../dashboard/coordinator/node-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';

let redis: ServerHandle;
let plain: ServerHandle;
let cluster: ServerHandle;
let locked: ServerHandle;
const api = new RedisNodeApi();

beforeAll(async () => {
  [redis, plain, cluster, locked] = await Promise.all([
    startRedis(), startNode(), startNode(['--slot-ownership', 'yes']), startNode(['--slot-ownership', 'yes', '--requirepass', 'secret-pass']),
  ]);
}, 60_000);

afterAll(async () => {
  await api.close();
  await stopAll(redis, plain, cluster, locked);
});

it('redis-server and a node without slot-ownership are plain (null)', async () => {
  expect(await api.ownership(`127.0.0.1:${redis.port}`)).toBeNull();
  expect(await api.ownership(`127.0.0.1:${plain.port}`)).toBeNull();
});

it('a cluster-mode node answers its epoch, confirmation and runs; after SET, what it was told', async () => {
  const addr = `127.0.0.1:${cluster.port}`;
  const before = await api.ownership(addr);
  expect(before).not.toBeNull();
  expect(before!.epoch).toBe(0);
  await api.setSlots(addr, 5, [{ start: 0, end: 511, state: 'owned', peer: null }, { start: 512, end: 1023, state: 'none', peer: '127.0.0.1:1' }]);
  const after = await api.ownership(addr);
  expect(after).toMatchObject({ epoch: 5, ranges: [{ start: 0, end: 511, state: 'owned', peer: null }, { start: 512, end: 1023, state: 'none', peer: '127.0.0.1:1' }] });
});

it('a refusal for another reason (no password given) is an error, not "plain", on the first connect (not a timeout)', async () => {
  // "refused the connection" is the wait's own rejection; running out the call's bound says "did not answer … within".
  await expect(api.ownership(`127.0.0.1:${locked.port}`)).rejects.toThrow(/refused the connection: NOAUTH/);
});
