// The proxy follows -MOVED and -ASK (with ASKING) from backends. Real redis-servers in cluster
// mode produce the redirects: the proxy's table sends every slot to node A, while A owns only
// half of Redis Cluster's slots and is migrating one of them to B.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addServer, assignSlots, createGroup } from '../../../cli/admin.js';
import type { CoordStore } from '../../../common/store/coord-store.js';
import { openStore } from '../../../common/store/open-store.js';
import { type ProxyHandle, startProxyProcess } from '../../helpers/cluster.js';
import { RawClient, callOnce } from '../../helpers/raw-client.js';
import { type ServerHandle, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let a: ServerHandle;
let b: ServerHandle;
let store: CoordStore;
let storeDir: string;
let proxy: ProxyHandle;
let client: Redis;
let direct: RawClient;

const cmd = callOnce;

/** A key whose Redis Cluster slot (CRC16) is `slot`, found by asking the server. */
async function keyInRedisSlot(wanted: (slot: number) => boolean): Promise<{ key: string; slot: number }> {
  for (let i = 0; ; i++) {
    const slot = Number(await direct.call('CLUSTER', 'KEYSLOT', `k${i}`));
    if (wanted(slot)) return { key: `k${i}`, slot };
  }
}

beforeAll(async () => {
  const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'];
  [a, b] = await Promise.all([startRedis(clusterArgs), startRedis(clusterArgs)]);
  await cmd(a.port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await cmd(b.port, 'CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await cmd(a.port, 'CLUSTER', 'MEET', '127.0.0.1', String(b.port));
  await waitFor(async () => String(await cmd(a.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')
    && String(await cmd(b.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), { timeoutMs: 20_000, what: 'redis cluster ok' });
  direct = await RawClient.connect(a.port);
  storeDir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
  store = await openStore(`file://${storeDir}`);
  await createGroup(store, 'redir', 1);
  await addServer(store, 'redir', 1, `127.0.0.1:${a.port}`, 'master');
  await assignSlots(store, 'redir', 0, 1023, 1);
  proxy = await startProxyProcess(`file://${storeDir}`, 'redir', []);
  client = new Redis({ port: proxy.port, host: '127.0.0.1' });
});

afterAll(async () => {
  client?.disconnect();
  direct?.close();
  await proxy?.stop();
  await store?.close();
  await stopAll(a, b);
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

describe('redirects from backends', () => {
  it('follows -MOVED to the node that owns the key', async () => {
    const { key } = await keyInRedisSlot((s) => s >= 8192);
    expect(await cmd(a.port, 'SET', key, 'x')).toMatchObject({ message: expect.stringMatching(/^MOVED \d+ 127\.0\.0\.1:\d+$/) });
    expect(await client.set(key, 'via-proxy')).toBe('OK');
    expect(await cmd(b.port, 'GET', key)).toBe('via-proxy');
    expect(await client.get(key)).toBe('via-proxy');
  });

  it('follows -ASK with ASKING while a slot migrates', async () => {
    const { key, slot } = await keyInRedisSlot((s) => s < 8192);
    const idA = String(await cmd(a.port, 'CLUSTER', 'MYID'));
    const idB = String(await cmd(b.port, 'CLUSTER', 'MYID'));
    await cmd(b.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', idA);
    await cmd(a.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', idB);
    // The key is absent on A, so A answers -ASK; the proxy retries on B after ASKING.
    expect(await cmd(a.port, 'SET', key, 'x')).toMatchObject({ message: expect.stringMatching(/^ASK \d+ 127\.0\.0\.1:\d+$/) });
    expect(await client.set(key, 'asked')).toBe('OK');
    const onB = await RawClient.connect(b.port);
    await onB.call('ASKING');
    expect(await onB.call('GET', key)).toBe('asked');
    onB.close();
  });
});
