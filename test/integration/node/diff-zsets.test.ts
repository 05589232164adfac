// Sorted sets: our node vs a real redis-server, same commands, same replies (errors, RESP3 shapes,
// listpack and skiplist encodings). Random commands are compared by what does not depend on chance.
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';

type Cmd = Array<string | number>;

/** ZADD arguments for n members m0…m(n-1) with scores that tie in groups of 3 and include fractions. */
function bigZadd(key: string, n: number): Cmd {
  const cmd: Cmd = ['ZADD', key];
  for (let i = 0; i < n; i++) cmd.push(String(Math.floor(i / 3) + (i % 7 === 0 ? 0.1 : 0)), `m${String(i).padStart(3, '0')}`);
  return cmd;
}

describe('sorted-set commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('HELLO', '2');
  });

  it('ZADD options, replies and errors', async () => {
    await p.same(
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'CH', '5', 'a', '6', 'd'],
      ['ZADD', 'z', 'NX', '9', 'a', '7', 'e'], ['ZADD', 'z', 'XX', '9', 'a', '8', 'f'], ['ZADD', 'z', 'XX', 'CH', '10', 'a'],
      ['ZADD', 'z', 'GT', 'CH', '1', 'a', '11', 'b'], ['ZADD', 'z', 'LT', 'CH', '100', 'c', '0', 'd'],
      ['ZADD', 'z', 'GT', 'XX', 'CH', '50', 'a', '50', 'zz'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'z', 'XX', 'NX', '1', 'a'], ['ZADD', 'z', 'GT', 'LT', '1', 'a'], ['ZADD', 'z', 'GT', 'NX', '1', 'a'],
      ['ZADD', 'z', 'LT', 'NX', '1', 'a'], ['ZADD', 'z', 'INCR', '1', 'a', '2', 'b'], ['ZADD', 'z', '1'],
      ['ZADD', 'z', '1', 'a', '2'], ['ZADD', 'z', 'NX'], ['ZADD', 'z', 'abc', 'a'], ['ZADD', 'z', 'nan', 'a'],
      ['ZADD', 'z', '1', 'a', 'x', 'b'], ['ZADD', 'z', 'FOO', '1', 'a'], ['ZADD', 'z'], ['ZADD', 'z', '1'],
      ['ZADD', 'z', 'INCR', '5', 'a'], ['ZADD', 'z', 'INCR', 'NX', '5', 'a'], ['ZADD', 'z', 'INCR', 'XX', '5', 'new'],
      ['ZADD', 'z', 'INCR', 'GT', '-1', 'a'], ['ZADD', 'z', 'INCR', 'LT', '-1', 'a'], ['ZADD', 'z', 'INCR', '0', 'a'],
      ['ZADD', 'z', 'INCR', 'inf', 'a'], ['ZADD', 'z', 'INCR', '-inf', 'a'], ['ZSCORE', 'z', 'a'],
      ['ZADD', 'z', '-0', 'neg0'], ['ZSCORE', 'z', 'neg0'], ['ZINCRBY', 'z', '-0', 'neg0'], ['ZSCORE', 'z', 'neg0'],
      ['ZADD', 'z', '0x10', 'hex', '1e3', 'exp', '+inf', 'pinf', '-inf', 'ninf', '.5', 'half', '1.', 'dot'],
      ['ZADD', 'z', ' 1', 'sp'], ['ZADD', 'z', '', 'empty'], ['ZADD', 'z', '1e400', 'huge'],
      ['ZADD', 'z', '0.1', 'tenth', '1.5e-7', 'tiny', '123456789012345678', 'bigint', '3.141592653589793', 'pi'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZADD', 'missing', 'XX', '1', 'a'], ['EXISTS', 'missing'],
      ['ZADD', 'missing', 'XX', 'INCR', '1', 'a'], ['ZADD', 'nxnew', 'NX', 'GT', '1', 'a'],
      ['SET', 'str', 'x'], ['ZADD', 'str', '1', 'a'], ['ZADD', 'str', 'x', 'a'], ['ZADD', 'str', 'XX', 'NX', '1', 'a'],
      ['zadd', 'z', 'ch', 'incr', 'xx', '1', 'a'],
    );
  });

  it('ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM, ZRANK', async () => {
    await p.same(
      ['ZINCRBY', 'z', '2.5', 'a'], ['ZINCRBY', 'z', '-1', 'a'], ['ZINCRBY', 'z', '1', 'b'], ['ZINCRBY', 'z', 'x', 'a'],
      ['ZINCRBY', 'z', 'inf', 'a'], ['ZINCRBY', 'z', '-inf', 'a'], ['ZINCRBY', 'z', 'nx', 'a'], ['ZINCRBY', 'z', '1'],
      ['ZSCORE', 'z', 'a'], ['ZSCORE', 'z', 'nope'], ['ZSCORE', 'nokey', 'a'], ['ZSCORE', 'z'],
      ['ZMSCORE', 'z', 'a', 'nope', 'b'], ['ZMSCORE', 'nokey', 'a', 'b'], ['ZMSCORE', 'z'],
      ['ZCARD', 'z'], ['ZCARD', 'nokey'], ['ZCARD'], ['ZRANK', 'z', 'a'], ['ZRANK', 'z', 'b'], ['ZREVRANK', 'z', 'a'],
      ['ZRANK', 'z', 'nope'], ['ZRANK', 'nokey', 'a'], ['ZRANK', 'z', 'a', 'WITHSCORE'],
      ['ZREM', 'z', 'nope'], ['ZREM', 'z', 'a', 'a', 'nope'], ['ZREM', 'nokey', 'a'], ['ZREM', 'z', 'b'], ['EXISTS', 'z'],
      ['ZREM', 'z'], ['SET', 'str', 'x'], ['ZINCRBY', 'str', '1', 'a'], ['ZSCORE', 'str', 'a'], ['ZMSCORE', 'str', 'a'],
      ['ZCARD', 'str'], ['ZREM', 'str', 'a'], ['ZRANK', 'str', 'a'], ['ZREVRANK', 'str', 'a'],
    );
  });

  it('ZRANGE by rank, score and lex, with every option and error', async () => {
    await p.both('ZADD', 'z', '1', 'a', '1', 'b', '2', 'c', '3', 'd', '3.5', 'e', '10', 'f');
    await p.both('ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e', '0', 'f', '0', 'g');
    await p.same(
      ['ZRANGE', 'z', '0', '-1'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'z', '-3', '-2'], ['ZRANGE', 'z', '2', '1'],
      ['ZRANGE', 'z', '5', '100'], ['ZRANGE', 'z', '-100', '1'], ['ZRANGE', 'z', '0', '-1', 'REV'], ['ZRANGE', 'z', '0', '1', 'rev', 'withscores'],
      ['ZRANGE', 'z', '1', '3', 'BYSCORE'], ['ZRANGE', 'z', '(1', '3', 'BYSCORE', 'WITHSCORES'], ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '1', '2'],
      ['ZRANGE', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '0', '3', 'WITHSCORES'], ['ZRANGE', 'z', '3', '(1', 'BYSCORE', 'REV'],
      ['ZRANGE', 'z', '(3', '(3', 'BYSCORE'], ['ZRANGE', 'z', '3', '3', 'BYSCORE'], ['ZRANGE', 'z', '5', '1', 'BYSCORE'],
      ['ZRANGE', 'z', '-inf', 'inf', 'BYSCORE', 'LIMIT', '2', '-1'], ['ZRANGE', 'z', '-inf', 'inf', 'BYSCORE', 'LIMIT', '-1', '2'],
      ['ZRANGE', 'z', '-inf', 'inf', 'BYSCORE', 'LIMIT', '10', '2'], ['ZRANGE', 'z', '-inf', 'inf', 'BYSCORE', 'LIMIT', '1', '0'],
      ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '-1'], ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '1'], ['ZRANGE', 'z', '0', '-1', 'LIMIT', 'x', '1'],
      ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0'], ['ZRANGE', 'z', 'a', 'b'], ['ZRANGE', 'z', 'a', 'b', 'BYSCORE'], ['ZRANGE', 'z', 'a', 'b', 'BYLEX'],
      ['ZRANGE', 'z', '(', '(a', 'BYSCORE'], ['ZRANGE', 'z', '', '', 'BYSCORE'], ['ZRANGE', 'z', '1e400', 'inf', 'BYSCORE'],
      ['ZRANGE', 'z', '0', '-1', 'BYSCORE', 'BYLEX'], ['ZRANGE', 'z', '0', '-1', 'REV', 'REV'], ['ZRANGE', 'z', '0', '-1', 'FOO'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX'], ['ZRANGE', 'lex', '[b', '(e', 'BYLEX'], ['ZRANGE', 'lex', '(e', '[b', 'BYLEX', 'REV'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'LIMIT', '2', '3'], ['ZRANGE', 'lex', '+', '-', 'BYLEX', 'REV', 'LIMIT', '1', '2'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'WITHSCORES'], ['ZRANGE', 'lex', 'b', 'c', 'BYLEX'], ['ZRANGE', 'lex', '[z', '+', 'BYLEX'],
      ['ZRANGE', 'lex', '+', '-', 'BYLEX'], ['ZRANGE', 'lex', '[b', '[b', 'BYLEX'], ['ZRANGE', 'lex', '(b', '[b', 'BYLEX'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'LIMIT', '5', '10'], ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'LIMIT', '9', '10'],
      ['ZRANGE', 'nokey', '0', '-1'], ['ZRANGE', 'nokey', '0', '-1', 'LIMIT', '0', '1'], ['ZRANGE', 'z', '0'],
      ['ZREVRANGE', 'z', '0', '2'], ['ZREVRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZREVRANGE', 'z', '0', '-1', 'BYSCORE'],
      ['ZRANGEBYSCORE', 'z', '1', '3'], ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES', 'LIMIT', '1', '3'],
      ['ZRANGEBYSCORE', 'z', '1', '3', 'BYSCORE'], ['ZRANGEBYSCORE', 'z', '1', '3', 'REV'], ['ZRANGEBYSCORE', 'z', 'x', '3'],
      ['ZREVRANGEBYSCORE', 'z', '3', '1'], ['ZREVRANGEBYSCORE', 'z', '+inf', '(1', 'WITHSCORES', 'LIMIT', '0', '2'],
      ['ZRANGEBYLEX', 'lex', '[c', '+'], ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '1', '1'], ['ZRANGEBYLEX', 'lex', '-', '+', 'WITHSCORES'],
      ['ZRANGEBYLEX', 'lex', 'c', '+'], ['ZREVRANGEBYLEX', 'lex', '+', '[c'], ['ZREVRANGEBYLEX', 'lex', '(f', '(b', 'LIMIT', '1', '2'],
      ['SET', 'str', 'x'], ['ZRANGE', 'str', '0', '-1'], ['ZRANGE', 'str', 'x', '-1'], ['ZRANGEBYLEX', 'str', '-', '+'],
    );
  });

  it('ZRANGESTORE', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd');
    await p.same(
      ['ZRANGESTORE', 'dst', 'z', '1', '2'], ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', 'dst', 'z', '(1', '+inf', 'BYSCORE', 'LIMIT', '0', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', 'dst', 'z', '[c', '-', 'BYLEX', 'REV'], ['ZRANGE', 'dst', '0', '-1'],
      ['ZRANGESTORE', 'dst', 'z', '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', 'dst', 'z', '0', '-1', 'LIMIT', '0', '1'],
      ['ZRANGESTORE', 'dst', 'z', '5', '10'], ['EXISTS', 'dst'], ['ZRANGESTORE', 'dst', 'nokey', '0', '-1'],
      ['SET', 'str', 'x'], ['ZRANGESTORE', 'str', 'z', '0', '0'], ['TYPE', 'str'], ['ZRANGESTORE', 'x', 'str', '0', '0'],
      ['SET', 'str2', 'x'], ['ZRANGESTORE', 'str2', 'nokey', '0', '-1'], ['TYPE', 'str2'], ['ZRANGESTORE', 'dst', 'z', '0'],
      ['ZRANGESTORE', 'z', 'z', '1', '2'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
    );
  });

  it('ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e');
    await p.both('ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e');
    await p.same(
      ['ZCOUNT', 'z', '-inf', '+inf'], ['ZCOUNT', 'z', '(1', '3'], ['ZCOUNT', 'z', '(1', '(3'], ['ZCOUNT', 'z', '3', '1'], ['ZCOUNT', 'z', 'x', '1'],
      ['ZCOUNT', 'z', '(', '5'], ['ZCOUNT', 'nokey', '0', '1'], ['ZCOUNT', 'nokey', 'x', '1'],
      ['ZLEXCOUNT', 'lex', '-', '+'], ['ZLEXCOUNT', 'lex', '[b', '(d'], ['ZLEXCOUNT', 'lex', 'b', 'd'], ['ZLEXCOUNT', 'nokey', '-', '+'],
      ['ZREMRANGEBYRANK', 'z', '0', '0'], ['ZREMRANGEBYRANK', 'z', '-1', '-1'], ['ZREMRANGEBYRANK', 'z', '5', '10'], ['ZREMRANGEBYRANK', 'z', 'x', '1'],
      ['ZRANGE', 'z', '0', '-1'], ['ZREMRANGEBYSCORE', 'z', '(2', '3'], ['ZREMRANGEBYSCORE', 'z', 'x', '3'], ['ZRANGE', 'z', '0', '-1'],
      ['ZREMRANGEBYSCORE', 'z', '-inf', '+inf'], ['EXISTS', 'z'], ['ZREMRANGEBYSCORE', 'nokey', '0', '1'], ['ZREMRANGEBYRANK', 'nokey', '0', '1'],
      ['ZREMRANGEBYLEX', 'lex', '(a', '[c'], ['ZREMRANGEBYLEX', 'lex', 'a', 'c'], ['ZRANGE', 'lex', '0', '-1'], ['ZREMRANGEBYLEX', 'lex', '-', '+'],
      ['EXISTS', 'lex'], ['ZREMRANGEBYLEX', 'nokey', '-', '+'],
      ['SET', 'str', 'x'], ['ZCOUNT', 'str', '0', '1'], ['ZLEXCOUNT', 'str', '-', '+'], ['ZREMRANGEBYRANK', 'str', '0', '1'],
      ['ZREMRANGEBYSCORE', 'str', '0', '1'], ['ZREMRANGEBYLEX', 'str', '-', '+'], ['ZCOUNT', 'z', '1'],
    );
  });

  it('ZPOPMIN, ZPOPMAX, ZMPOP and the non-blocking paths of BZPOP*/BZMPOP', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e', '6', 'f');
    await p.same(
      ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z'], ['ZPOPMIN', 'z', '2'], ['ZPOPMAX', 'z', '0'], ['ZPOPMAX', 'z', '-1'], ['ZPOPMIN', 'z', 'x'],
      ['ZPOPMIN', 'z', '1', '2'], ['ZPOPMIN', 'nokey'], ['ZPOPMIN', 'nokey', '3'], ['ZADD', 'z', '7', 'g'], ['ZPOPMAX', 'z', '10'], ['EXISTS', 'z'],
      ['ZADD', 'a', '1', 'x', '2', 'y'], ['ZADD', 'b', '3', 'w'], ['ZMPOP', '2', 'nokey', 'a', 'MIN'], ['ZMPOP', '2', 'a', 'b', 'max', 'COUNT', '5'],
      ['ZMPOP', '2', 'a', 'b', 'MIN', 'COUNT', '5'], ['ZMPOP', '2', 'a', 'b', 'MIN'], ['ZMPOP', '0', 'a', 'MIN'], ['ZMPOP', 'x', 'a', 'MIN'],
      ['ZMPOP', '-1', 'a', 'MIN'], ['ZMPOP', '3', 'a', 'MIN'], ['ZMPOP', '1', 'a', 'MID'], ['ZMPOP', '1', 'a', 'MIN', 'COUNT', '0'],
      ['ZMPOP', '1', 'a', 'MIN', 'COUNT', 'x'], ['ZMPOP', '1', 'a', 'MIN', 'COUNT'], ['ZMPOP', '1', 'a', 'MIN', 'COUNT', '1', 'COUNT', '1'],
      ['ZMPOP', '1', 'a', 'MIN', 'FOO'], ['SET', 'str', 'x'], ['ZPOPMIN', 'str'], ['ZPOPMIN', 'str', '0'], ['ZMPOP', '2', 'str', 'a', 'MIN'],
      ['ZADD', 'c', '1', 'x', '2', 'y', '3', 'z'], ['ZMPOP', '2', 'c', 'str', 'MIN'], ['BZPOPMIN', 'c', '0'], ['BZPOPMAX', 'nokey', 'c', '0'],
      ['BZPOPMIN', 'c', 'x'], ['BZPOPMIN', 'c', '-1'], ['BZPOPMIN', 'str', '0'], ['ZADD', 'c', '4', 'q', '5', 'r'],
      ['BZMPOP', '0', '1', 'c', 'MAX', 'COUNT', '5'], ['BZMPOP', 'x', '1', 'c', 'MIN'], ['BZMPOP', '-1', '0', 'c', 'MIN'],
      ['BZMPOP', '0', '1', 'c', 'FOO'], ['BZMPOP', '0', '1', 'c', 'MIN', 'COUNT', '0'], ['BZMPOP', '0', '1', 'str', 'MIN'],
    );
  });

  it('ZRANDMEMBER', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c');
    await p.same(
      ['ZRANDMEMBER', 'nokey'], ['ZRANDMEMBER', 'nokey', '3'], ['ZRANDMEMBER', 'z', '0'], ['ZRANDMEMBER', 'z', 'x'],
      ['ZRANDMEMBER', 'z', '1', 'FOO'], ['ZRANDMEMBER', 'z', '1', 'WITHSCORES', 'x'], ['ZRANDMEMBER', 'z', '9223372036854775807', 'WITHSCORES'],
      ['ZRANDMEMBER', 'z', '-9223372036854775808'], ['SET', 'str', 'x'], ['ZRANDMEMBER', 'str'], ['ZRANDMEMBER', 'str', '1'],
    );
    // Whole-set answers come in an order Redis leaves to chance, so they compare as multisets.
    await p.sameUnordered(['ZRANDMEMBER', 'z', '3'], ['ZRANDMEMBER', 'z', '10', 'WITHSCORES']);
    const members = ['a', 'b', 'c'];
    const single = await p.ours.call('ZRANDMEMBER', 'z');
    expect(members).toContain(single);
    const repeated = (await p.ours.call('ZRANDMEMBER', 'z', '-20')) as string[];
    expect(repeated).toHaveLength(20);
    for (const m of repeated) expect(members).toContain(m);
    const distinct = (await p.ours.call('ZRANDMEMBER', 'z', '2')) as string[];
    expect(new Set(distinct).size).toBe(2);
    const withScores = (await p.ours.call('ZRANDMEMBER', 'z', '-4', 'WITHSCORES')) as string[];
    expect(withScores).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) expect(withScores[i + 1]).toBe(String(members.indexOf(withScores[i]!) + 1));
  });

  it('ZUNION, ZINTER, ZDIFF and their STORE forms with weights and aggregates', async () => {
    await p.both('ZADD', 'a', '1', 'x', '2', 'y', '3', 'z');
    await p.both('ZADD', 'b', '10', 'y', '20', 'z', '30', 'w');
    await p.both('ZADD', 'inf', 'inf', 'x', '-inf', 'y');
    await p.same(
      ['ZUNION', '2', 'a', 'b'], ['ZUNION', '2', 'a', 'b', 'WITHSCORES'], ['ZUNION', '2', 'a', 'b', 'WEIGHTS', '2', '0.5', 'WITHSCORES'],
      ['ZUNION', '2', 'a', 'b', 'AGGREGATE', 'MIN', 'WITHSCORES'], ['ZUNION', '2', 'a', 'b', 'AGGREGATE', 'max', 'WITHSCORES'],
      ['ZUNION', '3', 'a', 'b', 'nokey', 'WITHSCORES'], ['ZUNION', '2', 'a', 'inf', 'WITHSCORES'], ['ZUNION', '2', 'inf', 'inf', 'WITHSCORES'],
      ['ZUNION', '2', 'inf', 'a', 'WEIGHTS', '0', '1', 'WITHSCORES'], ['ZINTER', '2', 'inf', 'inf', 'WEIGHTS', '1', '-1', 'WITHSCORES'],
      ['ZINTER', '2', 'a', 'b', 'WITHSCORES'], ['ZINTER', '2', 'a', 'b', 'WEIGHTS', '1', '-1', 'AGGREGATE', 'SUM', 'WITHSCORES'],
      ['ZINTER', '2', 'a', 'nokey'], ['ZINTER', '1', 'a', 'AGGREGATE', 'MAX', 'WEIGHTS', '3'],
      ['ZDIFF', '2', 'a', 'b'], ['ZDIFF', '2', 'a', 'b', 'WITHSCORES'], ['ZDIFF', '1', 'nokey'], ['ZDIFF', '2', 'b', 'a', 'WITHSCORES'],
      ['ZDIFF', '2', 'a', 'b', 'WEIGHTS', '1', '1'], ['ZDIFF', '2', 'a', 'b', 'AGGREGATE', 'MIN'],
      ['ZUNION', '0', 'a'], ['ZUNION', 'x', 'a'], ['ZUNION', '-1', 'a'], ['ZUNION', '3', 'a', 'b'], ['ZUNION', '1', 'a', 'WEIGHTS'],
      ['ZUNION', '1', 'a', 'WEIGHTS', 'x'], ['ZUNION', '2', 'a', 'b', 'WEIGHTS', '1'], ['ZUNION', '1', 'a', 'AGGREGATE', 'AVG'],
      ['ZUNION', '1', 'a', 'AGGREGATE'], ['ZUNION', '1', 'a', 'FOO'], ['ZUNION', '1', 'a', 'WITHSCORES', 'WITHSCORES'],
      ['ZUNIONSTORE', 'd', '2', 'a', 'b'], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'], ['ZUNIONSTORE', 'd', '2', 'a', 'b', 'WITHSCORES'],
      ['ZINTERSTORE', 'd', '2', 'a', 'b', 'AGGREGATE', 'MAX'], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'],
      ['ZDIFFSTORE', 'd', '2', 'a', 'b'], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'], ['ZINTERSTORE', 'd', '2', 'a', 'nokey'], ['EXISTS', 'd'],
      ['ZUNIONSTORE', 'a', '2', 'a', 'b', 'WEIGHTS', '1', '2'], ['ZRANGE', 'a', '0', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', 'd', '0', 'a'], ['ZINTERSTORE', 'd', '0', 'a'], ['ZDIFFSTORE', 'd', '0', 'a'], ['ZDIFFSTORE', 'd', '1', 'a', 'WEIGHTS', '1'],
      ['ZINTERCARD', '2', 'a', 'b'], ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'], ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '0'],
      ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '-1'], ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', 'x'], ['ZINTERCARD', '0', 'a'],
      ['ZINTERCARD', '1', 'nokey'], ['ZINTERCARD', '2', 'a', 'b', 'WITHSCORES'], ['ZINTERCARD', '2', 'a', 'b', 'WEIGHTS', '1', '1'],
      ['SET', 'str', 'x'], ['ZUNION', '2', 'a', 'str'], ['ZUNION', '2', 'a', 'str', 'FOO'], ['ZINTER', '2', 'nokey', 'str'],
      ['ZDIFF', '2', 'a', 'str'], ['ZUNIONSTORE', 'd', '2', 'a', 'str'], ['ZINTERCARD', '2', 'a', 'str'],
      ['ZUNIONSTORE', 'str', '1', 'a'], ['TYPE', 'str'],
    );
  });

  it('plain sets count as inputs with score 1', async () => {
    await p.both('ZADD', 'z', '5', 'a', '6', 'b');
    await p.both('SADD', 's', 'a', 'c', '1', '2');
    await p.both('SADD', 'ints', '1', '2', '3');
    await p.same(
      ['ZUNION', '2', 'z', 's', 'WITHSCORES'], ['ZINTER', '2', 'z', 's', 'WEIGHTS', '2', '3', 'WITHSCORES'],
      ['ZDIFF', '2', 's', 'z', 'WITHSCORES'], ['ZUNION', '2', 's', 'ints', 'AGGREGATE', 'MAX', 'WITHSCORES'],
      ['ZINTERCARD', '2', 's', 'ints'], ['ZUNIONSTORE', 'd', '2', 'ints', 's'], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'],
      ['ZRANGE', 's', '0', '-1'], ['ZSCORE', 's', 'a'],
    );
  });

  it('ZSCAN', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2.5', 'b', '3', 'c', '0.1', 'abc');
    await p.same(
      ['ZSCAN', 'z', '0'], ['ZSCAN', 'z', '0', 'MATCH', 'a*'], ['ZSCAN', 'z', '0', 'COUNT', '1'], ['ZSCAN', 'z', '0', 'MATCH', '*', 'COUNT', '100'],
      ['ZSCAN', 'z', '0', 'COUNT', '0'], ['ZSCAN', 'z', '0', 'COUNT', 'x'], ['ZSCAN', 'z', '0', 'FOO', 'bar'], ['ZSCAN', 'z', '0', 'COUNT'],
      ['ZSCAN', 'z', 'x'], ['ZSCAN', 'z', '-1x'], ['ZSCAN', 'nokey', '0'], ['ZSCAN', 'nokey', 'x'], ['ZSCAN', 'nokey', '0', 'FOO'],
      ['SET', 'str', 'x'], ['ZSCAN', 'str', '0'], ['ZSCAN', 'str', 'x'], ['ZSCAN', 'z'],
    );
  });

  it('big sets: skiplist encoding, ranks, ranges and a full ZSCAN', async () => {
    await p.both(...bigZadd('big', 300));
    await p.same(
      ['OBJECT', 'ENCODING', 'big'], ['ZCARD', 'big'], ['ZRANGE', 'big', '100', '110', 'WITHSCORES'], ['ZRANGE', 'big', '-5', '-1', 'REV', 'WITHSCORES'],
      ['ZRANK', 'big', 'm150'], ['ZREVRANK', 'big', 'm150'], ['ZRANK', 'big', 'm299'], ['ZCOUNT', 'big', '(10', '40.1'],
      ['ZRANGE', 'big', '20', '30', 'BYSCORE', 'LIMIT', '5', '7', 'WITHSCORES'], ['ZRANGE', 'big', '(50', '20', 'BYSCORE', 'REV', 'LIMIT', '3', '4'],
      ['ZRANGEBYLEX', 'big', '[m100', '(m120'], ['ZRANGE', 'big', '[m200', '[m100', 'BYLEX', 'REV', 'LIMIT', '10', '5'], ['ZLEXCOUNT', 'big', '(m010', '+'],
      ['ZREMRANGEBYRANK', 'big', '10', '19'], ['ZREMRANGEBYSCORE', 'big', '50', '(60'], ['ZREMRANGEBYLEX', 'big', '[m250', '[m260'],
      ['ZCARD', 'big'], ['ZRANGE', 'big', '0', '-1', 'WITHSCORES'], ['ZPOPMIN', 'big', '3'], ['ZPOPMAX', 'big', '2'],
      ['ZMPOP', '1', 'big', 'MAX', 'COUNT', '2'], ['OBJECT', 'ENCODING', 'big'], ['ZREMRANGEBYRANK', 'big', '5', '-1'],
      ['OBJECT', 'ENCODING', 'big'], ['ZRANGE', 'big', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'big', '-0', 'negzero'], ['ZSCORE', 'big', 'negzero'], ['ZINCRBY', 'big', '-0', 'nz2'], ['ZSCORE', 'big', 'nz2'],
      ['ZRANGESTORE', 'first', 'big', '0', '0'], ['ZRANGE', 'first', '0', '-1', 'WITHSCORES'], ['ZUNIONSTORE', 'all', '1', 'big'],
      ['ZSCORE', 'all', 'negzero'], ['ZUNION', '1', 'first', 'WEIGHTS', '-1', 'WITHSCORES'], ['ZREM', 'big', 'negzero', 'nz2'],
      ['ZADD', 'long', '1', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'long'], ['ZADD', 'short', '1', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'short'],
    );
    await p.both(...bigZadd('b2', 200));
    await p.same(
      ['ZUNIONSTORE', 'u', '2', 'b2', 'big', 'WEIGHTS', '0.5', '3'], ['OBJECT', 'ENCODING', 'u'], ['ZRANGE', 'u', '0', '-1', 'WITHSCORES'],
      ['ZINTERSTORE', 'i', '2', 'b2', 'big'], ['OBJECT', 'ENCODING', 'i'], ['ZRANGESTORE', 'r', 'b2', '0', '9'], ['OBJECT', 'ENCODING', 'r'],
      ['ZDIFF', '2', 'b2', 'big', 'WITHSCORES'], ['ZINTERCARD', '2', 'b2', 'big', 'LIMIT', '7'],
    );
    // A skiplist ZSCAN walks hash-table order: compare the union of a full iteration instead.
    const fullScan = async (c: typeof p.ours): Promise<string[]> => {
      const seen = new Map<string, string>();
      let cursor = '0';
      do {
        const [next, items] = (await c.call('ZSCAN', 'b2', cursor, 'COUNT', '17')) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
        cursor = next;
      } while (cursor !== '0');
      return [...seen].map(([m, s]) => `${m}=${s}`).sort();
    };
    const [ours, theirs] = await Promise.all([fullScan(p.ours), fullScan(p.redis)]);
    expect(ours).toHaveLength(200);
    expect(ours).toEqual(theirs);
  });

  it('RESP3 shapes', async () => {
    await p.both('HELLO', '3');
    await p.both('ZADD', 'z', '1', 'a', '2.5', 'b', '3', 'c', '4', 'd', '5', 'e');
    await p.both('ZADD', 'y', '1', 'a', '2', 'q');
    await p.same(
      ['ZSCORE', 'z', 'b'], ['ZSCORE', 'z', 'nope'], ['ZMSCORE', 'z', 'a', 'nope'], ['ZINCRBY', 'z', '0.5', 'a'], ['ZADD', 'z', 'INCR', '1', 'a'],
      ['ZADD', 'z', 'NX', 'INCR', '1', 'a'], ['ZRANK', 'z', 'nope'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'z', '0', '1'],
      ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES'], ['ZREVRANGE', 'z', '0', '1', 'WITHSCORES'], ['ZRANGE', 'nokey', '0', '-1'],
      ['ZUNION', '2', 'z', 'y', 'WITHSCORES'], ['ZINTER', '2', 'z', 'y', 'WITHSCORES'], ['ZDIFF', '2', 'z', 'y', 'WITHSCORES'], ['ZUNION', '2', 'z', 'y'],
      ['ZSCAN', 'z', '0'], ['ZRANDMEMBER', 'nokey'], ['ZRANDMEMBER', 'nokey', '1'],
      ['ZPOPMIN', 'z'], ['ZPOPMIN', 'z', '1'], ['ZPOPMAX', 'z', '2'], ['ZPOPMIN', 'nokey'], ['ZPOPMIN', 'nokey', '2'],
      ['ZMPOP', '1', 'y', 'MIN'], ['ZMPOP', '1', 'nokey', 'MIN'], ['BZPOPMIN', 'z', '0'], ['BZMPOP', '0', '1', 'y', 'MAX', 'COUNT', '3'],
    );
    await p.sameUnordered(['ZRANDMEMBER', 'z', '5', 'WITHSCORES']);
    const oneRandom = await p.ours.call('ZRANDMEMBER', 'z', '-1', 'WITHSCORES');
    const redisRandom = await p.redis.call('ZRANDMEMBER', 'z', '-1', 'WITHSCORES');
    expect(plain(oneRandom)).toEqual(plain(redisRandom)); // one member left: no chance involved
  });

  it('read commands count keyspace hits and misses, writes do not', async () => {
    await p.both('ZADD', 'z', '1', 'a', '2', 'b');
    await p.both('SET', 'str', 'x');
    await p.both('CONFIG', 'RESETSTAT');
    for (const cmd of [
      ['ZSCORE', 'z', 'a'], ['ZSCORE', 'nokey', 'a'], ['ZCARD', 'str'], ['ZRANGE', 'z', '0', '-1'], ['ZRANGE', 'nokey', '0', '-1'],
      ['ZRANGESTORE', 'd', 'z', '0', '0'], ['ZUNION', '2', 'z', 'nokey'], ['ZUNIONSTORE', 'd', '2', 'z', 'nokey'], ['ZINTERCARD', '1', 'z'],
      ['ZRANDMEMBER', 'z'], ['ZSCAN', 'nokey', '0'], ['ZADD', 'z', '3', 'c'], ['ZREM', 'nokey', 'a'], ['ZPOPMIN', 'nokey'],
      ['ZREMRANGEBYRANK', 'z', '5', '6'], ['ZMPOP', '1', 'nokey', 'MIN'], ['BZPOPMIN', 'z', '0'],
    ]) await p.both(...cmd);
    const stats = async (c: typeof p.ours): Promise<string[]> => {
      const info = (await c.call('INFO', 'stats')) as string;
      return info.split('\r\n').filter((line) => line.startsWith('keyspace_'));
    };
    const [ours, theirs] = await Promise.all([stats(p.ours), stats(p.redis)]);
    expect(ours).toHaveLength(2);
    expect(ours).toEqual(theirs);
  });

  it('arity errors', async () => {
    await p.same(
      ['ZADD', 'z', '1'], ['ZREM', 'z'], ['ZSCORE', 'z'], ['ZMSCORE', 'z'], ['ZINCRBY', 'z', '1'], ['ZCARD'], ['ZCOUNT', 'z', '1'],
      ['ZLEXCOUNT', 'z', '-'], ['ZRANGE', 'z', '0'], ['ZRANGESTORE', 'd', 'z', '0'], ['ZREVRANGE', 'z', '0'], ['ZRANGEBYSCORE', 'z', '0'],
      ['ZREVRANGEBYSCORE', 'z', '0'], ['ZRANGEBYLEX', 'z', '-'], ['ZREVRANGEBYLEX', 'z', '+'], ['ZRANK', 'z'], ['ZREVRANK', 'z'],
      ['ZREMRANGEBYRANK', 'z', '0'], ['ZREMRANGEBYSCORE', 'z', '0'], ['ZREMRANGEBYLEX', 'z', '-'], ['ZPOPMIN'], ['ZPOPMAX'],
      ['BZPOPMIN', 'z'], ['BZPOPMAX', 'z'], ['ZMPOP', '1', 'z'], ['BZMPOP', '0', '1', 'z'], ['ZRANDMEMBER'], ['ZUNION', '1'], ['ZINTER', '1'],
      ['ZDIFF', '1'], ['ZUNIONSTORE', 'd', '1'], ['ZINTERSTORE', 'd', '1'], ['ZDIFFSTORE', 'd', '1'], ['ZINTERCARD', '1'], ['ZSCAN', 'z'],
    );
  });

  it('random ZADD/ZREM/ZINCRBY sequences leave identical sets (property)', async () => {
    const member = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'ab', 'ba', '', 'Z', '\xff');
    const score = fc.oneof(
      fc.integer({ min: -50, max: 50 }).map(String),
      fc.constantFrom('0.1', '-0.25', '1e3', '+inf', '-inf', '-0', '(1', 'x', '3.000001'),
      fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(String),
    );
    const flags = fc.subarray(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']);
    const op = fc.oneof(
      fc.tuple(flags, fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 4 })).map(([f, pairs]): Cmd => ['ZADD', 'pz', ...f, ...pairs.flat()]),
      fc.array(member, { minLength: 1, maxLength: 3 }).map((ms): Cmd => ['ZREM', 'pz', ...ms]),
      fc.tuple(score, member).map(([s, m]): Cmd => ['ZINCRBY', 'pz', s, m]),
      fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })).map(([a, b]): Cmd => ['ZREMRANGEBYRANK', 'pz', a, b]),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        await p.both('DEL', 'pz');
        await p.same(...ops, ['ZRANGE', 'pz', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'pz', '-inf', '+inf', 'BYSCORE', 'REV', 'WITHSCORES']);
      }),
      { numRuns: 150 },
    );
  });

  it('random writes and range queries on a skiplist-encoded set agree (property)', async () => {
    const member = fc.integer({ min: 0, max: 170 }).map((i) => `m${String(i).padStart(3, '0')}`);
    const score = fc.oneof(fc.integer({ min: -5, max: 60 }).map(String), fc.constantFrom('0.5', '(10', '-inf', '+inf', '(0'));
    const lexBound = fc.oneof(member.map((m) => `[${m}`), member.map((m) => `(${m}`), fc.constantFrom('-', '+'));
    const small = fc.integer({ min: -3, max: 12 });
    const op = fc.oneof(
      fc.array(fc.tuple(score.filter((s) => !s.startsWith('(')), member), { minLength: 1, maxLength: 5 }).map((pairs): Cmd => ['ZADD', 'pb', ...pairs.flat()]),
      fc.array(member, { minLength: 1, maxLength: 5 }).map((ms): Cmd => ['ZREM', 'pb', ...ms]),
      fc.tuple(fc.integer({ min: -20, max: 20 }).map(String), member).map(([s, m]): Cmd => ['ZINCRBY', 'pb', s, m]),
      member.map((m): Cmd => ['ZRANK', 'pb', m]),
      member.map((m): Cmd => ['ZREVRANK', 'pb', m]),
      fc.tuple(fc.integer({ min: -200, max: 200 }), fc.integer({ min: -200, max: 200 })).map(([a, b]): Cmd => ['ZRANGE', 'pb', a, b, 'WITHSCORES']),
      fc.tuple(score, score, small, small, fc.boolean()).map(([a, b, o, l, rev]): Cmd =>
        rev ? ['ZRANGE', 'pb', b, a, 'BYSCORE', 'REV', 'LIMIT', o, l, 'WITHSCORES'] : ['ZRANGE', 'pb', a, b, 'BYSCORE', 'LIMIT', o, l, 'WITHSCORES']),
      // Lex ranges are only defined when all scores are equal: they use the all-zero set "pl".
      fc.array(member, { minLength: 1, maxLength: 5 }).map((ms): Cmd => ['ZADD', 'pl', ...ms.flatMap((m) => ['0', m])]),
      fc.array(member, { minLength: 1, maxLength: 5 }).map((ms): Cmd => ['ZREM', 'pl', ...ms]),
      fc.tuple(lexBound, lexBound, small, small, fc.boolean()).map(([a, b, o, l, rev]): Cmd =>
        rev ? ['ZREVRANGEBYLEX', 'pl', b, a, 'LIMIT', o, l] : ['ZRANGEBYLEX', 'pl', a, b, 'LIMIT', o, l]),
      fc.tuple(score, score).map(([a, b]): Cmd => ['ZCOUNT', 'pb', a, b]),
      fc.tuple(lexBound, lexBound).map(([a, b]): Cmd => ['ZLEXCOUNT', 'pl', a, b]),
      fc.tuple(score, score).map(([a, b]): Cmd => ['ZREMRANGEBYSCORE', 'pb', a, b]),
      fc.tuple(lexBound, lexBound).map(([a, b]): Cmd => ['ZREMRANGEBYLEX', 'pl', a, b]),
      fc.tuple(fc.integer({ min: -150, max: 150 }), fc.integer({ min: -150, max: 150 })).map(([a, b]): Cmd => ['ZREMRANGEBYRANK', 'pb', a, b]),
      fc.tuple(fc.constantFrom('ZPOPMIN', 'ZPOPMAX'), fc.integer({ min: 0, max: 4 })).map(([c, n]): Cmd => [c, 'pb', n]),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        await p.both('DEL', 'pb', 'pl');
        await p.both(...bigZadd('pb', 150));
        await p.both('ZADD', 'pl', ...Array.from({ length: 150 }, (_, i) => ['0', `m${String(i).padStart(3, '0')}`]).flat());
        await p.same(...ops, ['ZRANGE', 'pb', '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', 'pb'], ['ZRANGE', 'pl', '0', '-1']);
      }),
      { numRuns: 120 },
    );
  });
});
