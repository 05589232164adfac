// HyperLogLog: our node vs real redis-server. Replies must match and so must the values' bytes
// (sparse opcodes, promotion to dense, the cached cardinality and its invalid bit), so DUMP
// payloads move both ways between the two servers.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { startNode, startRedis, stopAll } from '../../helpers/servers.js';

/** `n` distinct elements with a prefix. */
function elements(prefix: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
}

describe('HyperLogLog commands match redis-server byte for byte', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('CONFIG', 'SET', 'hll-sparse-max-bytes', '3000');
  });

  /** The raw value (GET), the encoding and the cardinality agree. */
  async function sameHll(key: string): Promise<void> {
    await p.same(['GET', key], ['PFDEBUG', 'ENCODING', key], ['STRLEN', key]);
  }

  it('PFADD and PFCOUNT: return values, the cache written by PFCOUNT and invalidated by PFADD', async () => {
    await p.same(['PFADD', 'h'], ['PFADD', 'h'], ['PFCOUNT', 'h'], ['GET', 'h']);
    await p.same(['PFADD', 'h', 'a', 'b', 'c'], ['PFADD', 'h', 'a'], ['PFADD', 'h', 'a', 'd'], ['GET', 'h']);
    await p.same(['PFCOUNT', 'h'], ['GET', 'h'], ['PFCOUNT', 'h'], ['PFADD', 'h', 'e'], ['GET', 'h'], ['PFCOUNT', 'h'], ['GET', 'h']);
    await p.same(['PFADD', 'h', ''], ['PFADD', 'h', 'x'.repeat(1000), '\x00\xff\x80binary'], ['PFCOUNT', 'h'], ['PFCOUNT', 'nokey']);
    await sameHll('h');
  });

  it('sparse opcodes, merges and the promotion to dense at hll-sparse-max-bytes, with exact counts', async () => {
    for (let from = 0; from < 3000; from += 250) {
      await p.same(['PFADD', 'grow', ...elements('el:', 250, from)], ['PFCOUNT', 'grow'], ['PFDEBUG', 'ENCODING', 'grow']);
      await sameHll('grow');
    }
    await p.same(['PFADD', 'big', ...elements('big', 2000)], ['PFADD', 'big', ...elements('big', 2000, 2000)]);
    for (let i = 0; i < 20; i++) await p.same(['PFADD', 'big', ...elements(`b${i}:`, 5000)], ['PFCOUNT', 'big']);
    await sameHll('big');
    // A lower threshold promotes earlier; a value never shrinks back.
    await p.both('CONFIG', 'SET', 'hll-sparse-max-bytes', '200');
    await p.same(['PFADD', 'small', ...elements('s', 40)], ['PFDEBUG', 'ENCODING', 'small'], ['PFADD', 'small', ...elements('s', 200, 40)]);
    await sameHll('small');
    await p.same(['CONFIG', 'GET', 'hll-sparse-max-bytes']);
  });

  it('PFCOUNT of several keys is the union; PFMERGE into new, existing and dense destinations', async () => {
    await p.both('PFADD', 'a', ...elements('x', 300));
    await p.both('PFADD', 'b', ...elements('x', 300, 200));
    await p.both('PFADD', 'c', ...elements('y', 20000));
    await p.same(['PFCOUNT', 'a', 'b'], ['PFCOUNT', 'a', 'nokey', 'b'], ['PFCOUNT', 'a', 'b', 'c'], ['PFCOUNT', 'nokey', 'nokey2'], ['GET', 'a']);
    await p.same(['PFMERGE', 'm1', 'a', 'b'], ['PFCOUNT', 'm1'], ['PFMERGE', 'm2', 'a', 'c'], ['PFCOUNT', 'm2'], ['PFMERGE', 'a', 'b']);
    await p.same(['PFMERGE', 'm3'], ['PFMERGE', 'm4', 'nokey'], ['PFMERGE', 'm1', 'm1'], ['PFMERGE', 'c', 'a']);
    for (const k of ['m1', 'm2', 'm3', 'm4', 'a', 'c']) await sameHll(k);
    await p.both('SET', 't', 'x');
    await p.both('DEL', 't');
    await p.both('PFADD', 't', 'q');
    await p.both('EXPIRE', 't', '1000');
    await p.same(['PFMERGE', 't', 'a'], ['TTL', 't'], ['PFADD', 't', 'zz'], ['TTL', 't']);
  });

  it('PFCOUNT of hundreds of keys: the same union, O(16384) work per key', async () => {
    await p.both('PFADD', 'dense', ...elements('d', 30000));
    await p.both('PFADD', 'sparse', ...elements('s', 300));
    const keys: string[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `k${i}`;
      keys.push(key);
      // Each key: a dense or sparse base plus a few of its own elements.
      await p.both('PFMERGE', key, i % 2 === 0 ? 'dense' : 'sparse');
      await p.both('PFADD', key, ...elements(`own${i}:`, 5));
    }
    const t0 = performance.now();
    await p.same(['PFCOUNT', ...keys], ['PFCOUNT', 'sparse', ...keys.filter((_, i) => i % 2 === 1)]);
    const ms = performance.now() - t0;
    console.log(`PFCOUNT of 300 keys (twice, on both servers): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000);
  });

  it('wrong types, non-HLL strings and corrupted HLLs', async () => {
    const header = (encoding: string) => `HYLL${encoding}\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00`;
    await p.both('SET', 'notHll', 'hello world, this is not an HLL');
    await p.both('SET', 'short', 'HYLL');
    await p.both('SET', 'badEnc', `${header('\x02')}\x7f\xff`);
    await p.both('SET', 'shortDense', `${header('\x00')}${'\x00'.repeat(100)}`);
    // XZERO:16383 covers one register too few; XZERO:16384 + ZERO:1 one too many.
    await p.both('SET', 'tooFew', `${header('\x01')}\x7f\xfe`);
    await p.both('SET', 'tooMany', `${header('\x01')}\x7f\xff\x00`);
    await p.both('SET', 'valPastEnd', `${header('\x01')}\x7f\xfe\x83`);
    await p.both('RPUSH', 'list', 'x');
    const keys = ['notHll', 'short', 'badEnc', 'shortDense', 'tooFew', 'tooMany', 'valPastEnd', 'list'];
    const cmds: string[][] = [];
    for (const k of keys) {
      cmds.push(['PFCOUNT', k], ['PFADD', k, 'a'], ['PFADD', k, ...elements('e', 50)], ['PFCOUNT', k, 'nokey'], ['PFMERGE', 'dst', k], ['PFMERGE', k, 'nokey']);
      cmds.push(['PFDEBUG', 'GETREG', k], ['PFDEBUG', 'DECODE', k], ['PFDEBUG', 'TODENSE', k], ['GET', k]);
    }
    await p.same(...cmds, ['EXISTS', 'dst'], ['PFADD'], ['PFCOUNT'], ['PFMERGE']);
  });

  it('PFDEBUG subcommands and PFSELFTEST', async () => {
    await p.both('PFADD', 'h', 'a', 'b', 'c', 'd');
    await p.same(
      ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'ENCODING', 'h'], ['PFDEBUG', 'GETREG', 'h'], ['PFDEBUG', 'ENCODING', 'h'], ['GET', 'h'],
      ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'TODENSE', 'h'], ['PFADD', 'h2', 'x'], ['PFDEBUG', 'TODENSE', 'h2'], ['PFDEBUG', 'TODENSE', 'h2'],
      ['GET', 'h2'], ['PFDEBUG', 'NOSUCH', 'h'], ['PFDEBUG', 'NOSUCH', 'nokey'], ['PFDEBUG', 'GETREG', 'nokey'], ['PFDEBUG', 'GETREG'],
      ['PFDEBUG', 'GETREG', 'h', 'extra'], ['PFSELFTEST', 'x'],
    );
    // It adds 10 M elements (Redis: ~0.4 s; us: seconds on a loaded machine): wait longer than call()'s 5 s.
    const selftest = async (c: RawClient) => {
      const t0 = performance.now();
      const reply = c.nextReply(60_000);
      c.write(encodeCommand(['PFSELFTEST']));
      return { reply: plain(await reply), ms: performance.now() - t0 };
    };
    const [ours, redis] = await Promise.all([selftest(p.ours), selftest(p.redis)]);
    console.log(`PFSELFTEST: ours ${ours.ms.toFixed(0)} ms, redis-server ${redis.ms.toFixed(0)} ms`);
    expect(ours.reply).toEqual(redis.reply);
    expect(ours.reply).toBe('+OK');
  }, 60_000);

  it('a DUMP from redis-server RESTOREs here (and back) with the same bytes and counts', async () => {
    await p.redis.call('PFADD', 'sparse', ...elements('s', 500));
    await p.redis.call('PFADD', 'dense', ...elements('d', 50000));
    await p.redis.call('PFCOUNT', 'dense');
    for (const key of ['sparse', 'dense']) {
      const payload = (await p.redis.call('DUMP', key)) as string;
      expect(await p.ours.call('RESTORE', key, '0', Buffer.from(payload, 'latin1'))).toEqual(expect.objectContaining({ value: 'OK' }));
      await p.same(['GET', key], ['PFCOUNT', key], ['DUMP', key], ['PFADD', key, 'more', 'elements'], ['GET', key], ['PFCOUNT', key], ['DUMP', key]);
      // And what our node wrote restores on redis-server.
      const ours = (await p.ours.call('DUMP', key)) as string;
      await p.redis.call('DEL', `${key}:back`);
      expect(await p.redis.call('RESTORE', `${key}:back`, '0', Buffer.from(ours, 'latin1'))).toEqual(expect.objectContaining({ value: 'OK' }));
      expect(await p.redis.call('GET', `${key}:back`)).toBe(await p.redis.call('GET', key));
      expect(await p.redis.call('PFCOUNT', `${key}:back`)).toBe(await p.ours.call('PFCOUNT', key));
    }
  });

  it('RDB files carry HLLs (and geo sets and bitmaps) both ways between the servers', async () => {
    const build = [
      ['PFADD', 'sparse', ...elements('s', 200)], ['PFADD', 'dense', ...elements('d', 30000)], ['PFCOUNT', 'dense'],
      ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'], ['SETBIT', 'bits', '77777', '1'],
    ];
    for (const cmd of build) await p.same(cmd);
    const keys = ['sparse', 'dense', 'geo', 'bits'];
    const read = async (c: RawClient) => {
      const out: unknown[] = [];
      for (const k of keys) out.push(await c.call('DUMP', k));
      out.push(await c.call('PFCOUNT', 'sparse', 'dense'), await c.call('GEOPOS', 'geo', 'Palermo'));
      return out;
    };
    const expected = await read(p.redis);
    expect(await read(p.ours)).toEqual(expected);
    // Each server's snapshot, loaded by the other kind of server.
    for (const [from, start] of [[p.ours, startRedis], [p.redis, startNode]] as const) {
      expect(await from.call('SAVE')).toEqual(expect.objectContaining({ value: 'OK' }));
      const dir = (from === p.ours ? p.node : p.redisServer).dir;
      const scratch = mkdtempSync(join(tmpdir(), 'hll-rdb-'));
      copyFileSync(join(dir, 'dump.rdb'), join(scratch, 'dump.rdb'));
      const loaded = await start([], { dir: scratch });
      const c = await RawClient.connect(loaded.port);
      try {
        expect(await read(c)).toEqual(expected);
      } finally {
        c.close();
        await stopAll(loaded);
      }
    }
  });

  it('keyspace hits and misses of the bit, HLL and geo commands are counted as Redis counts them', async () => {
    const setup = [['PFADD', 'h', 'a', 'b', 'c'], ['PFADD', 'h2', 'd'], ['SETBIT', 'b', '3', '1'], ['GEOADD', 'g', '13.36', '38.11', 'P', '15.08', '37.5', 'C']];
    const commands = [
      ['PFCOUNT', 'h'], ['PFCOUNT', 'h'], ['PFCOUNT', 'h', 'h2', 'nokey'], ['PFMERGE', 'm', 'h', 'nokey'], ['PFADD', 'h', 'x'], ['BITOP', 'OR', 'd', 'b', 'nokey'],
      ['BITCOUNT', 'b'], ['GETBIT', 'b', '1'], ['SETBIT', 'b', '9', '1'], ['BITFIELD', 'b', 'GET', 'u8', '0'], ['BITFIELD', 'nokey', 'GET', 'u8', '0'],
      ['BITFIELD_RO', 'b', 'GET', 'u8', '0'], ['BITPOS', 'nokey', '1'], ['GEOSEARCH', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
      ['GEORADIUS', 'g', '15', '37', '200', 'km', 'STORE', 'gs'], ['GEOSEARCHSTORE', 'gs2', 'g', 'FROMMEMBER', 'P', 'BYRADIUS', '100', 'km'],
      ['GEOPOS', 'g', 'P'], ['GEODIST', 'g', 'P', 'C'], ['GEORADIUSBYMEMBER', 'nokey', 'P', '1', 'km'], ['GEOADD', 'g', '1', '1', 'x'], ['PFDEBUG', 'GETREG', 'h'],
    ];
    const stats = async (c: RawClient) => /keyspace_hits:\d+\r\nkeyspace_misses:\d+/.exec(String(await c.call('INFO', 'stats')))?.[0];
    for (const cmd of setup) await p.same(cmd);
    await p.both('CONFIG', 'RESETSTAT');
    for (const cmd of commands) {
      await p.same(cmd);
      expect(await stats(p.ours), cmd.join(' ')).toBe(await stats(p.redis));
    }
  });

  it('COMMAND GETKEYS and COMMAND INFO of the HLL commands', async () => {
    await p.same(
      ['COMMAND', 'GETKEYS', 'PFADD', 'k', 'a'], ['COMMAND', 'GETKEYS', 'PFCOUNT', 'a', 'b', 'c'], ['COMMAND', 'GETKEYS', 'PFMERGE', 'd', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'PFDEBUG', 'GETREG', 'k'], ['COMMAND', 'GETKEYS', 'PFSELFTEST'],
    );
    // Redis refuses the source-less form (its source key spec starts past the end); we name the
    // destination, so the proxy still routes it.
    expect(await p.ours.call('COMMAND', 'GETKEYS', 'PFMERGE', 'd')).toEqual(['d']);
    const [ours, redis] = await p.both('COMMAND', 'INFO', 'pfadd', 'pfcount', 'pfmerge', 'pfdebug', 'pfselftest');
    const head = (r: unknown) => (r as unknown[][]).map((e) => JSON.stringify(e.slice(0, 8)));
    expect(head(ours)).toEqual(head(redis));
  });
});
