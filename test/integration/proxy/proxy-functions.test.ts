// Functions through the proxy (2 groups, file store): FUNCTION LOAD/DELETE/FLUSH/RESTORE reach
// every master (the first error wins), FCALL/FCALL_RO go to the group owning their declared keys
// (all in one slot, else CROSSSLOT; none: slot 0's group), and FUNCTION LIST/STATS/DUMP answer
// with one master's view (every master holds the same libraries once loaded through the proxy).
// A node in cluster mode applies the cluster flags: no-cluster refused, one slot per function run
// unless allow-cross-slot-keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { plain } from '../../helpers/differential.js';
import { RawClient, callOnce } from '../../helpers/raw-client.js';
import { startNode, stopAll } from '../../helpers/servers.js';

let cluster: Cluster;
let proxy: RawClient;
const masters: RawClient[] = [];

/** The index (0 or 1) of the group owning a key's slot: slots split evenly, 0-511 and 512-1023. */
const groupOf = (key: string) => (slotOf(key) < 512 ? 0 : 1);

function keyOnGroup(g: number, prefix: string): string {
  for (let i = 0; ; i++) if (groupOf(`${prefix}${i}`) === g) return `${prefix}${i}`;
}

const LIB = [
  '#!lua name=counters',
  "redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)",
  "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}",
  "redis.register_function('where', function() return redis.call('dbsize') end)",
].join('\n');

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 0, proxies: 1, store: 'file' });
  proxy = await RawClient.connect(cluster.proxies[0]!.port);
  for (const g of cluster.groups) masters.push(await RawClient.connect(g.port));
});

afterAll(async () => {
  proxy?.close();
  for (const c of masters) c.close();
  await cluster?.stop();
});

describe('functions through the proxy', () => {
  it('FUNCTION LOAD reaches every master, so FCALL runs wherever its key lives', async () => {
    expect(await proxy.call('FUNCTION', 'LOAD', LIB)).toBe('counters');
    for (const m of masters) expect(plain(await m.call('FUNCTION', 'LIST'))).toEqual(plain(await proxy.call('FUNCTION', 'LIST')));
    const a = keyOnGroup(0, 'fa');
    const b = keyOnGroup(1, 'fb');
    expect(await proxy.call('FCALL', 'bump', '1', a, '5')).toBe(5);
    expect(await proxy.call('FCALL', 'bump', '1', b, '7')).toBe(7);
    expect(await proxy.call('FCALL_RO', 'peek', '1', b)).toBe('7');
    expect(((await proxy.call('FCALL_RO', 'bump', '1', b, '1')) as ReplyErrorValue).message).toBe(
      'ERR Can not execute a script with write flag using *_ro command.',
    );
    expect(await masters[0]!.call('GET', a)).toBe('5');
    expect(await masters[1]!.call('GET', b)).toBe('7');
    expect(await masters[0]!.call('EXISTS', b)).toBe(0);
    expect(await proxy.call('FCALL', 'bump', '2', '{t}x', '{t}y', '1')).toBe(1);
  });

  it('keys in several slots get CROSSSLOT; no keys go to slot 0\'s group', async () => {
    const a = keyOnGroup(0, 'c');
    const b = keyOnGroup(1, 'd');
    const cross = (await proxy.call('FCALL', 'bump', '2', a, b, '1')) as ReplyErrorValue;
    const sinter = (await proxy.call('SINTER', a, b)) as ReplyErrorValue;
    expect(cross).toBeInstanceOf(ReplyErrorValue);
    expect(cross.message).toBe(sinter.message);
    expect(await proxy.call('FCALL', 'where', '0')).toBe(await masters[0]!.call('DBSIZE'));
  });

  it('FUNCTION LIST, STATS and DUMP answer one master\'s view; DELETE, FLUSH and RESTORE reach all', async () => {
    expect(plain(await proxy.call('FUNCTION', 'STATS'))).toEqual(plain(await masters[1]!.call('FUNCTION', 'STATS')));
    const dump = (await proxy.call('FUNCTION', 'DUMP')) as string;
    for (const m of masters) expect(await m.call('FUNCTION', 'DUMP')).toBe(dump);
    expect(plain(await proxy.call('FUNCTION', 'DELETE', 'counters'))).toBe('+OK');
    for (const m of masters) expect(await m.call('FUNCTION', 'LIST')).toEqual([]);
    expect(plain(await proxy.call('FUNCTION', 'RESTORE', Buffer.from(dump, 'latin1')))).toBe('+OK');
    for (const m of masters) expect(await m.call('FUNCTION', 'DUMP')).toBe(dump);
    expect(plain(await proxy.call('FUNCTION', 'FLUSH', 'ASYNC'))).toBe('+OK');
    for (const m of masters) expect(await m.call('FUNCTION', 'LIST')).toEqual([]);
    expect(((await proxy.call('FCALL', 'bump', '1', 'k', '1')) as ReplyErrorValue).message).toBe('ERR Function not found');
  });

  it('a fan-out refused by one master answers its error (the other may have applied it)', async () => {
    await masters[1]!.call('FUNCTION', 'LOAD', LIB);
    const err = (await proxy.call('FUNCTION', 'LOAD', LIB)) as ReplyErrorValue;
    expect(err.message).toBe("ERR Library 'counters' already exists");
    // REPLACE makes the fan-out idempotent again.
    expect(await proxy.call('FUNCTION', 'LOAD', 'REPLACE', LIB)).toBe('counters');
    for (const m of masters) expect((await m.call('FUNCTION', 'LIST')) as unknown[]).toHaveLength(1);
    expect(((await proxy.call('FUNCTION', 'DELETE', 'nosuch')) as ReplyErrorValue).message).toBe('ERR Library not found');
  });

  it('a node in cluster mode: no-cluster refused, one slot per run unless allow-cross-slot-keys', async () => {
    const node = await startNode(['--slot-ownership', 'yes']);
    try {
      expect(plain(await callOnce(node.port, 'TESSERA.SLOTS', 'SET', '1', '0-1023', 'OWNED'))).toBe('+OK');
      const code = [
        '#!lua name=slots',
        "redis.register_function('strict', function(keys, args) redis.call('set', keys[1], 'x'); return redis.call('set', args[1], 'y') end)",
        "redis.register_function{function_name='loose', callback=function(keys, args) redis.call('set', keys[1], 'x'); return redis.call('set', args[1], 'y') end, flags={'allow-cross-slot-keys'}}",
        "redis.register_function{function_name='local_only', callback=function() return 1 end, flags={'no-cluster'}}",
      ].join('\n');
      expect(await callOnce(node.port, 'FUNCTION', 'LOAD', code)).toBe('slots');
      expect(plain(await callOnce(node.port, 'FCALL', 'strict', '1', '{a}1', '{a}2'))).toBe('+OK');
      expect(plain(await callOnce(node.port, 'FCALL', 'strict', '1', '{a}1', '{b}2'))).toEqual({
        error: 'ERR Script attempted to access keys that do not hash to the same slot script: strict, on @user_function:2.',
      });
      expect(plain(await callOnce(node.port, 'FCALL', 'loose', '1', '{a}1', '{b}2'))).toBe('+OK');
      expect(plain(await callOnce(node.port, 'EVAL', "redis.call('set', KEYS[1], 'x'); return redis.call('set', ARGV[1], 'y')", '1', '{a}1', '{b}2'))).toBe('+OK');
      expect(plain(await callOnce(node.port, 'FCALL', 'local_only', '0'))).toEqual({ error: "ERR Can not run script on cluster, 'no-cluster' flag is set." });
    } finally {
      await stopAll(node);
    }
  });
});
