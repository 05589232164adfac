// Scripting: EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT on our node vs real redis-server, same
// commands, same replies (Redis's Lua → reply conversions, reply → Lua conversions, error texts).
import { beforeEach, describe, expect, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';
import { plain } from '../../helpers/differential.js';

describe('scripting matches redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('SCRIPT', 'FLUSH');
  });

  it('Lua values become replies as Redis converts them', async () => {
    await p.same(
      ['EVAL', 'return 1', '0'], ['EVAL', 'return 3.99', '0'], ['EVAL', 'return -3.99', '0'], ['EVAL', "return 'x'", '0'],
      ['EVAL', 'return true', '0'], ['EVAL', 'return false', '0'], ['EVAL', 'return nil', '0'],
      ['EVAL', "return {1, 2, 3.9, 'x', nil, 5}", '0'], ['EVAL', "return {1, {2, {'a'}}, {}}", '0'],
      ['EVAL', "return {ok='fine'}", '0'], ['EVAL', "return {err='boom'}", '0'], ['EVAL', "return {err='My code here'}", '0'],
      ['EVAL', "return redis.error_reply('My Error')", '0'], ['EVAL', "return redis.error_reply('-X y')", '0'],
      ['EVAL', "return redis.status_reply('FINE')", '0'], ['EVAL', 'return {true, false, 1}', '0'],
      ['EVAL', "return redis.sha1hex('')", '0'], ['EVAL', 'return redis.sha1hex()', '0'],
      ['EVAL', 'return 2^40', '0'], ['EVAL', 'return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}', '2', 'k1', 'k2', 'a1', 'a2'],
      ['EVAL', 'return unpack({1, 2, 3})', '0'], ['EVAL', 'return {unpack({1, 2, 3})}', '0'], ['EVAL', 'return table.getn({1, 2})', '0'],
      ['EVAL', "return {bit.band(0xff, -1), bit.tohex(-1), bit.bnot(0), bit.rshift(-1, 28), bit.tobit(2^32 + 5), bit.tohex(255, -4), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.lshift(1, 31), bit.arshift(-256, 4)}", '0'],
    );
  });

  // Numbers past 2^53 and past long long (found by the differential fuzz run through EVAL): Redis
  // casts the double, so big ones stay exact and anything out of range (or NaN, inf) is LLONG_MIN;
  // a reply of `:1e+19` is not RESP at all.
  it('wide Lua numbers become integer replies as Redis casts them', async () => {
    await p.same(
      ['EVAL', 'return 1e19', '0'], ['EVAL', 'return -1e19', '0'], ['EVAL', 'return 0/0', '0'], ['EVAL', 'return 1/0', '0'],
      ['EVAL', 'return -1/0', '0'], ['EVAL', 'return 2^63', '0'], ['EVAL', 'return -2^63', '0'], ['EVAL', 'return 9007199254740993', '0'],
      ['EVAL', 'return 4611686018427387904.5', '0'], ['EVAL', 'return -0.5', '0'], ['EVAL', 'return {1e300, 2.5, -2^53 - 2}', '0'],
      ['EVAL', "return redis.call('incrby', KEYS[1], '-9223372036854775808')", '1', 'n'],
      ['EVAL', "return redis.call('decrby', KEYS[1], '-9223372036854775807')", '1', 'n'],
    );
  });

  it('redis.call replies become Lua values; binary-safe strings', async () => {
    await p.both('SET', 's', 'foo');
    await p.both('RPUSH', 'l', 'a', 'b');
    await p.same(
      ['EVAL', "return redis.call('get', KEYS[1])", '1', 's'], ['EVAL', "return type(redis.call('get', 'nokey'))", '0'],
      ['EVAL', "return redis.call('get', 'nokey') == false", '0'], ['EVAL', "return redis.call('set', 'x', 'y')", '0'],
      ['EVAL', "return redis.call('set', 'x', 'y')['ok']", '0'], ['EVAL', "return redis.call('lrange', 'l', 0, -1)", '0'],
      ['EVAL', "return redis.call('incr', 'cnt') + 1", '0'], ['EVAL', "return tostring(redis.call('incr', 'cnt'))", '0'],
      ['EVAL', "return redis.call('incrby', 'big', 2^40)", '0'], ['EVAL', "return redis.call('incrbyfloat', 'f', 1.5)", '0'],
      ['EVAL', "return redis.pcall('incr', 's')", '0'], ['EVAL', "return redis.pcall('incr', 's')['err']", '0'],
      ['EVAL', "local ok, e = pcall(redis.call, 'incr', 's'); return {tostring(ok), e}", '0'],
      ['EVAL', "return redis.call('set', KEYS[1], ARGV[1])", '1', 'bin', '\u0000\u00ff\r\nx'], ['GET', 'bin'],
      ['EVAL', "return redis.call('get', 'bin')", '0'], ['EVAL', "return #redis.call('get', 'bin')", '0'],
      ['EVAL', "return redis.call('exists', 's', 'l', 'none')", '0'], ['EVAL', "return redis.call('hgetall', 'nokey')", '0'],
      ['EVAL', "redis.call('select', 1); redis.call('set', 'in1', 'v'); return redis.call('dbsize')", '0'], ['DBSIZE'],
    );
  });

  it('script errors carry Redis 7.0 texts', async () => {
    await p.both('SET', 's', 'foo');
    await p.same(
      ['EVAL', "error('x')", '0'], ['EVAL', "error({err='tbl'})", '0'], ['EVAL', "return redis.call('nosuch')", '0'],
      ['EVAL', "return redis.pcall('nosuch')", '0'], ['EVAL', "return redis.call('set', 'a')", '0'],
      ['EVAL', "return redis.call('incr', 's')", '0'], ['EVAL', "return redis.call()", '0'], ['EVAL', "return redis.call('get', {})", '0'],
      ['EVAL', "return redis.call('multi')", '0'], ['EVAL', 'x = 1', '0'], ['EVAL', 'return y', '0'], ['EVAL', 'return 1 +', '0'],
      ['EVAL', "\n\nerror('line three')", '0'], ['EVAL', 'return 1', '-1'], ['EVAL', 'return 1', '2', 'a'], ['EVAL', 'return 1', 'x'],
      ['EVAL', 'return 1'], ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'], ['EVALSHA', 'short', '0'],
      ['EVAL_RO', "return redis.call('set', 'a', 'b')", '0'], ['EVAL_RO', "return redis.call('get', 's')", '0'],
      ['EVAL', "redis.log(redis.LOG_WARNING, 'from a test')", '0'], ['EVAL', 'redis.log(1)', '0'], ['EVAL', "redis.log('x', 'y')", '0'],
      ['EVAL', "redis.log(9, 'y')", '0'], ['EVAL', 'redis.setresp(4)', '0'], ['EVAL', 'return redis.setresp(2)', '0'],
      ['EVAL', 'return dofile', '0'], ['EVAL', 'return print', '0'],
    );
  });

  it('cjson encodes and decodes as lua-cjson', async () => {
    await p.same(
      ['EVAL', "return cjson.encode({1, 2, 'a/b', {x = 1.5}, true, {}, 0.1, -3, 1e20, 123456789012})", '0'],
      ['EVAL', "return cjson.encode({a = {b = {}}, n = cjson.null})", '0'], ['EVAL', "return cjson.encode('\\0\\1\\31\"\\\\\\n')", '0'],
      ['EVAL', 'return cjson.encode(function() end)', '0'], ['EVAL', 'return cjson.encode({[1] = 1, [100] = 2})', '0'],
      ['EVAL', 'return cjson.encode({[1] = 1, [3] = 3})', '0'], ['EVAL', 'return cjson.encode(0 / 0)', '0'], ['EVAL', 'return cjson.encode()', '0'],
      ['EVAL', 'local t = cjson.decode(ARGV[1]); return {t.a[1], t.a[2], type(t.a[3].b), tostring(t.a[3].b == cjson.null), t.c, tostring(t.d), t.r, #t.r}', '0',
        '{"a":[1,2,{"b":null}],"c":"\\u00e9x\\u20ac","d":1.25,"r":"\u00e9"}'],
      ['EVAL', "return cjson.encode(cjson.decode('[1,\"x\",[true,false],{\"k\":[]}]'))", '0'],
    );
  });

  it('cmsgpack packs the same bytes and unpacks them', async () => {
    await p.same(
      ['EVAL', "return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 5000000000, -5000000000, 1.5, 0.1, 'abc', string.rep('x', 40), string.rep('y', 300), {1, 2, {3}}, true, false, nil)", '0'],
      ['EVAL', "return cmsgpack.pack({a = 1})", '0'],
      ['EVAL', "local t = {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2, {x = 'y'}}, 2.5, -7, 5000000000))}; return {t[1], t[2], t[3][2], t[3][3].x, tostring(t[4]), t[5], #t, t[6]}", '0'],
      ['EVAL', "return cmsgpack.unpack('\\205')", '0'], ['EVAL', "return cmsgpack.unpack('\\193')", '0'], ['EVAL', 'return cmsgpack.pack()', '0'],
    );
  });

  it('SCRIPT LOAD / EXISTS / FLUSH / KILL and EVALSHA / EVALSHA_RO', async () => {
    const [sha] = await p.same(['SCRIPT', 'LOAD', "return redis.call('incr', KEYS[1])"]);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    await p.same(
      ['EVALSHA', sha as string, '1', 'c'], ['EVALSHA', (sha as string).toUpperCase(), '1', 'c'], ['EVALSHA_RO', sha as string, '1', 'c'],
      ['SCRIPT', 'EXISTS', sha as string, 'ffffffffffffffffffffffffffffffffffffffff'], ['SCRIPT', 'LOAD', 'return 1 +'],
      ['EVAL', 'return 7', '0'], ['SCRIPT', 'EXISTS', 'a5260dd66ce02462c5b5231c727b3f7772c0bcc5'], ['SCRIPT', 'KILL'],
      ['SCRIPT', 'FLUSH', 'BAD'], ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'EXISTS', sha as string], ['EVALSHA', sha as string, '1', 'c'],
      ['SCRIPT', 'FLUSH', 'SYNC'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'LOAD'], ['SCRIPT', 'EXISTS'], ['SCRIPT', 'NOPE'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '2', 'a', 'b', 'c'], ['COMMAND', 'GETKEYS', 'EVALSHA_RO', sha as string, '1', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '0'],
    );
  });

  it('scripts are atomic inside MULTI and see their own writes; blocking commands do not block', async () => {
    await p.same(
      ['MULTI'], ['EVAL', "redis.call('rpush', 'q', 'a'); return redis.call('llen', 'q')", '0'], ['INCR', 'n'], ['EXEC'],
      ['EVAL', "return redis.call('blpop', 'empty', 0)", '0'], ['EVAL', "return redis.call('blpop', 'q', 0)", '0'],
      ['EVAL', "redis.call('del', 'q'); redis.call('rpush', 'q', 1, 2, 3); return redis.call('lrange', 'q', 0, -1)", '0'],
    );
  });

  it('a long script is atomic: another client\'s write lands before or after it, never inside', async () => {
    const other = await RawClient.connect(p.node.port);
    try {
      const order: string[] = [];
      // The script reads n, spins, reads n again: an INCR from elsewhere in between would show.
      const script = "local a = redis.call('get', 'n') or '0'; local x = 0; for i = 1, 3000000 do x = x + i end; return {a, redis.call('get', 'n') or '0'}";
      const evalDone = p.ours.call('EVAL', script, '0').then((r) => (order.push('eval'), r));
      const incrDone = other.call('INCR', 'n').then((r) => (order.push('incr'), r));
      const [seen, n] = await Promise.all([evalDone, incrDone]);
      const [before, after] = seen as [string, string];
      expect(before).toBe(after);
      expect(n).toBe(1);
      expect(order).toHaveLength(2);
    } finally {
      other.close();
    }
  });

  it('past busy-reply-threshold: -BUSY to others, SCRIPT KILL, UNKILLABLE after a write', async () => {
    const ports = [p.node.port, p.redisServer.port];
    const runners = await Promise.all(ports.map((port) => RawClient.connect(port)));
    const others = await Promise.all(ports.map((port) => RawClient.connect(port)));
    const both = async (...args: string[]) => (await Promise.all(others.map((c) => c.call(...args)))).map(plain);
    const untilBusy = () => waitFor(async () => (await both('GET', 'x')).every((r) => JSON.stringify(r).includes('BUSY')), { what: 'BUSY on both' });
    try {
      await both('CONFIG', 'SET', 'busy-reply-threshold', '100');
      const spinning = runners.map((c) => c.call('EVAL', 'local i = 0 while true do i = i + 1 end', '0'));
      await untilBusy();
      const [ours, theirs] = await both('PING');
      expect(ours).toEqual(theirs);
      expect(ours).toEqual({ error: 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.' });
      const [killOurs, killTheirs] = await both('SCRIPT', 'KILL');
      expect(killOurs).toBe('+OK');
      expect(killOurs).toEqual(killTheirs);
      const [killed, killedTheirs] = (await Promise.all(spinning)).map(plain);
      expect(killed).toEqual(killedTheirs);
      expect(await both('SCRIPT', 'KILL')).toEqual([{ error: 'NOTBUSY No scripts in execution right now.' }, { error: 'NOTBUSY No scripts in execution right now.' }]);

      // A script that wrote cannot be killed; it runs to its end (a bounded spin of 1.5 s).
      const writing = "redis.call('set', 'w', '1'); local t0 = redis.call('time'); " +
        "repeat local t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1500000; return 'done'";
      const done = runners.map((c) => c.call('EVAL', writing, '0'));
      await untilBusy();
      const [unkillable, unkillableTheirs] = await both('SCRIPT', 'KILL');
      expect(unkillable).toEqual(unkillableTheirs);
      expect((await Promise.all(done)).map(plain)).toEqual(['done', 'done']);
      expect(await both('GET', 'w')).toEqual(['1', '1']);
    } finally {
      await both('CONFIG', 'SET', 'busy-reply-threshold', '5000');
      for (const c of [...runners, ...others]) c.close();
    }
  });
});
