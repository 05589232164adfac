// Streams through the proxy (2 groups): XADD/XRANGE go to the group owning the key; XREAD BLOCK
// waits on the proxy's blocking path and is woken by an XADD another client sends through the
// proxy; XREAD over keys in several slots gets CROSSSLOT. Consumer groups: XGROUP/XREADGROUP/XACK/
// XPENDING/XCLAIM/XINFO reach the owning group, XREADGROUP BLOCK waits on the blocking path too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { RawClient } from '../../helpers/raw-client.js';

let cluster: Cluster;
let proxy: RawClient;
let writer: RawClient;
const masters: RawClient[] = [];

/** The index (0 or 1) of the group owning a key's slot: slots split evenly, 0-511 and 512-1023. */
const groupOf = (key: string) => (slotOf(key) < 512 ? 0 : 1);

function keyOnGroup(g: number, prefix: string): string {
  for (let i = 0; ; i++) if (groupOf(`${prefix}${i}`) === g) return `${prefix}${i}`;
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 0, proxies: 1, store: 'file' });
  proxy = await RawClient.connect(cluster.proxies[0]!.port);
  writer = await RawClient.connect(cluster.proxies[0]!.port);
  for (const g of cluster.groups) masters.push(await RawClient.connect(g.port));
});

afterAll(async () => {
  proxy?.close();
  writer?.close();
  for (const c of masters) c.close();
  await cluster?.stop();
});

describe('streams through the proxy', () => {
  it('XADD / XRANGE / XLEN reach the group owning the key', async () => {
    for (const g of [0, 1]) {
      const key = keyOnGroup(g, 's');
      expect(await proxy.call('XADD', key, '1-1', 'f', 'v')).toBe('1-1');
      expect(await proxy.call('XADD', key, 'MAXLEN', '~', '10', '*', 'f', 'w')).toMatch(/^\d+-0$/);
      expect(await proxy.call('XLEN', key)).toBe(2);
      expect(await proxy.call('XRANGE', key, '-', '1-1')).toEqual([['1-1', ['f', 'v']]]);
      expect(await masters[g]!.call('XLEN', key)).toBe(2);
      expect(await masters[1 - g]!.call('EXISTS', key)).toBe(0);
    }
  });

  it('XREAD BLOCK through the proxy is woken by an XADD from another client', async () => {
    const key = keyOnGroup(1, 'w');
    await proxy.call('XADD', key, '1-0', 'f', 'old');
    const started = Date.now();
    const read = proxy.call('XREAD', 'BLOCK', '10000', 'STREAMS', key, '$');
    // Wait until the node holds the reader blocked, then write from another proxy client.
    const deadline = Date.now() + 5000;
    while (((await masters[1]!.call('CLIENT', 'LIST')) as string).split('cmd=xread').length < 2) {
      if (Date.now() > deadline) throw new Error('the reader never blocked on the node');
    }
    expect(await writer.call('XADD', key, '2-0', 'f', 'new')).toBe('2-0');
    expect(await read).toEqual([[key, [['2-0', ['f', 'new']]]]]);
    expect(Date.now() - started).toBeLessThan(5000);
    // The client's next command still works after the blocking one.
    expect(await proxy.call('XLEN', key)).toBe(2);
    expect(await proxy.call('XREAD', 'BLOCK', '50', 'STREAMS', key, '$')).toBeNull();
  });

  it('XREAD / XREADGROUP without BLOCK need no blocking link (a proxy whose one blocking link is taken still answers them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-streams-'));
    writeFileSync(join(dir, 'proxy.toml'), 'backend-blocking-links = 1\n');
    const narrow = await cluster.startProxy(['--config', join(dir, 'proxy.toml')]);
    const [blocked, other] = [await RawClient.connect(narrow.port), await RawClient.connect(narrow.port)];
    try {
      const key = keyOnGroup(0, 'nb');
      expect(await other.call('XADD', key, '1-0', 'f', 'v')).toBe('1-0');
      expect(await other.call('XGROUP', 'CREATE', key, 'g', '0')).toEqual(new SimpleString('OK'));
      const waiting = blocked.call('XREAD', 'BLOCK', '0', 'STREAMS', keyOnGroup(0, 'never'), '$');
      const deadline = Date.now() + 5000;
      while (((await masters[0]!.call('CLIENT', 'LIST')) as string).split('cmd=xread ').length < 2) {
        if (Date.now() > deadline) throw new Error('the reader never blocked on the node');
      }
      // The proxy's only blocking link to group 1 is held: these must not wait for it.
      expect(await other.call('XREAD', 'COUNT', '5', 'STREAMS', key, '0')).toEqual([[key, [['1-0', ['f', 'v']]]]]);
      expect(await other.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '5', 'STREAMS', key, '>')).toEqual([[key, [['1-0', ['f', 'v']]]]]);
      expect(await other.call('XPENDING', key, 'g')).toEqual([1, '1-0', '1-0', [['c1', '1']]]);
      blocked.close();
      await waiting.catch(() => null);
    } finally {
      blocked.close();
      other.close();
      await narrow.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('XREAD over keys in several slots gets CROSSSLOT', async () => {
    const reply = (await proxy.call('XREAD', 'STREAMS', keyOnGroup(0, 'x'), keyOnGroup(1, 'y'), '0', '0')) as ReplyErrorValue;
    expect(reply).toBeInstanceOf(ReplyErrorValue);
    expect(reply.message).toMatch(/^CROSSSLOT /);
    expect(await proxy.call('XREAD', 'STREAMS', '{t}a', '{t}b', '0', '0')).toBeNull();
  });

  it('consumer groups through the proxy: commands reach the owning group, XREADGROUP BLOCK is woken, CROSSSLOT', async () => {
    for (const g of [0, 1]) {
      const key = keyOnGroup(g, 'cg');
      expect(await proxy.call('XGROUP', 'CREATE', key, 'grp', '$', 'MKSTREAM')).toEqual(new SimpleString('OK'));
      expect(await proxy.call('XADD', key, '1-0', 'f', 'a')).toBe('1-0');
      expect(await proxy.call('XREADGROUP', 'GROUP', 'grp', 'c1', 'STREAMS', key, '>')).toEqual([[key, [['1-0', ['f', 'a']]]]]);
      expect(await proxy.call('XPENDING', key, 'grp')).toEqual([1, '1-0', '1-0', [['c1', '1']]]);
      expect(await proxy.call('XCLAIM', key, 'grp', 'c2', '0', '1-0', 'JUSTID')).toEqual(['1-0']);
      expect(await proxy.call('XACK', key, 'grp', '1-0')).toBe(1);
      expect((await proxy.call('XINFO', 'GROUPS', key) as unknown[]).length).toBe(1);
      expect(await masters[g]!.call('XINFO', 'CONSUMERS', key, 'grp')).toHaveLength(2);
      expect(await masters[1 - g]!.call('EXISTS', key)).toBe(0);
    }
    const key = keyOnGroup(0, 'cgw');
    await proxy.call('XGROUP', 'CREATE', key, 'grp', '$', 'MKSTREAM');
    const read = proxy.call('XREADGROUP', 'GROUP', 'grp', 'sleeper', 'BLOCK', '10000', 'STREAMS', key, '>');
    const deadline = Date.now() + 5000;
    while (((await masters[0]!.call('CLIENT', 'LIST')) as string).split('cmd=xreadgroup').length < 2) {
      if (Date.now() > deadline) throw new Error('the group reader never blocked on the node');
    }
    expect(await writer.call('XADD', key, '5-0', 'f', 'new')).toBe('5-0');
    expect(await read).toEqual([[key, [['5-0', ['f', 'new']]]]]);
    expect(await proxy.call('XPENDING', key, 'grp')).toEqual([1, '5-0', '5-0', [['sleeper', '1']]]);
    expect(await proxy.call('XREADGROUP', 'GROUP', 'grp', 'sleeper', 'BLOCK', '50', 'STREAMS', key, '>')).toBeNull();
    const cross = (await proxy.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', keyOnGroup(0, 'x'), keyOnGroup(1, 'y'), '>', '>')) as ReplyErrorValue;
    expect(cross).toBeInstanceOf(ReplyErrorValue);
    expect(cross.message).toMatch(/^CROSSSLOT /);
  });
});
