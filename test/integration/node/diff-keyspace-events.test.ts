// Keyspace notifications of every command family: our node vs redis-server 7.0.15. A subscriber on
// `__key*__:*` on each server; the same commands on both; the (pattern, channel, message) lists
// they receive must be equal — event names, classes, channels, db numbers and order. Covers KEA
// and partial settings, lazy and active expiry, eviction, MULTI/EXEC, Lua, served blocking pops,
// db 0 and other dbs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

type Cmd = Array<string | number>;
const END = '__keyspace@0__:end-of-events';

describe('keyspace notifications match redis-server 7.0', () => {
  const p = usePair(['--enable-debug-command', 'yes']); // DEBUG SET-ACTIVE-EXPIRE for lazy expiry
  /** Per server: [subscriber, second client for blocking pops]. */
  let ours: RawClient[] = [];
  let redis: RawClient[] = [];
  beforeAll(async () => {
    ours = await Promise.all([0, 1].map(() => RawClient.connect(p.node.port)));
    redis = await Promise.all([0, 1].map(() => RawClient.connect(p.redisServer.port)));
    const [a, b] = await Promise.all([ours[0]!, redis[0]!].map((c) => c.call('PSUBSCRIBE', '__key*__:*')));
    expect(plain(a!)).toEqual(plain(b!));
  });
  afterAll(() => {
    for (const c of [...ours, ...redis]) c.close();
  });
  beforeEach(async () => {
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
    await p.both('SELECT', '0');
    await p.both('FLUSHALL');
    await p.both('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await collect(); // nothing left over from an earlier test
  });

  /** Every [pattern, channel, message] each subscriber got until a sentinel PUBLISH. */
  async function collect(): Promise<[unknown[], unknown[]]> {
    await p.both('PUBLISH', END, 'done');
    const out: unknown[][] = [];
    for (const c of [ours[0]!, redis[0]!]) {
      const events: unknown[] = [];
      for (let i = 0; i < 100_000; i++) {
        const m = plain((await c.nextReply()) as Reply) as string[];
        if (m[2] === END) break;
        events.push(m.slice(1));
      }
      out.push(events);
    }
    return out as [unknown[], unknown[]];
  }

  /** Sets notify-keyspace-events on both, runs `commands` (same replies), returns both event lists. */
  async function eventsOf(flags: string, ...commands: Cmd[]): Promise<unknown[]> {
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', flags);
    await p.same(...commands);
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
    await p.both('SELECT', '0');
    const [a, b] = await collect();
    expect(a, `events with ${flags}`).toEqual(b);
    return a;
  }

  const ev = (db: number, event: string, key: string): unknown[] => ['__key*__:*', `__keyevent@${db}__:${event}`, key];
  const ks = (db: number, key: string, event: string): unknown[] => ['__key*__:*', `__keyspace@${db}__:${key}`, event];

  it('string and generic commands (KEA, then with n)', async () => {
    const strings: Cmd[] = [
      ['SET', 's1', 'v'], ['SET', 's1', 'v', 'EX', '100'], ['SET', 's1', 'w', 'GET'], ['SET', 's1', 'x', 'NX'], ['SET', 'sx', 'x', 'XX'],
      ['SET', 's1', 'y', 'XX', 'KEEPTTL'], ['SETNX', 's1', 'x'], ['SETNX', 's2', 'x'], ['SETEX', 's3', '100', 'v'], ['PSETEX', 's3', '100000', 'v'],
      ['GETSET', 's3', 'w'], ['GETSET', 's4', 'w'], ['MSET', 'm1', 'a', 'm2', 'b'], ['MSETNX', 'm1', 'a', 'm3', 'c'], ['MSETNX', 'm4', 'a', 'm5', 'b'],
      ['APPEND', 's1', 'x'], ['APPEND', 's9', 'y'], ['SETRANGE', 's1', '0', 'zz'], ['SETRANGE', 's10', '0', ''], ['SETRANGE', 's1', '0', ''], ['SETRANGE', 's11', '2', 'q'],
      ['INCR', 'i'], ['DECR', 'i'], ['INCRBY', 'i', '5'], ['DECRBY', 'i', '2'], ['INCRBYFLOAT', 'f', '1.5'], ['INCR', 's1'], ['INCRBYFLOAT', 's1', '1'],
      ['GETDEL', 's2'], ['GETDEL', 'nokey'], ['GET', 's1'], ['MGET', 's1', 'nokey'], ['STRLEN', 's1'], ['GETRANGE', 's1', '0', '1'],
      ['GETEX', 's1', 'EX', '100'], ['GETEX', 's1', 'PERSIST'], ['GETEX', 's1', 'PERSIST'], ['GETEX', 's1'], ['GETEX', 's1', 'PXAT', '1'],
      ['SETBIT', 'b', '7', '1'], ['SETBIT', 'b', '7', '1'], ['SETBIT', 'b', '7', '0'], ['BITFIELD', 'b2', 'SET', 'u8', '0', '255'], ['BITFIELD', 'b2', 'GET', 'u8', '0'],
      ['BITOP', 'AND', 'bo', 'b', 'b2'], ['BITOP', 'AND', 'bo', 'nokey'], ['BITCOUNT', 'b'],
      ['PFADD', 'h1', 'a', 'b'], ['PFADD', 'h1', 'a'], ['PFADD', 'h0'], ['PFMERGE', 'h2', 'h1'], ['PFMERGE', 'h2', 'h1'], ['PFCOUNT', 'h1'],
    ];
    const generic: Cmd[] = [
      ['DEL', 'm1', 'nokey', 'm2'], ['UNLINK', 'm3', 'nokey'], ['EXPIRE', 'm4', '100'], ['PEXPIRE', 'm4', '100000', 'NX'], ['EXPIRE', 'm4', '200', 'GT'],
      ['EXPIREAT', 'm4', '9999999999'], ['PEXPIREAT', 'm4', '9999999999000'], ['EXPIRE', 'nokey', '100'], ['PERSIST', 'm4'], ['PERSIST', 'm4'], ['EXPIRE', 'm4', '-1'],
      ['SET', 'r1', 'x'], ['RENAME', 'r1', 'r2'], ['SET', 'r3', 'y'], ['RENAME', 'r2', 'r3'], ['RENAME', 'r3', 'r3'], ['RENAMENX', 'r3', 'm5'], ['RENAMENX', 'r3', 'r4'],
      ['MOVE', 'r4', '3'], ['MOVE', 'nokey', '3'], ['SET', 'r4', 'z'], ['MOVE', 'r4', '3'],
      ['COPY', 'm5', 'c1'], ['COPY', 'm5', 'c1'], ['COPY', 'm5', 'c1', 'REPLACE'], ['COPY', 'm5', 'c2', 'DB', '4'],
      ['RPUSH', 'sl', '3', '1', '2'], ['SORT', 'sl', 'STORE', 'sd'], ['SORT', 'sl', 'STORE', 'sd'], ['SORT', 'nokey', 'STORE', 'sd'], ['SORT', 'nokey', 'STORE', 'sd'],
      ['SET', 'x1', 'v'], ['EXISTS', 'x1'], ['TYPE', 'x1'], ['TOUCH', 'x1'], ['TTL', 'x1'],
      ['SELECT', '3'], ['SET', 'x', '1'], ['EXPIRE', 'x', '100'], ['DEL', 'x'], ['SELECT', '0'],
      ['SWAPDB', '0', '3'], ['SWAPDB', '0', '3'], ['FLUSHDB'], ['SET', 'y', '1'], ['FLUSHALL'],
    ];
    const kea = await eventsOf('KEA', ...strings, ...generic);
    for (const e of [ev(0, 'set', 's1'), ev(0, 'expire', 's1'), ev(0, 'incrby', 'i'), ev(0, 'incrbyfloat', 'f'), ev(0, 'append', 's9'), ev(0, 'setrange', 's11'),
      ev(0, 'setbit', 'b2'), ev(0, 'pfadd', 'h2'), ev(0, 'persist', 's1'), ev(0, 'del', 'm1'), ev(0, 'rename_from', 'r1'), ev(0, 'rename_to', 'r3'),
      ev(3, 'move_to', 'r4'), ev(0, 'move_from', 'r4'), ev(4, 'copy_to', 'c2'), ev(0, 'sortstore', 'sd'), ev(3, 'expire', 'x'), ks(0, 'sd', 'del')]) {
      expect(kea, JSON.stringify(e)).toContainEqual(e);
    }
    // 'n' (not part of A): keys created by each path.
    const n = await eventsOf('KEAn', ...strings, ...generic);
    expect(n).toContainEqual(ev(0, 'new', 's1'));
    expect(n).toContainEqual(ev(3, 'new', 'r4'));
    expect(n.length).toBeGreaterThan(kea.length);
  });

  it('DUMP / RESTORE fire restore (and del when an expired TTL replaces a key)', async () => {
    await p.both('SET', 'src', 'value');
    const payload = (await p.redis.call('DUMP', 'src')) as string;
    await p.both('SET', 'old', 'x');
    const got = await eventsOf('KEAn', ['RESTORE', 'rk', '0', payload], ['RESTORE', 'rk', '0', payload, 'REPLACE'], ['RESTORE', 'old', '1', payload, 'REPLACE', 'ABSTTL'],
      ['RESTORE', 'rk2', '100000', payload]);
    expect(got).toContainEqual(ev(0, 'restore', 'rk'));
    expect(got).toContainEqual(ev(0, 'del', 'old'));
  });

  it('list, hash, set and zset commands (KEA)', async () => {
    const lists: Cmd[] = [
      ['LPUSH', 'l', 'a', 'b', 'c'], ['RPUSH', 'l', 'd'], ['LPUSHX', 'nol', 'a'], ['RPUSHX', 'l', 'e'], ['LINSERT', 'l', 'BEFORE', 'a', 'x'],
      ['LINSERT', 'l', 'BEFORE', 'zz', 'x'], ['LSET', 'l', '0', 'y'], ['LREM', 'l', '1', 'y'], ['LREM', 'l', '1', 'nothere'], ['LTRIM', 'l', '0', '3'],
      ['LTRIM', 'l', '0', '-1'], ['LPOP', 'l'], ['RPOP', 'l', '2'], ['LPOP', 'l', '0'], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'l2', 'l2'],
      ['RPOPLPUSH', 'l2', 'l3'], ['LPUSH', 'l3', 'q', 'r'], ['LMPOP', '1', 'l3', 'LEFT', 'COUNT', '5'], ['RPUSH', 'bl', 'a'], ['BLPOP', 'bl', '1'],
      ['RPUSH', 'bm', 'a'], ['BLMOVE', 'bm', 'bn', 'RIGHT', 'LEFT', '1'], ['LTRIM', 'bn', '1', '0'], ['LRANGE', 'l', '0', '-1'], ['LLEN', 'l'],
    ];
    const hashes: Cmd[] = [
      ['HSET', 'h', 'f', 'v', 'g', 'w'], ['HSET', 'h', 'f', 'v'], ['HSETNX', 'h', 'f', 'x'], ['HSETNX', 'h', 'n', 'x'], ['HDEL', 'h', 'nope'],
      ['HDEL', 'h', 'f', 'g', 'n'], ['HINCRBY', 'hi', 'f', '1'], ['HINCRBYFLOAT', 'hi', 'g', '1.5'], ['HMSET', 'hm', 'a', '1'], ['HGET', 'hm', 'a'], ['HGETALL', 'hm'],
    ];
    const sets: Cmd[] = [
      ['SADD', 'st', 'a', 'b'], ['SADD', 'st', 'a'], ['SREM', 'st', 'nope'], ['SREM', 'st', 'a'], ['SMOVE', 'st', 'st2', 'b'], ['SMOVE', 'st2', 'st2', 'b'],
      ['SADD', 'st', 'b', 'c'], ['SMOVE', 'st', 'st2', 'b'], ['SMOVE', 'st', 'st2', 'nope'], ['SADD', 'st3', 'x'], ['SPOP', 'st3'], ['SADD', 'st3', '1', '2'],
      ['SPOP', 'st3', '0'], ['SPOP', 'st3', '5'], ['SPOP', 'nokey'], ['SRANDMEMBER', 'st2'], ['SADD', 'u1', '1', '2'], ['SADD', 'u2', '2', '3'],
      ['SINTERSTORE', 'd', 'u1', 'u2'], ['SUNIONSTORE', 'd', 'u1', 'u2'], ['SDIFFSTORE', 'd', 'u1', 'u1'], ['SINTERSTORE', 'd', 'nokey', 'u1'],
      ['SDIFFSTORE', 'd2', 'u1', 'u2'], ['SINTERSTORE', 'd2', 'nokey', 'u1'], ['SMEMBERS', 'u1'], ['SINTERCARD', '2', 'u1', 'u2'],
    ];
    const zsets: Cmd[] = [
      ['ZADD', 'z', '1', 'a', '2', 'b'], ['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'CH', '3', 'a'], ['ZADD', 'z', 'INCR', '1', 'a'], ['ZINCRBY', 'z', '1', 'b'],
      ['ZADD', 'z', 'XX', '1', 'nomember'], ['ZADD', 'nz', 'XX', '1', 'a'], ['ZADD', 'z', 'GT', '0', 'a'], ['ZREM', 'z', 'nope'], ['ZREM', 'z', 'a'],
      ['ZADD', 'z', '1', 'c', '2', 'd', '3', 'e', '4', 'f'], ['ZREMRANGEBYSCORE', 'z', '1', '1'], ['ZREMRANGEBYSCORE', 'z', '100', '200'], ['ZREMRANGEBYRANK', 'z', '0', '0'],
      ['ZADD', 'zl', '0', 'a', '0', 'b', '0', 'c'], ['ZREMRANGEBYLEX', 'zl', '[a', '[b'], ['ZREMRANGEBYLEX', 'zl', '-', '+'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '10'],
      ['ZPOPMIN', 'nokey'], ['ZADD', 'za', '1', 'x', '2', 'y'], ['ZADD', 'zb', '2', 'y', '3', 'w'], ['ZUNIONSTORE', 'zd', '2', 'za', 'zb'],
      ['ZINTERSTORE', 'zd', '2', 'za', 'zb'], ['ZDIFFSTORE', 'zd2', '2', 'za', 'zb'], ['ZDIFFSTORE', 'zd', '2', 'za', 'za'], ['ZDIFFSTORE', 'zd', '2', 'za', 'za'], ['ZRANGESTORE', 'zr', 'za', '0', '-1'],
      ['ZRANGESTORE', 'zr', 'za', '5', '6'], ['ZMPOP', '1', 'za', 'MIN'], ['BZPOPMAX', 'zb', '1'], ['BZMPOP', '1', '1', 'zb', 'MIN', 'COUNT', '9'],
      ['ZRANGE', 'za', '0', '-1'], ['ZSCORE', 'za', 'y'], ['ZRANDMEMBER', 'za'],
      ['GEOADD', 'g', '13.361389', '38.115556', 'p1'], ['GEOADD', 'g', '13.361389', '38.115556', 'p1'],
      ['GEOSEARCHSTORE', 'gs', 'g', 'FROMLONLAT', '13', '38', 'BYRADIUS', '500', 'km'], ['GEORADIUS', 'g', '13', '38', '500', 'km', 'STORE', 'gr'],
      ['GEOSEARCHSTORE', 'gs', 'g', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'], ['GEOSEARCHSTORE', 'gs', 'nokey', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
      ['GEORADIUS', 'nokey', '13', '38', '500', 'km', 'STORE', 'gr'],
    ];
    const got = await eventsOf('KEA', ...lists, ...hashes, ...sets, ...zsets);
    for (const e of [ev(0, 'lpush', 'l'), ev(0, 'linsert', 'l'), ev(0, 'lset', 'l'), ev(0, 'lrem', 'l'), ev(0, 'ltrim', 'l'), ev(0, 'rpop', 'l'),
      ev(0, 'del', 'l2'), ev(0, 'hset', 'h'), ev(0, 'hdel', 'h'), ev(0, 'hincrbyfloat', 'hi'), ev(0, 'srem', 'st'),
      ev(0, 'spop', 'st3'), ev(0, 'sdiffstore', 'd2'), ev(0, 'zincr', 'z'), ev(0, 'zremrangebylex', 'zl'), ev(0, 'zpopmax', 'z'), ev(0, 'zdiffstore', 'zd2'),
      ev(0, 'zrangestore', 'zr'), ev(0, 'geosearchstore', 'gs'), ev(0, 'georadiusstore', 'gr')]) {
      expect(got, JSON.stringify(e)).toContainEqual(e);
    }
    // The same with 'n' and in another db.
    const n = await eventsOf('KEAn', ['SELECT', '5'], ...lists, ...hashes, ...sets, ...zsets);
    expect(n).toContainEqual(ev(5, 'new', 'l2'));
    expect(n).toContainEqual(ev(5, 'new', 'gs'));
  });

  it('partial settings: Kx, El, E$g, Kh, Es, Ez, KEn, KEm-less reads', async () => {
    const mixed: Cmd[] = [
      ['SET', 'a', '1'], ['EXPIRE', 'a', '100'], ['INCR', 'a'], ['LPUSH', 'l', 'x'], ['RPOP', 'l'], ['HSET', 'h', 'f', 'v'], ['HDEL', 'h', 'f'],
      ['SADD', 's', 'm'], ['SREM', 's', 'm'], ['ZADD', 'z', '1', 'm'], ['ZREM', 'z', 'm'], ['DEL', 'a'], ['GET', 'nokey'], ['SET', 'b', '1', 'PXAT', '1'],
    ];
    let total = 0;
    for (const flags of ['Kx', 'El', 'E$g', 'Kh', 'Es', 'Ez', 'KEn', 'Kg', 'E', 'g$lshz']) total += (await eventsOf(flags, ...mixed)).length;
    expect(total).toBeGreaterThan(20);
  });

  it('keymiss (m) on read misses of read-only commands, not part of A', async () => {
    await p.both('SET', 'here', 'v');
    const reads: Cmd[] = [
      ['GET', 'nokey'], ['GET', 'here'], ['MGET', 'here', 'nokey', 'nokey', 'other'], ['HGET', 'nokey', 'f'], ['LRANGE', 'nokey', '0', '-1'],
      ['SMEMBERS', 'nokey'], ['ZSCORE', 'nokey', 'm'], ['EXISTS', 'nokey', 'here'], ['TYPE', 'nokey'], ['TTL', 'nokey'], ['STRLEN', 'nokey'],
      ['DUMP', 'nokey'], ['OBJECT', 'ENCODING', 'nokey'], ['GETRANGE', 'nokey', 'x', '1'], ['LLEN', 'here'], ['SELECT', '4'], ['GET', 'in4'], ['SELECT', '0'],
      ['DEL', 'inmulti'], ['MULTI'], ['GET', 'inmulti'], ['SET', 'inmulti', '1'], ['GET', 'inmulti'], ['EXEC'],
      ['EVAL', "redis.call('GET', KEYS[1]); return redis.call('HGET', KEYS[2], 'f')", '2', 'lua1', 'lua2'],
    ];
    const m = await eventsOf('KEAm', ...reads);
    expect(m).toContainEqual(ev(0, 'keymiss', 'other'));
    expect(m).toContainEqual(ev(4, 'keymiss', 'in4'));
    expect(m).toContainEqual(ev(0, 'keymiss', 'lua2'));
    // Write commands whose source reads notify in Redis (lookupKeyRead) and ones whose do not.
    await p.both('SET', 'd', 'x');
    const writes = await eventsOf('KEAm', ['COPY', 'nk1', 'x'], ['GETEX', 'nk2'], ['GETEX', 'nk3', 'EX', '10'], ['GETEX', 'nk3', 'BAD'], ['BITOP', 'AND', 'd', 'nk4', 'nk4b'],
      ['PFCOUNT', 'nk5', 'nk5b'], ['SORT', 'nk9', 'STORE', 'd'], ['SORT', 'nk9'], ['SORT_RO', 'nk9'], ['SET', 'd', 'x'], ['ZRANGESTORE', 'd', 'nk10', '0', '-1'],
      ['SET', 'd', 'x'], ['SINTERSTORE', 'd', 'nk11', 'nk11b'], ['SET', 'd', 'x'], ['ZUNIONSTORE', 'd', '2', 'nk12', 'nk12b'], ['ZINTERSTORE', 'd', '2', 'nk12', 'nk12b'],
      ['ZDIFFSTORE', 'd', '2', 'nk12', 'nk12b'], ['SUNIONSTORE', 'd', 'nk15', 'nk15b'], ['SDIFFSTORE', 'd', 'nk15', 'nk15b'], ['GETDEL', 'nk18'], ['GETSET', 'nk23', 'v'],
      ['SET', 'nk32', 'v', 'GET'], ['SET', 'nk33', 'v', 'NX', 'GET'], ['SINTER', 'nk35', 'nk35b'], ['SUNION', 'nk35', 'nk35b'], ['ZUNION', '2', 'nk36', 'nk36b'],
      ['LMOVE', 'nk13', 'd', 'LEFT', 'LEFT'], ['LPOP', 'nk16'], ['SMOVE', 'nk17', 'd', 'm'], ['EXPIRE', 'nk24', '10'], ['DEL', 'nk25'], ['PERSIST', 'nk26'],
      ['MOVE', 'nk27', '1'], ['PFADD', 'nk31'], ['RPOPLPUSH', 'nk42', 'd2'], ['LPUSHX', 'nk43', 'a'], ['HDEL', 'nk44', 'f'], ['ZREM', 'nk45', 'm'],
      ['GEORADIUS', 'nk7', '0', '0', '1', 'km', 'STORE', 'd'], ['GEOSEARCHSTORE', 'd', 'nk8', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
      ['GEORADIUS', 'nk7', '0', '0', '1', 'km'], ['GEORADIUSBYMEMBER', 'nk7', 'm', '1', 'km'], ['GEOSEARCH', 'nk8', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
      ['BITFIELD', 'nk41', 'GET', 'u8', '0'], ['BITFIELD', 'nk41b', 'SET', 'u8', '0', '1'], ['PFMERGE', 'nk6d', 'nk6', 'nk6b'], ['PFMERGE', 'nk6d', 'nk6']);
    expect(writes).toContainEqual(ev(0, 'keymiss', 'nk1'));
    expect(writes).toContainEqual(ev(0, 'keymiss', 'nk12b'));
    const keyevents = m.filter((e) => String((e as string[])[1]).startsWith('__keyevent@0__:keymiss'));
    expect(await eventsOf('Em', ...reads)).toContainEqual(ev(0, 'keymiss', 'lua1'));
    expect(keyevents.length).toBeGreaterThan(10);
    expect(await eventsOf('KEA', ...reads)).toContainEqual(ev(0, 'set', 'inmulti'));
  });

  it('MULTI/EXEC and Lua scripts fire the events of the commands they run, in order', async () => {
    const got = await eventsOf('KEA',
      ['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['LPUSH', 'q', 'x'], ['RPOP', 'q'], ['SELECT', '2'], ['HSET', 'h', 'f', 'v'], ['EXEC'],
      ['SELECT', '0'],
      ['EVAL', "redis.call('SET', KEYS[1], '1', 'EX', '100'); redis.call('HSET', KEYS[2], 'f', 'v'); redis.call('HDEL', KEYS[2], 'f'); redis.call('ZADD', KEYS[3], 1, 'm'); return redis.call('DEL', KEYS[1])", '3', 'la', 'lb', 'lc'],
      ['EVAL', "redis.call('SELECT', 6); redis.call('SADD', KEYS[1], 'x'); return redis.call('SPOP', KEYS[1])", '1', 'ld'],
    );
    expect(got).toContainEqual(ev(2, 'hset', 'h'));
    expect(got).toContainEqual(ev(6, 'spop', 'ld'));
    expect(got).toContainEqual(ev(0, 'del', 'lb'));
  });

  it('expired from lazy and active expiry, and expiry met by a write', async () => {
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    // Lazy: active expiry off; the poll's EXISTS finds the key expired.
    await p.both('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await p.same(['SET', 'lazy', 'v', 'PX', '30'], ['SELECT', '7'], ['SET', 'lazy7', 'v', 'PX', '30'], ['SELECT', '0']);
    for (const c of [p.ours, p.redis]) await waitFor(async () => (await c.call('EXISTS', 'lazy')) === 0, { timeoutMs: 5000, what: 'lazy expiry' });
    // A write over an expired key: expired, then the command's own events.
    const at = Date.now() + 40;
    await p.same(['SET', 'w', 'v', 'PXAT', at], ['HSET', 'wh', 'f', 'v'], ['PEXPIREAT', 'wh', at]);
    await waitFor(() => Date.now() > at + 5, { what: 'the deadline to pass' });
    await p.same(['SET', 'w', 'again'], ['HSET', 'wh', 'g', 'v'], ['SELECT', '7'], ['GET', 'lazy7'], ['SELECT', '0']);
    // Active: the cycle removes it while nobody reads it (DBSIZE does not expire keys).
    await p.both('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await p.both('FLUSHALL');
    await p.same(['SELECT', '9'], ['SET', 'active', 'v', 'PX', '30'], ['SELECT', '0']);
    for (const c of [p.ours, p.redis]) {
      await c.call('SELECT', '9');
      await waitFor(async () => (await c.call('DBSIZE')) === 0, { timeoutMs: 5000, what: 'active expiry' });
      await c.call('SELECT', '0');
    }
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
    const [a, b] = await collect();
    expect(a).toEqual(b);
    expect(a).toContainEqual(ev(0, 'expired', 'lazy'));
    expect(a).toContainEqual(ev(7, 'expired', 'lazy7'));
    expect(a).toContainEqual(ev(0, 'expired', 'wh'));
    expect(a).toContainEqual(ev(9, 'expired', 'active'));
  });

  it('evicted under maxmemory', async () => {
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    await p.same(['SELECT', '2'], ['SET', 'victim', 'v'], ['SELECT', '0']);
    try {
      await p.both('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      await p.both('CONFIG', 'SET', 'maxmemory', '1');
      for (const c of [p.ours, p.redis]) {
        await c.call('SELECT', '2');
        await waitFor(async () => (await c.call('DBSIZE')) === 0, { timeoutMs: 5000, what: 'eviction' });
        await c.call('SELECT', '0');
      }
    } finally {
      await p.both('CONFIG', 'SET', 'maxmemory', '0');
      await p.both('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
    const [a, b] = await collect();
    expect(a).toEqual(b);
    expect(a).toContainEqual(ev(2, 'evicted', 'victim'));
  });

  it('blocked pops fire their events when served', async () => {
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    const blockers = [ours[1]!, redis[1]!];
    const blockedIn = async (n: number): Promise<void> => {
      for (const c of [p.ours, p.redis]) {
        await waitFor(async () => String(await c.call('INFO', 'clients')).includes(`blocked_clients:${n}\r\n`), { timeoutMs: 5000, what: `${n} blocked` });
      }
    };
    const cases: Array<{ block: Cmd; serve: Cmd[] }> = [
      { block: ['BLPOP', 'bq', '5'], serve: [['RPUSH', 'bq', 'a', 'b']] },
      { block: ['BRPOP', 'bq2', '5'], serve: [['RPUSH', 'bq2', 'a']] },
      { block: ['BLMOVE', 'bs', 'bd', 'LEFT', 'RIGHT', '5'], serve: [['LPUSH', 'bs', 'a']] },
      { block: ['BRPOPLPUSH', 'bs2', 'bs2', '5'], serve: [['LPUSH', 'bs2', 'a']] },
      { block: ['BLMPOP', '5', '1', 'bm', 'RIGHT', 'COUNT', '3'], serve: [['RPUSH', 'bm', 'a', 'b']] },
      { block: ['BZPOPMIN', 'bz', '5'], serve: [['ZADD', 'bz', '1', 'a', '2', 'b']] },
      { block: ['BZMPOP', '5', '1', 'bz2', 'MAX', 'COUNT', '5'], serve: [['ZADD', 'bz2', '1', 'a']] },
      { block: ['BLPOP', 'bt', '5'], serve: [['MULTI'], ['RPUSH', 'bt', 'a'], ['LPUSH', 'bt', 'b'], ['EXEC']] },
    ];
    for (const c of cases) {
      const replies = blockers.map((r) => r.call(...c.block));
      await blockedIn(1);
      await p.same(...c.serve);
      const [a, b] = await Promise.all(replies);
      expect(plain(a!), JSON.stringify(c.block)).toEqual(plain(b!));
    }
    await p.both('CONFIG', 'SET', 'notify-keyspace-events', '');
    const [a, b] = await collect();
    expect(a).toEqual(b);
    expect(a).toContainEqual(ev(0, 'lpop', 'bq'));
    expect(a).toContainEqual(ev(0, 'rpush', 'bd'));
    expect(a).toContainEqual(ev(0, 'zpopmin', 'bz'));
    expect(a).toContainEqual(ks(0, 'bz2', 'del'));
  });
});

describe('keyspace notifications on replicas match a redis-server replica', () => {
  const handles: ServerHandle[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await stopAll(...handles);
  });

  it('a redis-server master feeds our replica and a redis-server replica: the same events, del (not expired) for expiry', async () => {
    const started = await Promise.allSettled([startRedis(['--repl-diskless-sync-delay', '0']), startNode(), startRedis()]);
    for (const s of started) if (s.status === 'fulfilled') handles.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [master, ourReplica, redisReplica] = handles as [ServerHandle, ServerHandle, ServerHandle];
    const connect = async (h: ServerHandle): Promise<RawClient> => {
      const c = await RawClient.connect(h.port);
      clients.push(c);
      return c;
    };
    const m = await connect(master);
    const replicas = [await connect(ourReplica), await connect(redisReplica)];
    const subs = [await connect(ourReplica), await connect(redisReplica)];
    for (const r of replicas) {
      await r.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEAn');
      expect(plain(await r.call('REPLICAOF', '127.0.0.1', String(master.port)))).toBe('+OK');
    }
    for (const r of replicas) await waitFor(async () => String(await r.call('INFO', 'replication')).includes('master_link_status:up'), { timeoutMs: 15_000, what: 'replica link up' });
    for (const sub of subs) await sub.call('PSUBSCRIBE', '__key*__:*');
    const workload: string[][] = [
      ['SET', 's', 'v', 'EX', '100'], ['INCR', 'i'], ['INCRBYFLOAT', 'f', '1.5'], ['APPEND', 's', 'x'], ['RPUSH', 'l', 'a', 'b'], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'],
      ['LPOP', 'l'], ['HSET', 'h', 'f', 'v'], ['HINCRBYFLOAT', 'h', 'g', '2.5'], ['HDEL', 'h', 'f', 'g'], ['SADD', 'st', '1', '2'], ['SPOP', 'st'],
      ['ZADD', 'z', '1', 'a'], ['ZPOPMIN', 'z'], ['RENAME', 's', 's2'], ['EXPIRE', 'i', '-1'], ['SELECT', '3'], ['SET', 'x', '1'], ['GETEX', 'x', 'PX', '30'],
    ];
    for (const cmd of workload) await m.call(...cmd);
    // The master's active expiry removes x; replicas only apply its DEL.
    await waitFor(async () => (await m.call('DBSIZE')) === 0, { timeoutMs: 5000, what: 'active expiry on the master' });
    const offset = /master_repl_offset:(\d+)/.exec(String(await m.call('INFO', 'replication')))![1]!;
    for (const r of replicas) {
      await waitFor(async () => String(await r.call('INFO', 'replication')).includes(`slave_repl_offset:${offset}\r\n`), { timeoutMs: 15_000, what: 'replica at the master\'s offset' });
    }
    const out: unknown[][] = [];
    for (const [i, sub] of subs.entries()) {
      await replicas[i]!.call('PUBLISH', END, 'done');
      const events: unknown[] = [];
      for (let n = 0; n < 10_000; n++) {
        const msg = plain((await sub.nextReply()) as Reply) as string[];
        if (msg[2] === END) break;
        events.push(msg.slice(1));
      }
      out.push(events);
    }
    expect(out[0]).toEqual(out[1]);
    expect(out[0]).toContainEqual(['__key*__:*', '__keyevent@3__:del', 'x']);
    expect(out[0]).not.toContainEqual(['__key*__:*', '__keyevent@3__:expired', 'x']);
    expect(out[0]!.length).toBeGreaterThan(20);
  });
});
