// Scripting through the proxy (2 groups, file store): EVAL/EVALSHA go to the group owning their
// declared keys (all in one slot, else CROSSSLOT), a script without keys to slot 0's group;
// SCRIPT LOAD/EXISTS/FLUSH reach every master (EXISTS answers 1 only where all have the script).
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

const INCR = "return redis.call('incrby', KEYS[1], ARGV[1])";

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

describe('scripting through the proxy', () => {
  it('SCRIPT LOAD reaches every master, so EVALSHA runs wherever its key lives', async () => {
    const sha = (await proxy.call('SCRIPT', 'LOAD', INCR)) as string;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    for (const m of masters) expect(await m.call('SCRIPT', 'EXISTS', sha)).toEqual([1]);
    const a = keyOnGroup(0, 'a');
    const b = keyOnGroup(1, 'b');
    expect(await proxy.call('EVALSHA', sha, '1', a, '5')).toBe(5);
    expect(await proxy.call('EVALSHA', sha, '1', b, '7')).toBe(7);
    expect(await proxy.call('EVALSHA_RO', sha, '1', b, '1')).toEqual(expect.any(ReplyErrorValue));
    expect(await masters[0]!.call('GET', a)).toBe('5');
    expect(await masters[1]!.call('GET', b)).toBe('7');
    expect(await proxy.call('EVAL', "return redis.call('get', KEYS[1])", '1', b)).toBe('7');
    expect(await proxy.call('EVAL', "return {KEYS[1], KEYS[2]}", '2', '{t}x', '{t}y')).toEqual(['{t}x', '{t}y']);
  });

  it('keys in several slots get CROSSSLOT, as other multi-key commands', async () => {
    const a = keyOnGroup(0, 'c');
    const b = keyOnGroup(1, 'd');
    const script = (await proxy.call('EVAL', 'return 1', '2', a, b)) as ReplyErrorValue;
    const sinter = (await proxy.call('SINTER', a, b)) as ReplyErrorValue;
    expect(script).toBeInstanceOf(ReplyErrorValue);
    expect(script.message).toBe(sinter.message);
    expect(script.message).toMatch(/^CROSSSLOT /);
  });

  it('a script without keys runs on the group of slot 0', async () => {
    const body = "return 'where-am-i'";
    const sha = (await masters[0]!.call('SCRIPT', 'LOAD', body)) as string;
    expect(await proxy.call('EVALSHA', sha, '0')).toBe('where-am-i');
    expect(((await masters[1]!.call('EVALSHA', sha, '0')) as ReplyErrorValue).message).toMatch(/^NOSCRIPT/);
    // Loaded on one master only: EXISTS through the proxy is the AND over masters.
    expect(await proxy.call('SCRIPT', 'EXISTS', sha, 'ffffffffffffffffffffffffffffffffffffffff')).toEqual([0, 0]);
  });

  it('a node in cluster mode refuses a script touching a key of a slot it does not own', async () => {
    // The test cluster's nodes serve every key (no coordinator here), so this one runs alone.
    const node = await startNode(['--slot-ownership', 'yes']);
    try {
      const foreign = slotOf('f0');
      expect(plain(await callOnce(node.port, 'TESSERA.SLOTS', 'SET', '1', `0-${foreign - 1}`, 'OWNED', `${foreign + 1}-1023`, 'OWNED',
        String(foreign), 'NONE', 'OWNER', '127.0.0.1:1'))).toBe('+OK');
      const local = keyOnGroup(groupOf('f0') === 0 ? 1 : 0, 'e');
      expect(plain(await callOnce(node.port, 'EVAL', "return redis.call('set', KEYS[1], 'x')", '1', local))).toBe('+OK');
      const r = plain(await callOnce(node.port, 'EVAL', "return redis.call('set', ARGV[1], 'x')", '1', local, 'f0')) as { error: string };
      expect(r.error).toMatch(/^ERR Script attempted to access a non local key in a cluster node script: [0-9a-f]{40}, on @user_script:1\.$/);
      expect(plain(await callOnce(node.port, 'EVAL', 'return 1', '1', 'f0'))).toEqual({ error: `MOVED ${foreign} 127.0.0.1:1` });
      expect(await callOnce(node.port, 'DBSIZE')).toBe(1); // only the local key was written
    } finally {
      await stopAll(node);
    }
  });

  it('SCRIPT FLUSH empties every master', async () => {
    const sha = (await proxy.call('SCRIPT', 'LOAD', 'return 2')) as string;
    expect(await proxy.call('SCRIPT', 'EXISTS', sha)).toEqual([1]);
    expect(await proxy.call('SCRIPT', 'FLUSH')).toEqual(expect.objectContaining({ value: 'OK' }));
    for (const m of masters) expect(await m.call('SCRIPT', 'EXISTS', sha)).toEqual([0]);
    expect(((await proxy.call('SCRIPT', 'FLUSH', 'BAD')) as ReplyErrorValue).message).toBe('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  });
});
