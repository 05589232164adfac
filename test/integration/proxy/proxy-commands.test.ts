// Through the proxy: a real cluster (etcd, 2 groups of master + replica, 2 proxies) used by ioredis
// with its default options and by raw sockets. One cluster is shared by this file.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lookupCommand } from '../../../common/commands/table.js';
import { slotOf } from '../../../common/slots.js';
import { CROSS, commandSlot } from '../../../proxy/splitter.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { commandGenerators, fuzzSequences } from '../../helpers/command-fuzz.js';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

let cluster: Cluster;
let a: Redis;
let b: Redis;
const clients: Redis[] = [];

function client(proxyIndex: number, options: Record<string, unknown> = {}): Redis {
  const c = new Redis({ port: cluster.proxies[proxyIndex]!.port, host: '127.0.0.1', lazyConnect: false, ...options });
  clients.push(c);
  return c;
}

/** Keys guaranteed to live on different groups (slots 0-511 → group 1, 512-1023 → group 2). */
function keysOnBothGroups(n: number): string[] {
  const low: string[] = [];
  const high: string[] = [];
  for (let i = 0; low.length < n || high.length < n; i++) {
    const k = `key:${i}`;
    if (slotOf(k) < 512) {
      if (low.length < n) low.push(k);
    } else if (high.length < n) high.push(k);
  }
  return low.flatMap((k, i) => [k, high[i]!]);
}

/** blocked_clients summed over the group masters (read directly from the nodes). */
async function blockedClientsOnNodes(): Promise<number> {
  let total = 0;
  for (const node of cluster.groups) {
    const c = await RawClient.connect(node.port);
    const info = String(await c.call('INFO', 'clients'));
    c.close();
    total += Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 1, proxies: 2, store: 'etcd' });
  a = client(0);
  b = client(1);
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

beforeEach(async () => {
  await a.flushall();
});

describe('proxy data path', () => {
  it('serves ioredis 6 with default options (HELLO 3, CLIENT SETINFO, INFO)', async () => {
    expect(await a.ping()).toBe('PONG');
    expect(await a.set('hello', 'world')).toBe('OK');
    expect(await b.get('hello')).toBe('world');
  });

  it('covers every command family', async () => {
    await a.rpush('l', 'a', 'b', 'c');
    expect(await b.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
    await a.hset('h', 'f', 'v', 'g', 'w');
    expect(await b.hgetall('h')).toEqual({ f: 'v', g: 'w' });
    await a.sadd('s', '1', '2', '3');
    expect((await b.smembers('s')).sort()).toEqual(['1', '2', '3']);
    await a.zadd('z', 1, 'x', 2, 'y');
    // ioredis 6 speaks RESP3: WITHSCORES replies come as [member, score] pairs, as from Redis.
    expect(await b.call('ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toEqual([['x', '1'], ['y', '2']]);
    expect(await a.incrby('n', 5)).toBe(5);
    expect(await b.expire('n', 100)).toBe(1);
    expect(await a.ttl('n')).toBeGreaterThan(90);
    expect(await b.type('h')).toBe('hash');
  });

  it('returns 10 000 pipelined mixed commands in order', async () => {
    const pipe = a.pipeline();
    for (let i = 0; i < 10_000; i++) {
      if (i % 3 === 0) pipe.set(`p:${i}`, String(i));
      else if (i % 3 === 1) pipe.get(`p:${i - 1}`);
      else pipe.incr(`c:${i % 7}`);
    }
    const res = await pipe.exec();
    expect(res).toHaveLength(10_000);
    const counters = new Map<number, number>();
    res!.forEach(([err, value], i) => {
      expect(err).toBeNull();
      if (i % 3 === 0) expect(value).toBe('OK');
      else if (i % 3 === 1) expect(value).toBe(String(i - 1));
      else {
        const k = i % 7;
        counters.set(k, (counters.get(k) ?? 0) + 1);
        expect(value).toBe(counters.get(k));
      }
    });
  });

  it('splits MGET / MSET / DEL / EXISTS across groups and merges in order', async () => {
    const keys = keysOnBothGroups(20);
    expect(new Set(keys.map((k) => slotOf(k) < 512)).size).toBe(2);
    expect(await a.mset(...keys.flatMap((k) => [k, `v-${k}`]))).toBe('OK');
    expect(await b.mget(...keys, 'missing')).toEqual([...keys.map((k) => `v-${k}`), null]);
    expect(await a.exists(...keys, 'missing')).toBe(keys.length);
    expect(await b.del(...keys.slice(0, 10))).toBe(10);
    expect(await a.dbsize()).toBe(keys.length - 10);
  });

  it('refuses multi-key commands across slots with CROSSSLOT and runs them on one slot', async () => {
    await expect(a.rename('{x}1', '{y}2')).rejects.toThrow(/CROSSSLOT Keys in request don't hash to the same slot/);
    await expect(a.sinterstore('dst', 's1', 's2')).rejects.toThrow(/CROSSSLOT/);
    await a.set('{u}a', '1');
    expect(await a.rename('{u}a', '{u}b')).toBe('OK');
    expect(await a.msetnx('{t}1', 'a', '{t}2', 'b')).toBe(1);
    await expect(a.msetnx('k1', 'a', 'k2', 'b')).rejects.toThrow(/CROSSSLOT|^/);
  });

  it('answers COMMAND from the same table as the nodes', async () => {
    const proxy = await RawClient.connect(cluster.proxies[0]!.port);
    const node = await RawClient.connect(cluster.groups[0]!.port);
    for (const cmd of [['COMMAND', 'COUNT'], ['COMMAND', 'INFO', 'get', 'mset', 'zunionstore'], ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2']]) {
      expect(await proxy.call(...cmd)).toEqual(await node.call(...cmd));
    }
    proxy.close();
    node.close();
  });

  it('INFO sums keys and used_memory over the groups and counts blocked clients (what redis-cli --stat reads)', async () => {
    const keys = keysOnBothGroups(5); // 10 keys, 5 on each group
    await a.mset(...keys.flatMap((k) => [k, 'v']));
    const info = String(await a.call('INFO'));
    expect(info).toMatch(/# Clients\r\nconnected_clients:\d+\r\nblocked_clients:0\r\n\r\n# Memory\r\nused_memory:\d+\r\n/);
    expect(info).toContain('db0:keys=10,expires=0');
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    let sum = 0;
    for (const node of cluster.groups) {
      const c = await RawClient.connect(node.port);
      sum += Number(/used_memory:(\d+)/.exec(String(await c.call('INFO', 'memory')))![1]);
      c.close();
    }
    expect(Math.abs(used - sum)).toBeLessThan(sum * 0.2); // the same masters, read moments apart
    expect(String(await a.call('INFO', 'memory'))).toMatch(/^# Memory\r\nused_memory:\d+\r\nused_memory_human:[\d.]+[BKMG]\r\nproxy_used_memory_rss:\d+\r\n\r\n$/);
    const blocker = client(0);
    const popped = blocker.blpop('nolist', 5);
    await waitFor(async () => /blocked_clients:1\r\n/.test(String(await a.call('INFO', 'clients'))), { what: 'the proxy to count its blocked client' });
    await a.rpush('nolist', 'x');
    expect(await popped).toEqual(['nolist', 'x']);
    await waitFor(async () => /blocked_clients:0\r\n/.test(String(await a.call('INFO', 'clients'))), { what: 'the blocked client to be counted out' });
  });

  it('CLIENT LIST takes TYPE and ID as Redis does, over the proxy\'s own clients', async () => {
    const sub = client(0);
    await sub.subscribe('news');
    const me = Number(await a.call('CLIENT', 'ID'));
    const ids = (text: unknown) => String(text).split('\n').filter((l) => l.startsWith('id=')).map((l) => Number(/^id=(\d+)/.exec(l)![1]));
    expect(ids(await a.call('CLIENT', 'LIST'))).toContain(me);
    expect(ids(await a.call('CLIENT', 'LIST', 'ID', String(me), '999999'))).toEqual([me]);
    expect(ids(await a.call('CLIENT', 'LIST', 'TYPE', 'normal'))).toContain(me);
    const pubsub = ids(await a.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    expect(pubsub).toHaveLength(1);
    expect(pubsub).not.toContain(me);
    expect(ids(await a.call('CLIENT', 'LIST', 'TYPE', 'replica'))).toEqual([]);
    await expect(a.call('CLIENT', 'LIST', 'TYPE', 'foo')).rejects.toThrow("ERR Unknown client type 'foo'");
    await expect(a.call('CLIENT', 'LIST', 'ID', 'x')).rejects.toThrow('ERR Invalid client ID');
    await expect(a.call('CLIENT', 'LIST', 'FOO')).rejects.toThrow('ERR syntax error');
    sub.disconnect();
  });

  it('HELLO and AUTH check their arguments as Redis does (names, syntax, then authentication)', async () => {
    const c = await RawClient.connect(cluster.proxies[0]!.port);
    const r = await RawClient.connect(cluster.groups[0]!.port); // a node: Redis's answers
    try {
      for (const cmd of [
        ['HELLO', '2', 'SETNAME', 'a b'], ['HELLO', '2', 'SETNAME', 'ok', 'FOO'], ['HELLO', '2', 'AUTH', 'default'], ['AUTH', 'a', 'b', 'c'],
        ['HELLO', '4'], ['HELLO', 'x'], ['CLIENT', 'GETNAME'],
      ]) {
        expect(await c.call(...cmd), JSON.stringify(cmd)).toEqual(await r.call(...cmd));
      }
      await c.call('HELLO', '2', 'SETNAME', 'fine');
      expect(await c.call('CLIENT', 'GETNAME')).toBe('fine');
    } finally {
      c.close();
      r.close();
    }
  });

  it('answers unknown commands like Redis and never guesses', async () => {
    await expect(a.call('NOSUCHCMD', 'x')).rejects.toThrow("ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ");
    await expect(a.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    // A key without its value (MSET's pairs cut short) is the arity error, as Redis says it, not
    // a piece built past the last argument (found by a differential fuzz: it closed the client).
    for (const args of [['k1', 'v', 'k2', 'v', 'k3'], ['k1', 'v', 'k2'], ['{t}1', 'v', '{t}2']]) {
      await expect(a.call('MSET', ...args)).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
      await expect(a.call('MSETNX', ...args)).rejects.toThrow("ERR wrong number of arguments for 'msetnx' command");
    }
    expect(await a.call('MSET', 'k1', 'v', 'k2', 'v')).toBe('OK');
    expect(await a.ping()).toBe('PONG');
  });

  it('refuses what only a node can answer (MIGRATE, MEMORY STATS, LATENCY HISTOGRAM) with the reason, and stays connected', async () => {
    await a.set('mig', '1');
    await expect(a.call('MIGRATE', '127.0.0.1', String(cluster.groups[0]!.port), 'mig', '0', '1000')).rejects.toThrow(
      "ERR 'migrate' not supported through the proxy (it moves keys to another server): run it against a node",
    );
    await expect(a.call('MEMORY', 'STATS')).rejects.toThrow("ERR 'memory|stats' not supported through the proxy: run it against a node");
    await expect(a.call('LATENCY', 'HISTOGRAM')).rejects.toThrow("ERR 'latency|histogram' not supported through the proxy: run it against a node");
    expect(await a.get('mig')).toBe('1');
  });

  it('SCAN visits every key exactly once on a stable keyspace', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `scan:${i}`);
    for (let i = 0; i < keys.length; i += 500) await a.mset(...keys.slice(i, i + 500).flatMap((k) => [k, '1']));
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await b.scan(cursor, 'COUNT', 100);
      seen.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    expect(seen.length).toBe(keys.length);
    expect(new Set(seen)).toEqual(new Set(keys));
  });

  it('KEYS, DBSIZE, RANDOMKEY and FLUSHALL span all groups', async () => {
    const keys = keysOnBothGroups(5);
    await a.mset(...keys.flatMap((k) => [k, '1']));
    expect((await b.keys('key:*')).sort()).toEqual([...keys].sort());
    expect(await b.dbsize()).toBe(keys.length);
    expect(keys).toContain(await a.randomkey());
    expect(await a.flushall()).toBe('OK');
    expect(await b.dbsize()).toBe(0);
  });

  it('delivers pub/sub across proxies (channels, patterns)', async () => {
    const sub = client(0);
    const got: string[] = [];
    sub.on('message', (ch, msg) => got.push(`${ch}:${msg}`));
    sub.on('pmessage', (pat, ch, msg) => got.push(`${pat}|${ch}:${msg}`));
    await sub.subscribe('news', 'sports');
    await sub.psubscribe('wea*');
    expect(await b.publish('news', 'hello')).toBe(1);
    expect(await b.publish('weather', 'sunny')).toBe(1);
    await waitFor(() => got.length >= 2, { what: 'messages' });
    expect(got.sort()).toEqual(['news:hello', 'wea*|weather:sunny']);
    // (ioredis 6 over RESP3 never settles a bare UNSUBSCRIBE, against real Redis too: just disconnect.)
  });

  it('wakes a BLPOP with a push through another proxy', async () => {
    const blocker = client(0);
    const popped = blocker.blpop('queue', 5);
    await waitFor(async () => (await blockedClientsOnNodes()) === 1, { what: 'BLPOP to block on its node' });
    expect(await b.rpush('queue', 'job-1')).toBeGreaterThanOrEqual(1);
    expect(await popped).toEqual(['queue', 'job-1']);
  });

  it('runs MULTI/EXEC on one slot and refuses a cross-slot transaction', async () => {
    const res = await a.multi().set('{acct}1', '10').incrby('{acct}1', 5).get('{acct}1').exec();
    expect(res).toEqual([[null, 'OK'], [null, 15], [null, '15']]);
    await expect(a.multi().set('{x}1', '1').set('{y}1', '1').exec()).rejects.toThrow(/EXECABORT/);
  });

  it('WATCH aborts EXEC when another proxy changes the key', async () => {
    const w = client(0, { enableAutoPipelining: false });
    await w.set('{w}k', '1');
    await w.watch('{w}k');
    await b.set('{w}k', '2');
    const res = await w.multi().set('{w}k', '3').exec();
    expect(res).toBeNull();
    expect(await a.get('{w}k')).toBe('2');
  });

  it('survives broken RESP from one client while others keep working', async () => {
    const raw = await RawClient.connect(cluster.proxies[0]!.port);
    raw.write('*2\r\n$3\r\nGET\r\n$abc\r\n');
    const reply = await raw.nextReply();
    expect(reply).toMatchObject({ message: 'ERR Protocol error: invalid bulk length' });
    await raw.waitClosed();
    expect(await a.ping()).toBe('PONG');
  });
});

/** A node's `cmdstat_<name>` call count. */
async function calls(port: number, command: string): Promise<number> {
  const c = await RawClient.connect(port);
  const info = String(await c.call('INFO', 'commandstats'));
  c.close();
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('reads from replicas', () => {
  it('serves reads from the slot group\'s replica with read-from-replica = prefer, writes from the master', async () => {
    const proxy = await cluster.startProxy(['--read-from-replica', 'prefer']);
    const c = client(cluster.proxies.indexOf(proxy));
    const key = 'replica-read';
    const group = slotOf(key) < 512 ? 0 : 1;
    const replica = cluster.replicas[group]![0]!;
    expect(await c.set(key, 'v1')).toBe('OK');
    await waitFor(async () => {
      const r = await RawClient.connect(replica.port);
      const v = await r.call('GET', key);
      r.close();
      return v === 'v1';
    }, { what: 'the write to reach the replica' });
    const master = cluster.groups[group]!;
    const [replicaBefore, masterBefore] = [await calls(replica.port, 'get'), await calls(master.port, 'get')];
    expect(await c.get(key)).toBe('v1');
    expect(await calls(replica.port, 'get')).toBe(replicaBefore + 1);
    expect(await calls(master.port, 'get')).toBe(masterBefore);
  });
});

describe('proxy bad input', () => {
  it('refuses oversized and malformed requests with an error and a closed connection', async () => {
    for (const bad of ['*1\r\n$600000000\r\n', '*99999999999\r\n', '*1\r\n+PING\r\n']) {
      const raw = await RawClient.connect(cluster.proxies[1]!.port);
      raw.write(bad);
      const reply = await raw.nextReply();
      expect(reply).toMatchObject({ message: expect.stringMatching(/^ERR Protocol error: /) });
      await raw.waitClosed();
    }
    expect(await b.ping()).toBe('PONG');
  });

  it('disconnects a client that never reads its replies; other clients are unaffected', async () => {
    const value = 'x'.repeat(1024 * 1024);
    await a.set('{big}v', value);
    const raw = await RawClient.connect(cluster.proxies[0]!.port);
    raw.socket.pause(); // never read: replies pile up in the proxy
    const gets = Array.from({ length: 200 }, () => '*2\r\n$3\r\nGET\r\n$6\r\n{big}v\r\n').join('');
    raw.write(gets);
    const closed = new Promise<void>((resolve) => raw.socket.once('close', () => resolve()));
    // Others keep being served while the slow client's replies pile up (and after it is cut).
    for (let i = 0; i < 20; i++) expect(await a.get('hello-other')).toBeNull();
    raw.socket.resume(); // let the socket notice the reset
    await closed;
    expect(await a.ping()).toBe('PONG');
    expect((await a.get('{big}v'))?.length).toBe(value.length);
  });
});

// The node's differential fuzz (test/integration/node/diff-fuzz.test.ts) through the proxy: the
// same seeded sequences against redis-server, with keys of one hash tag (one slot) for commands
// that need their keys together and keys on both groups for the ones the proxy splits (MSET,
// MGET, DEL, EXISTS, TOUCH), so splitting and merging are compared too. A CROSSSLOT refusal
// (a stray argument taken as a key of another slot) ends its sequence, after checking the keys
// really do span slots: from there redis-server, which ran the command, has other data.
/** Whether the keys of these commands (one, or a transaction's) lie in more than one slot. */
function spansSlots(commands: readonly string[][]): boolean {
  const slots = new Set<number>();
  for (const cmd of commands) {
    const slot = commandSlot(lookupCommand(cmd[0]!)!, cmd);
    if (slot === CROSS) return true;
    if (slot >= 0) slots.add(slot);
  }
  return slots.size > 1;
}

describe('random command sequences through the proxy get the same replies as redis-server', () => {
  let redis: ServerHandle;
  let ours: RawClient;
  let theirs: RawClient;
  beforeAll(async () => {
    redis = await startRedis();
    ours = await RawClient.connect(cluster.proxies[0]!.port);
    theirs = await RawClient.connect(redis.port);
  });
  afterAll(async () => {
    ours?.close();
    theirs?.close();
    await stopAll(redis);
  });

  it('300 sequences of 25 commands, fixed seeds', async () => {
    const gens = commandGenerators(['{t}a', '{t}b', '{t}c', '{t}x', '{t}y'], [...keysOnBothGroups(4), '{t}a']);
    delete gens.dbsize; // keyless: refused inside MULTI by the proxy, by design (docs/compatibility.md)
    const run = await fuzzSequences({
      gens,
      sequences: 300,
      length: 25,
      seedBase: 5001,
      reset: async () => {
        for (const c of [ours, theirs]) {
          await c.call('DISCARD');
          await c.call('UNWATCH');
          await c.call('FLUSHALL');
        }
      },
      both: async (cmd) => [plain(await ours.call(...cmd)), plain(await theirs.call(...cmd))],
      endsSequence: (a, b, cmd, tx) => {
        const crossSlot = (x: unknown) => typeof x === 'object' && x !== null && String((x as { error?: string }).error).startsWith('CROSSSLOT');
        if (!crossSlot(a) || crossSlot(b)) return false;
        expect(spansSlots([...(tx ?? []), cmd]), `CROSSSLOT for ${JSON.stringify(cmd)} (in the transaction before it: ${JSON.stringify(tx)})`).toBe(true);
        return true;
      },
    });
    // Most sequences must run to the end, or the comparison says little.
    expect(run.ended).toBeLessThan(run.sequences / 2);
    expect(run.compared).toBeGreaterThan(300 * 25 * 0.6);
    console.log(`proxy fuzz: ${run.compared} commands compared, ${run.ended} of ${run.sequences} sequences ended by a CROSSSLOT refusal`);
  }, 180_000);
});
