// RESP3 (after HELLO 3): a broad sample of every family's replies compared byte for byte with
// redis-server, so maps (%), sets (~), doubles (,), nulls (_) and pushes (>) are told apart.
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';
import { FrameDuo } from '../../helpers/frame-client.js';

describe('RESP3 replies match redis-server', () => {
  const p = usePair();
  let c: FrameDuo;
  beforeAll(async () => {
    c = await FrameDuo.open(p.node.port, p.redisServer.port);
    await c.both('HELLO', '3');
  });
  afterAll(() => c?.close());
  beforeEach(async () => {
    await c.both('FLUSHALL');
  });
  /** Runs each command on both servers, one reply frame each, and compares the bytes. */
  const same = async (...commands: Array<Array<string | number>>) => {
    for (const cmd of commands) await c.same(1, ...cmd);
  };

  it('connection commands', async () => {
    await same(['PING'], ['PING', 'x'], ['ECHO', 'hi'], ['HELLO', '4'], ['SELECT', '0']);
  });

  it('strings', async () => {
    await same(
      ['GET', 'missing'], ['SET', 's', 'v'], ['GET', 's'], ['SET', 'n', 'x', 'NX', 'GET'],
      ['MGET', 's', 'missing'], ['INCRBYFLOAT', 'f', '1.5'], ['INCR', 'i'], ['GETDEL', 'missing'], ['GETEX', 'missing'],
      ['SET', 'a', 'ohmytext'], ['SET', 'b', 'mynewtext'], ['LCS', 'a', 'b'], ['LCS', 'a', 'b', 'LEN'],
      ['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN'], ['STRLEN', 's'], ['SETNX', 's', 'x'],
    );
  });

  it('generic key commands', async () => {
    await same(
      ['RANDOMKEY'], ['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['TTL', 'k'], ['PERSIST', 'k'], ['TTL', 'k'],
      ['EXISTS', 'k', 'nope'], ['TYPE', 'k'], ['TYPE', 'nope'], ['OBJECT', 'ENCODING', 'k'], ['OBJECT', 'ENCODING', 'nope'],
      ['DUMP', 'nope'], ['EXPIRETIME', 'k'], ['SCAN', '0'], ['KEYS', '*'], ['RENAME', 'nope', 'x'], ['DEL', 'k'],
    );
  });

  it('lists', async () => {
    await same(
      ['LPOP', 'nope'], ['LPOP', 'nope', '2'], ['RPUSH', 'l', 'a', 'b', 'c'], ['LRANGE', 'l', '0', '-1'], ['LPOS', 'l', 'z'],
      ['LPOS', 'l', 'b'], ['LPOP', 'l', '2'], ['LINDEX', 'l', '5'], ['LMPOP', '1', 'nope', 'LEFT'],
      ['LMPOP', '2', 'nope', 'l', 'RIGHT', 'COUNT', '3'], ['BLPOP', 'nope', '0.01'], ['RPOPLPUSH', 'nope', 'x'],
    );
  });

  it('sorted sets', async () => {
    await same(
      ['ZADD', 'z', '1', 'a', '2.5', 'b', 'inf', 'c'], ['ZSCORE', 'z', 'b'], ['ZSCORE', 'z', 'c'], ['ZSCORE', 'z', 'nope'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'z', '0', '-1'], ['ZINCRBY', 'z', '0.5', 'a'],
      ['ZMSCORE', 'z', 'a', 'nope'], ['ZRANK', 'z', 'nope'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '2'], ['ZPOPMIN', 'nope'],
      ['ZADD', 'z', 'INCR', '1', 'q'], ['ZADD', 'z', 'NX', 'INCR', '1', 'q'], ['BZPOPMIN', 'nope', '0.01'],
      ['ZADD', 'y', '1', 'm'], ['BZPOPMIN', 'y', '0'], ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES'],
    );
  });

  it('server commands', async () => {
    await same(
      ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'GET', 'nonexistent'], ['DBSIZE'], ['FLUSHDB'], ['COMMAND', 'INFO', 'get'],
      ['LATENCY', 'LATEST'], ['SLOWLOG', 'GET', '0'], ['MEMORY', 'USAGE', 'nope'],
    );
  });

  it('scripts answering RESP3 types (double, big number, verbatim, map, set)', async () => {
    await same(
      ['EVAL', 'return {double=3.14}', '0'], ['EVAL', 'return {double=1/0}', '0'], ['EVAL', "return {big_number='123'}", '0'],
      ['EVAL', "return {verbatim_string={format='txt', string='hi'}}", '0'],
      ['EVAL', "return {verbatim_string={format='mkdown', string='# t'}}", '0'], ['EVAL', "return {verbatim_string={format='txt'}}", '0'],
      ['EVAL', "return {verbatim_string='x'}", '0'], ['EVAL', 'return {map={a=1}}', '0'], ['EVAL', 'return {set={a=true}}', '0'],
    );
  });

  it('pub/sub and transactions', async () => {
    await same(['UNSUBSCRIBE'], ['SUBSCRIBE', 'c'], ['GET', 'x'], ['UNSUBSCRIBE', 'c'], ['PUBSUB', 'NUMSUB', 'c']);
    await same(['MULTI'], ['SET', 'a', '1'], ['GET', 'a'], ['GET', 'nope'], ['EXEC'], ['EXEC']);
  });
});
