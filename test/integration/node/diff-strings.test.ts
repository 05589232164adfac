// Strings: our node vs real redis-server, same commands, same replies (errors included).
import { beforeEach, describe, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';

describe('string commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  it('GET/SET with options', async () => {
    await p.same(
      ['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'missing'], ['SET', 'k', 'v2', 'NX'], ['SET', 'k', 'v3', 'XX'],
      ['SET', 'n', 'x', 'XX'], ['SET', 'k', 'v4', 'GET'], ['SET', 'k', 'v', 'EX', '100'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'PX', '100000'], ['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'EX', '-1'],
      ['SET', 'k', 'v', 'EX', 'abc'], ['SET', 'k', 'v', 'NX', 'XX'], ['SET', 'k', 'v', 'EX', '10', 'PX', '10'],
      ['SET', 'k', 'v', 'KEEPTTL', 'EX', '1'], ['SET', 'k', 'v', 'FOO'], ['SET', 'k'], ['GET'], ['GET', 'a', 'b'],
      ['SET', 'k', 'v', 'EXAT', '99999999999'], ['SET', 'k', 'v', 'PXAT', '1'], ['GET', 'k'],
      ['SETNX', 'a', '1'], ['SETNX', 'a', '2'], ['GET', 'a'], ['SETEX', 'b', '100', 'x'], ['SETEX', 'b', '0', 'x'],
      ['PSETEX', 'c', '100000', 'y'], ['GETSET', 'a', '9'], ['GETDEL', 'a'], ['GETDEL', 'a'],
      ['GETEX', 'b', 'PERSIST'], ['TTL', 'b'], ['GETEX', 'b', 'EX', '50'], ['TTL', 'b'], ['GETEX', 'b', 'FOO'],
    );
  });

  it('counters and their errors', async () => {
    await p.same(
      ['INCR', 'n'], ['INCRBY', 'n', '10'], ['DECR', 'n'], ['DECRBY', 'n', '5'], ['INCRBY', 'n', 'x'],
      ['SET', 's', 'abc'], ['INCR', 's'], ['SET', 'big', '9223372036854775806'], ['INCR', 'big'], ['INCR', 'big'],
      ['SET', 'small', '-9223372036854775807'], ['DECR', 'small'], ['DECR', 'small'],
      ['DECRBY', 'n', '-9223372036854775808'], ['SET', 'sp', ' 1'], ['INCR', 'sp'], ['SET', 'lz', '01'], ['INCR', 'lz'],
      ['INCRBYFLOAT', 'f', '10.5'], ['INCRBYFLOAT', 'f', '0.1'], ['INCRBYFLOAT', 'f', '-5'], ['INCRBYFLOAT', 'f', 'abc'],
      ['INCRBYFLOAT', 'f', '5.0e3'], ['INCRBYFLOAT', 's', '1'], ['INCRBYFLOAT', 'f', 'inf'],
      ['LPUSH', 'l', 'x'], ['INCR', 'l'], ['GET', 'l'],
    );
  });

  it('ranges, append, multi-key', async () => {
    await p.same(
      ['APPEND', 'a', 'hello'], ['APPEND', 'a', ' world'], ['STRLEN', 'a'], ['STRLEN', 'zz'],
      ['GETRANGE', 'a', '0', '4'], ['GETRANGE', 'a', '-5', '-1'], ['GETRANGE', 'a', '5', '2'], ['GETRANGE', 'a', '-1', '-5'],
      ['GETRANGE', 'a', '0', '100'], ['GETRANGE', 'zz', '0', '1'], ['SUBSTR', 'a', '1', '3'],
      ['SETRANGE', 'a', '6', 'WORLD'], ['GET', 'a'], ['SETRANGE', 'p', '5', 'x'], ['GET', 'p'], ['SETRANGE', 'p', '-1', 'x'],
      ['SETRANGE', 'q', '0', ''], ['EXISTS', 'q'],
      ['MSET', 'x', '1', 'y', '2'], ['MGET', 'x', 'y', 'nope'], ['MSET', 'x'], ['MSETNX', 'x', '3', 'z', '4'],
      ['MSETNX', 'z', '4', 'w', '5'], ['MGET', 'z', 'w'],
      ['SET', 'l1', 'ohmytext'], ['SET', 'l2', 'mynewtext'], ['LCS', 'l1', 'l2'], ['LCS', 'l1', 'l2', 'LEN'],
      ['LCS', 'l1', 'l2', 'IDX'], ['LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'],
    );
  });

  // Found by a differential fuzz: which error wins when a command has more than one is Redis's
  // order of checks (options read, key looked up, type checked, then values parsed).
  it('the order of checks when a command has several errors', async () => {
    await p.same(
      ['SET', 's', '10'], ['RPUSH', 'l', 'a'], ['SET', 'str', 'abc'],
      ['SET', 's', 'v', 'EX', 'x', 'FOO'], ['SET', 's', 'v', 'EX', 'x'], ['SET', 's', 'v', 'EX', '0', 'FOO'],
      ['GETEX', 'nokey', 'EX', 'x'], ['GETEX', 'nokey', 'EX', '0'], ['GETEX', 'nokey', 'EXAT', '9223372036854775807'],
      ['GETEX', 'l', 'EX', 'x'], ['GETEX', 's', 'EX', 'x'], ['GETEX', 's', 'EX', '0'], ['GETEX', 'nokey', 'EX', 'x', 'FOO'],
      ['INCRBYFLOAT', 'l', 'x'], ['INCRBYFLOAT', 'str', 'x'], ['INCRBYFLOAT', 's', 'x'], ['INCRBYFLOAT', 'nokey', 'inf'],
      ['SET', 'i', 'inf'], ['INCRBYFLOAT', 'i', '1'], ['INCRBYFLOAT', 'i', 'x'],
      ['LCS', 'l', 's'], ['LCS', 'l', 's', 'FOO'], ['LCS', 's', 'nokey', 'FOO'], ['LCS', 's', 'nokey', 'MINMATCHLEN', 'x'],
      ['BITCOUNT', 's', '1'], ['BITCOUNT', 'nokey', '1'], ['BITCOUNT', 'l', '1'],
    );
  });

  // Any positive deadline that fits a long long is taken, as by Redis (they were refused past
  // 2^53); 2^60 is a double exactly, so the two servers read back the same deadline.
  it('SET and GETEX take deadlines up to a long long', async () => {
    await p.same(
      ['SET', 'k', 'v', 'PXAT', '1152921504606846976'], ['PEXPIRETIME', 'k'], ['SET', 'k', 'v', 'EX', '9223372036854'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'PX', '9223372036854775807'], ['SET', 'k', 'v', 'EXAT', '9223372036854776'], ['SET', 'k', 'v', 'PXAT', '9223372036854775808'],
      ['GETEX', 'k', 'PXAT', '2305843009213693952'], ['PEXPIRETIME', 'k'], ['SETEX', 'k', '9223372036854775', 'v'], ['GET', 'k'],
    );
  });

  it('unknown commands and arity errors', async () => {
    await p.same(['NOSUCH'], ['NOSUCH', 'a', 'b'], ['get'], ['SET', 'a'], ['incrby', 'a'], ['Ping'], ['echo', 'hi']);
  });
});
