// Bitmaps, HyperLogLog and geo through the proxy (2 groups with a replica each, file store): the
// multi-key forms (BITOP, PFCOUNT/PFMERGE, GEOSEARCHSTORE, GEORADIUS … STORE/STOREDIST) run when
// their keys share a slot and land on that slot's group; across slots they get CROSSSLOT. Replicas
// receive PFCOUNT's cache write and GEOADD (as ZADD) with the master's bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

let cluster: Cluster;
let proxy: RawClient;
const direct: RawClient[] = [];

/** The index (0 or 1) of the group owning a key's slot: slots split evenly, 0-511 and 512-1023. */
const groupOf = (key: string) => (slotOf(key) < 512 ? 0 : 1);

/** Two keys whose slots are owned by different groups. */
function keysOnTwoGroups(): [string, string] {
  let i = 0;
  while (groupOf(`k${i}`) === groupOf('k0')) i++;
  return ['k0', `k${i}`];
}

async function connectDirect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  direct.push(c);
  return c;
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 1, proxies: 1, store: 'file' });
  proxy = await RawClient.connect(cluster.proxies[0]!.port);
});

afterAll(async () => {
  proxy?.close();
  for (const c of direct) c.close();
  await cluster?.stop();
});

describe('bitmaps, HyperLogLog and geo through the proxy', () => {
  it('multi-key commands on one slot run on the group owning it', async () => {
    const t = (k: string) => `{bgh}${k}`;
    expect(await proxy.call('SETBIT', t('a'), '3', '1')).toBe(0);
    expect(await proxy.call('SETBIT', t('b'), '13', '1')).toBe(0);
    expect(await proxy.call('BITOP', 'OR', t('or'), t('a'), t('b'))).toBe(2);
    expect(await proxy.call('BITCOUNT', t('or'))).toBe(2);
    expect(await proxy.call('BITPOS', t('or'), '1', '1')).toBe(13);
    expect(await proxy.call('BITFIELD', t('bf'), 'INCRBY', 'u8', '#2', '250', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '#2', '10')).toEqual([250, 255]);
    expect(await proxy.call('BITFIELD_RO', t('bf'), 'GET', 'u8', '#2')).toEqual([255]);
    expect(await proxy.call('PFADD', t('h1'), 'a', 'b', 'c')).toBe(1);
    expect(await proxy.call('PFADD', t('h2'), 'c', 'd')).toBe(1);
    expect(await proxy.call('PFCOUNT', t('h1'), t('h2'))).toBe(4);
    expect(await proxy.call('PFMERGE', t('hm'), t('h1'), t('h2'))).toEqual(expect.objectContaining({ value: 'OK' }));
    expect(await proxy.call('PFCOUNT', t('hm'))).toBe(4);
    expect(await proxy.call('GEOADD', t('g'), '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania')).toBe(2);
    expect(await proxy.call('GEOSEARCHSTORE', t('gs'), t('g'), 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km')).toBe(2);
    expect(await proxy.call('GEORADIUS', t('g'), '15', '37', '200', 'km', 'STORE', t('gr'))).toBe(2);
    expect(await proxy.call('GEORADIUSBYMEMBER', t('g'), 'Palermo', '100', 'km', 'STOREDIST', t('gd'))).toBe(1);
    expect(await proxy.call('GEODIST', t('g'), 'Palermo', 'Catania', 'km')).toBe('166.2742');
    expect(await proxy.call('GEORADIUS_RO', t('g'), '15', '37', '200', 'km', 'ASC')).toEqual(['Catania', 'Palermo']);

    const written = ['a', 'b', 'or', 'bf', 'h1', 'h2', 'hm', 'g', 'gs', 'gr', 'gd'].map(t);
    const owner = groupOf(t('a'));
    const onOwner = await connectDirect(cluster.groups[owner]!.port);
    const onOther = await connectDirect(cluster.groups[1 - owner]!.port);
    expect(await onOwner.call('EXISTS', ...written)).toBe(written.length);
    expect(await onOther.call('EXISTS', ...written)).toBe(0);
  });

  it('keys of different slots get CROSSSLOT, as other multi-key commands do', async () => {
    const [x, y] = keysOnTwoGroups();
    expect(slotOf(x)).not.toBe(slotOf(y));
    const crossSlot = expect.objectContaining({ message: "CROSSSLOT Keys in request don't hash to the same slot" });
    const commands = [
      ['BITOP', 'AND', x, y], ['BITOP', 'OR', `{${x}}d`, `{${x}}a`, y], ['PFCOUNT', x, y], ['PFMERGE', x, y],
      ['GEOSEARCHSTORE', x, y, 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'], ['GEORADIUS', x, '0', '0', '1', 'km', 'STORE', y],
      ['GEORADIUS', x, '0', '0', '1', 'km', 'STOREDIST', y], ['GEORADIUSBYMEMBER', x, 'm', '1', 'km', 'STORE', y],
      // The second STORE is what GEORADIUS writes: it is routed too (Redis's key specs miss it).
      ['GEORADIUS', x, '0', '0', '1', 'km', 'STORE', `{${x}}d`, 'STORE', y], ['MSETNX', x, '1', y, '2'],
    ];
    for (const cmd of commands) {
      const reply = await proxy.call(...cmd);
      expect(reply, cmd.join(' ')).toBeInstanceOf(ReplyErrorValue);
      expect(reply, cmd.join(' ')).toEqual(crossSlot);
    }
    // The read-only form has no STORE, so one key: it runs.
    expect(await proxy.call('GEORADIUS_RO', x, '0', '0', '1', 'km')).toEqual([]);
  });

  it('replicas get PFCOUNT\'s cached cardinality and GEOADD\'s scores byte for byte', async () => {
    const key = '{repl}hll';
    const geo = '{repl}geo';
    const args = Array.from({ length: 400 }, (_, i) => `e${i}`);
    expect(await proxy.call('PFADD', key, ...args)).toBe(1);
    const count = await proxy.call('PFCOUNT', key);
    expect(count).toBeGreaterThan(390);
    expect(await proxy.call('GEOADD', geo, '2.35', '48.85', 'Paris', '-0.1276', '51.5072', 'London')).toBe(2);
    const g = groupOf(key);
    const master = await connectDirect(cluster.groups[g]!.port);
    const replica = await connectDirect(cluster.replicas[g]![0]!.port);
    const value = (await master.call('GET', key)) as string;
    // The cache's invalid bit (MSB of byte 15) is clear once PFCOUNT wrote it.
    expect(value.charCodeAt(15) & 0x80).toBe(0);
    await waitFor(async () => (await replica.call('GET', key)) === value, { what: 'the replica to hold the master\'s HLL bytes' });
    const zs = await master.call('ZRANGE', geo, '0', '-1', 'WITHSCORES');
    await waitFor(async () => JSON.stringify(await replica.call('ZRANGE', geo, '0', '-1', 'WITHSCORES')) === JSON.stringify(zs), { what: 'the replica\'s geo set' });
    expect(await replica.call('PFCOUNT', key)).toBe(count);
  });
});
