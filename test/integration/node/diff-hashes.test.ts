// Hashes: our node vs real redis-server, same commands, same replies (errors and RESP3 included).
// Listpack hashes keep insertion order in both, so they compare exactly; hashtables as multisets.
import { beforeEach, describe, expect, it } from 'vitest';
import { MapValue, type Reply } from '../../../common/resp/reply-decoder.js';
import { usePair } from '../../helpers/differential.js';
import type { RawClient } from '../../helpers/raw-client.js';

/** HSET arguments for `n` fields f0..f(n-1) with values v0…. */
function fields(n: number, prefix = 'f'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}${i}`, `v${i}`);
  return out;
}

/** Walks HSCAN to the end on one server and returns every field → value it saw. */
async function hscanAll(c: RawClient, key: string, ...opts: string[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  let cursor = '0';
  for (let rounds = 0; rounds < 10_000; rounds++) {
    const [next, items] = (await c.call('HSCAN', key, cursor, ...opts)) as [string, string[]];
    for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
    cursor = next;
    if (cursor === '0') return seen;
  }
  throw new Error('HSCAN did not finish');
}

describe('hash commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  /** HGETALL of a hashtable on both servers: same field → value pairs, in any order. */
  const sameHashContents = async (key: string) => {
    const replies = await p.both('HGETALL', key);
    const [ours, theirs] = replies.map((r) => {
      const pairs = r instanceof MapValue ? r.pairs.map(([f, v]) => `${f}=${v}`) : [];
      if (Array.isArray(r)) for (let i = 0; i < r.length; i += 2) pairs.push(`${r[i]}=${r[i + 1]}`);
      return pairs.sort();
    });
    expect(ours!.length).toBeGreaterThan(0);
    expect(ours, `HGETALL ${key}`).toEqual(theirs);
  };

  it('HSET/HMSET/HSETNX/HGET/HMGET/HLEN/HSTRLEN/HEXISTS and listpack order', async () => {
    await p.same(
      ['HSET', 'h', 'b', '1', 'a', '2', 'c', '3'], ['HSET', 'h', 'a', 'x', 'd', '4'], ['HGETALL', 'h'], ['HKEYS', 'h'],
      ['HVALS', 'h'], ['HMSET', 'h', 'e', '5', 'b', 'B'], ['HGETALL', 'h'], ['HSETNX', 'h', 'a', 'no'], ['HSETNX', 'h', 'z', 'yes'],
      ['HSETNX', 'new', 'f', 'v'], ['HGET', 'h', 'a'], ['HGET', 'h', 'nope'], ['HGET', 'none', 'a'],
      ['HMGET', 'h', 'a', 'nope', 'z'], ['HMGET', 'none', 'a', 'b'], ['HLEN', 'h'], ['HLEN', 'none'],
      ['HSTRLEN', 'h', 'z'], ['HSTRLEN', 'h', 'nope'], ['HSTRLEN', 'none', 'x'], ['HSET', 'h', 'n', '-12345'], ['HSTRLEN', 'h', 'n'],
      ['HEXISTS', 'h', 'a'], ['HEXISTS', 'h', 'nope'], ['HEXISTS', 'none', 'a'], ['HGETALL', 'none'], ['HKEYS', 'none'], ['HVALS', 'none'],
      ['HSET', 'bin', 'a\x00b', '\xff\xfe', '', 'empty'], ['HGETALL', 'bin'], ['HGET', 'bin', ''], ['HSET', 'h', 'lz', '007'], ['HGET', 'h', 'lz'],
      ['HGETALL', 'h'],
    );
  });

  it('HDEL keeps listpack order and deletes the emptied key', async () => {
    await p.both('HSET', 'd', 'a', '1', 'b', '2', 'c', '3', 'e', '4');
    await p.same(
      ['HDEL', 'd', 'b'], ['HGETALL', 'd'], ['HDEL', 'd', 'b', 'zz'], ['HDEL', 'd', 'a', 'a', 'c'], ['HGETALL', 'd'],
      ['HSET', 'd', 'b', '2'], ['HKEYS', 'd'], ['HDEL', 'd', 'e', 'b', 'more'], ['EXISTS', 'd'], ['HDEL', 'd', 'x'], ['HDEL', 'none', 'x'],
    );
  });

  it('wrong type and arity errors', async () => {
    await p.both('SET', 's', 'str');
    await p.same(
      ['HSET', 's', 'f', 'v'], ['HMSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'], ['HGET', 's', 'f'], ['HMGET', 's', 'f'],
      ['HDEL', 's', 'f'], ['HLEN', 's'], ['HSTRLEN', 's', 'f'], ['HEXISTS', 's', 'f'], ['HGETALL', 's'], ['HKEYS', 's'],
      ['HVALS', 's'], ['HINCRBY', 's', 'f', '1'], ['HINCRBYFLOAT', 's', 'f', '1'], ['HSCAN', 's', '0'], ['HRANDFIELD', 's'],
      ['HRANDFIELD', 's', '2'], ['HRANDFIELD', 's', '-2', 'WITHVALUES'], ['GET', 's'],
      ['HSET', 'h', 'f'], ['HSET', 'h', 'f', 'v', 'g'], ['HMSET', 'h', 'f', 'v', 'g'], ['HSET', 'h'], ['HSETNX', 'h', 'f'],
      ['HGET', 'h'], ['HMGET', 'h'], ['HDEL', 'h'], ['HLEN'], ['HLEN', 'a', 'b'], ['HSTRLEN', 'h'], ['HEXISTS', 'h'],
      ['HGETALL'], ['HKEYS', 'a', 'b'], ['HVALS'], ['HINCRBY', 'h', 'f'], ['HINCRBYFLOAT', 'h', 'f', '1', '2'], ['HSCAN', 'h'],
      ['HRANDFIELD'], ['EXISTS', 'h'],
    );
  });

  it('HINCRBY: counters, bad integers, overflow', async () => {
    await p.same(
      ['HINCRBY', 'c', 'n', '5'], ['HINCRBY', 'c', 'n', '-12'], ['HGET', 'c', 'n'], ['HINCRBY', 'c', 'n', 'x'],
      ['HINCRBY', 'c', 'n', '1.5'], ['HINCRBY', 'c', 'n', ''], ['HINCRBY', 'c', 'n', '99999999999999999999'],
      ['HINCRBY', 'none', 'n', 'x'], ['EXISTS', 'none'], ['HSET', 'c', 's', 'abc', 'sp', ' 1', 'lz', '01', 'f', '1.5'],
      ['HINCRBY', 'c', 's', '1'], ['HINCRBY', 'c', 'sp', '1'], ['HINCRBY', 'c', 'lz', '1'], ['HINCRBY', 'c', 'f', '1'],
      ['HSET', 'c', 'big', '9223372036854775806'], ['HINCRBY', 'c', 'big', '1'], ['HINCRBY', 'c', 'big', '1'], ['HGET', 'c', 'big'],
      ['HSET', 'c', 'small', '-9223372036854775807'], ['HINCRBY', 'c', 'small', '-1'], ['HINCRBY', 'c', 'small', '-1'],
      ['HINCRBY', 'c', 'z', '-9223372036854775808'], ['HINCRBY', 'c', 'z', '-1'], ['HINCRBY', 'c', 'y', '9223372036854775807'],
      ['HINCRBY', 'c', 'y', '-9223372036854775807'], ['HINCRBY', 'c', 'y', '0'], ['HGETALL', 'c'],
    );
  });

  it('HINCRBYFLOAT: results, bad floats, NaN/Infinity', async () => {
    await p.same(
      ['HINCRBYFLOAT', 'f', 'x', '10.5'], ['HINCRBYFLOAT', 'f', 'x', '0.1'], ['HINCRBYFLOAT', 'f', 'x', '-5'],
      ['HINCRBYFLOAT', 'f', 'x', '5.0e3'], ['HINCRBYFLOAT', 'f', 'x', '-5005.6'], ['HGET', 'f', 'x'],
      ['HINCRBYFLOAT', 'f', 'i', '3'], ['HINCRBYFLOAT', 'f', 'i', '1.25'], ['HINCRBYFLOAT', 'f', 'x', 'abc'],
      ['HINCRBYFLOAT', 'f', 'x', ''], ['HINCRBYFLOAT', 'f', 'x', 'inf'], ['HINCRBYFLOAT', 'f', 'x', '-inf'],
      ['HINCRBYFLOAT', 'f', 'x', 'nan'], ['HINCRBYFLOAT', 'none', 'x', 'inf'], ['EXISTS', 'none'],
      ['HSET', 'f', 's', 'abc', 'sp', ' 1', 'inf', 'inf', 'int', '17'], ['HSET', 'fb', 'big', '1.7e308'],
      ['HINCRBYFLOAT', 'f', 's', '1'], ['HINCRBYFLOAT', 'f', 'sp', '1'], ['HINCRBYFLOAT', 'f', 'inf', '1'],
      ['HINCRBYFLOAT', 'fb', 'big', '1.7e308'], ['OBJECT', 'ENCODING', 'fb'], ['HINCRBYFLOAT', 'f', 'int', '0.5'], ['HINCRBY', 'f', 'int', '1'],
      ['HINCRBYFLOAT', 'f', 'neg', '-0.25'], ['HGETALL', 'f'],
      // Long double sums: Redis's 80-bit arithmetic and "%.17Lf" output, not JS doubles.
      ['HINCRBYFLOAT', 'ld', 'a', '0.1'], ['HINCRBYFLOAT', 'ld', 'a', '0.2'], ['HINCRBYFLOAT', 'ld', 'a', '1e20'],
      ['HINCRBYFLOAT', 'ld', 'a', '-1e20'], ['HINCRBYFLOAT', 'ld', 'a', '3.14159265358979323846'],
      ['HINCRBYFLOAT', 'ld', 'a', '99999999999999999999'], ['HINCRBYFLOAT', 'ld', 'a', '1e-20'], ['HINCRBYFLOAT', 'ld', 'b', '1e-20'],
      ['HINCRBYFLOAT', 'ld', 'b', '-1e-20'], ['HINCRBYFLOAT', 'ld', 'c', '-1e-19'], ['HINCRBYFLOAT', 'ld2', 'd', '1.5e300'], ['HGETALL', 'ld2'],
      ['HINCRBYFLOAT', 'ld', 'e', '.5'], ['HINCRBYFLOAT', 'ld', 'e', '5.'], ['HINCRBYFLOAT', 'ld', 'e', '-1000000000000000'],
      ['HINCRBYFLOAT', 'ld', 'e', '-5005.6'], ['HGETALL', 'ld'],
    );
  });

  it('listpack → hashtable at hash-max-listpack-entries and -value', async () => {
    await p.same(
      ['HSET', 'e', ...fields(512)], ['OBJECT', 'ENCODING', 'e'], ['HGETALL', 'e'], ['HSET', 'e', 'f0', 'again'],
      ['OBJECT', 'ENCODING', 'e'], ['HSET', 'e', 'extra', 'x'], ['OBJECT', 'ENCODING', 'e'], ['HLEN', 'e'],
      ['HDEL', 'e', 'extra', 'f1'], ['OBJECT', 'ENCODING', 'e'],
      ['HSET', 'v', 'short', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'v'], ['HSET', 'v', 'long', 'x'.repeat(65)],
      ['OBJECT', 'ENCODING', 'v'], ['HSET', 'k', 'k'.repeat(65), '1'], ['OBJECT', 'ENCODING', 'k'],
      ['HSET', 'n', 'a', '1'], ['HINCRBYFLOAT', 'n', 'x'.repeat(65), '1'], ['OBJECT', 'ENCODING', 'n'],
      ['HMSET', 'm', ...fields(600)], ['OBJECT', 'ENCODING', 'm'],
    );
    await p.sameUnordered(['HKEYS', 'e'], ['HVALS', 'e'], ['HKEYS', 'm']);
    for (const key of ['e', 'v', 'k', 'n', 'm']) await sameHashContents(key);
  });

  it('HSCAN: listpack in one step, options and errors', async () => {
    await p.both('HSET', 'h', 'a1', '1', 'b1', '2', 'a2', '3', 'c', '4');
    await p.same(
      ['HSCAN', 'h', '0'], ['HSCAN', 'h', '0', 'COUNT', '1'], ['HSCAN', 'h', '0', 'MATCH', 'a*'], ['HSCAN', 'h', '0', 'match', '*'],
      ['HSCAN', 'h', '0', 'MATCH', 'a*', 'COUNT', '100'], ['HSCAN', 'h', '0', 'MATCH', 'zz*'], ['HSCAN', 'h', '0', 'COUNT', '0'],
      ['HSCAN', 'h', '0', 'COUNT', '-1'], ['HSCAN', 'h', '0', 'COUNT', 'x'], ['HSCAN', 'h', '0', 'COUNT'], ['HSCAN', 'h', '0', 'FOO', 'x'],
      ['HSCAN', 'h', '0', 'TYPE', 'string'], ['HSCAN', 'h', '0', 'NOVALUES'], ['HSCAN', 'h', 'x'], ['HSCAN', 'h', ' 1'],
      ['HSCAN', 'h', '-1'], ['HSCAN', 'h', '+0'], ['HSCAN', 'h', '18446744073709551616'], ['HSCAN', 'none', '0'],
      ['HSCAN', 'none', '0', 'BAD'], ['HSCAN', 'none', 'bad'],
    );
  });

  it('HSCAN over a hashtable visits every field once the cursor returns to 0', async () => {
    await p.both('HSET', 'big', ...fields(700));
    const [ours, theirs] = await Promise.all([hscanAll(p.ours, 'big'), hscanAll(p.redis, 'big')]);
    expect(ours.size).toBe(700);
    expect([...ours].sort()).toEqual([...theirs].sort());
    const [oursA, theirsA] = await Promise.all([
      hscanAll(p.ours, 'big', 'MATCH', 'f1*', 'COUNT', '50'),
      hscanAll(p.redis, 'big', 'MATCH', 'f1*', 'COUNT', '50'),
    ]);
    expect(oursA.size).toBe(111);
    expect([...oursA].sort()).toEqual([...theirsA].sort());
  });

  it('HRANDFIELD: deterministic forms and errors', async () => {
    await p.both('HSET', 'r', 'a', '1', 'b', '2', 'c', '3');
    await p.same(
      // count ≥ size returns the whole listpack hash in order.
      ['HRANDFIELD', 'r', '3'], ['HRANDFIELD', 'r', '10'], ['HRANDFIELD', 'r', '10', 'WITHVALUES'], ['HRANDFIELD', 'r', '3', 'withvalues'],
      ['HRANDFIELD', 'r', '0'], ['HRANDFIELD', 'r', '0', 'WITHVALUES'], ['HRANDFIELD', 'none'], ['HRANDFIELD', 'none', '5'],
      ['HRANDFIELD', 'none', '-5', 'WITHVALUES'], ['HRANDFIELD', 'none', 'x'], ['HRANDFIELD', 'r', 'x'], ['HRANDFIELD', 'r', '1.5'],
      ['HRANDFIELD', 'r', '1', 'FOO'], ['HRANDFIELD', 'r', '1', 'WITHVALUES', 'x'], ['HRANDFIELD', 'r', 'x', 'FOO'],
      ['HRANDFIELD', 'r', '-9223372036854775808'], ['HRANDFIELD', 'r', '9223372036854775807', 'WITHVALUES'],
      ['HRANDFIELD', 'r', '-4611686018427387904', 'WITHVALUES'], ['HRANDFIELD', 'none', '4611686018427387904', 'WITHVALUES'],
      ['HRANDFIELD', 'r', '9223372036854775807'],
    );
    await p.both('HSET', 'one', 'only', 'v');
    await p.same(['HRANDFIELD', 'one'], ['HRANDFIELD', 'one', '-3'], ['HRANDFIELD', 'one', '-2', 'WITHVALUES']);
  });

  it('HRANDFIELD: random forms have Redis shapes and real members', async () => {
    const big = fields(600);
    await p.both('HSET', 'r', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5', 'f', '6', 'g', '7');
    await p.both('HSET', 'big', ...big);
    const values = new Map<string, string>([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6'], ['g', '7']]);
    for (let i = 0; i < big.length; i += 2) values.set(big[i]!, big[i + 1]!);
    const check = (r: Reply, count: number, withValues: boolean, resp: 2 | 3) => {
      expect(Array.isArray(r)).toBe(true);
      const items = r as Reply[];
      const pairs: Array<[string, string | undefined]> = [];
      if (withValues && resp === 3) {
        for (const pair of items) pairs.push((pair as [string, string]).slice() as [string, string]);
      } else if (withValues) {
        for (let i = 0; i < items.length; i += 2) pairs.push([items[i] as string, items[i + 1] as string]);
      } else {
        for (const f of items) pairs.push([f as string, undefined]);
      }
      expect(pairs.length).toBe(Math.abs(count));
      for (const [f, v] of pairs) {
        expect(values.has(f)).toBe(true);
        if (withValues) expect(v).toBe(values.get(f));
      }
      if (count > 0) expect(new Set(pairs.map(([f]) => f)).size).toBe(count);
    };
    for (const resp of [2, 3] as const) {
      await p.both('HELLO', String(resp));
      for (const key of ['r', 'big']) {
        for (const count of [1, 2, 5, 6, -1, -5, -20, 200, 590]) {
          if (key === 'r' && count > 6) continue;
          for (const withValues of [false, true]) {
            const cmd = ['HRANDFIELD', key, String(count), ...(withValues ? ['WITHVALUES'] : [])];
            const [ours, theirs] = await p.both(...cmd);
            check(ours, count, withValues, resp);
            check(theirs, count, withValues, resp);
          }
        }
        const [one] = await p.both('HRANDFIELD', key);
        expect(values.has(one as string)).toBe(true);
      }
    }
    await p.both('HELLO', '2');
  });

  it('RESP3 replies (HELLO 3)', async () => {
    await p.both('HELLO', '3');
    try {
      const [map] = await p.same(
        ['HSET', 'h', 'b', '1', 'a', '2'], ['HGETALL', 'h'], ['HGETALL', 'none'], ['HMGET', 'h', 'a', 'x'], ['HGET', 'h', 'x'],
        ['HKEYS', 'h'], ['HVALS', 'none'], ['HINCRBYFLOAT', 'h', 'a', '0.5'], ['HINCRBY', 'h', 'b', '2'], ['HRANDFIELD', 'none'],
        ['HRANDFIELD', 'h', '5', 'WITHVALUES'], ['HRANDFIELD', 'h', '2'], ['HRANDFIELD', 'none', '2', 'WITHVALUES'],
        ['HSCAN', 'h', '0'], ['HSCAN', 'none', '0'], ['HEXISTS', 'h', 'a'], ['HGETALL', 'h'],
      ).then((r) => [r[1]]);
      expect(map).toBeInstanceOf(MapValue);
      await p.both('HSET', 'big', ...fields(600));
      await sameHashContents('big');
    } finally {
      await p.both('HELLO', '2');
    }
  });
});
