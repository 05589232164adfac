// Redis 7 functions on our node vs real redis-server side by side: FUNCTION LOAD/DELETE/FLUSH/
// LIST/DUMP/RESTORE/STATS/KILL/HELP, FCALL/FCALL_RO with the flags, error texts included, and
// FUNCTION DUMP payloads byte for byte (each side restores the other's).
import { beforeEach, describe, expect, it } from 'vitest';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

const lib = (name: string, body: string) => `#!lua name=${name}\n${body}`;
const LIB = lib('mylib', [
  "redis.register_function('echo_args', function(keys, args) return {keys, args, #keys, #args} end)",
  "redis.register_function{function_name='setget', callback=function(keys, args) redis.call('set', keys[1], args[1]); return redis.call('get', keys[1]) end, description='sets and gets'}",
  "redis.register_function{function_name='ro_get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}",
  "redis.register_function{function_name='ro_set', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes', 'allow-oom'}}",
  "redis.register_function{function_name='all_flags', callback=function() return 1 end, flags={'allow-cross-slot-keys', 'no-cluster', 'allow-stale', 'ALLOW-OOM', 'no-writes'}}",
].join('\n'));

describe('functions match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('FUNCTION', 'FLUSH');
  });

  it('FUNCTION LOAD, FCALL and FCALL_RO with flags', async () => {
    await p.same(
      ['FUNCTION', 'LOAD', LIB], ['FCALL', 'echo_args', '2', 'k1', 'k2', 'a1'], ['FCALL', 'ECHO_ARGS', '0'],
      ['FCALL', 'setget', '1', 'k', 'v'], ['GET', 'k'], ['FCALL', 'ro_get', '1', 'k'], ['FCALL_RO', 'ro_get', '1', 'k'],
      ['FCALL_RO', 'setget', '1', 'k', 'v'], ['FCALL', 'ro_set', '1', 'k'], ['FCALL', 'all_flags', '0'],
      ['FCALL', 'nosuch', '0'], ['FCALL', 'echo_args', 'x'], ['FCALL', 'echo_args', '-1'], ['FCALL', 'echo_args', '3', 'a'],
      ['FCALL', 'echo_args'], ['FUNCTION', 'LOAD', LIB], ['FUNCTION', 'LOAD', 'REPLACE', LIB], ['FUNCTION', 'LOAD', 'NOPE', LIB],
    );
    // A library's functions come in Redis's dict (hash) order: compared as sets.
    await p.sameUnordered(['FUNCTION', 'LIST'], ['FUNCTION', 'LIST', 'WITHCODE'], ['FUNCTION', 'LIST', 'LIBRARYNAME', 'my*']);
    await p.same(
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'x*'], ['FUNCTION', 'LIST', 'LIBRARYNAME'], ['FUNCTION', 'LIST', 'BOGUS'],
      ['FUNCTION', 'STATS'], ['FUNCTION', 'DELETE', 'nosuch'], ['FUNCTION', 'DELETE', 'mylib'], ['FCALL', 'echo_args', '0'],
      ['FUNCTION', 'LIST'], ['FUNCTION', 'STATS'],
    );
  });

  it('function bodies: errors, globals, redis API, conversions', async () => {
    await p.same(
      ['FUNCTION', 'LOAD', lib('errs', [
        "redis.register_function('boom', function() error('boom') end)",
        "redis.register_function('tblerr', function() error({err='MYCODE custom'}) end)",
        "redis.register_function('nocmd', function() return redis.call('nosuch') end)",
        "redis.register_function('keysglobal', function() return KEYS end)",
        "redis.register_function('setglobal', function() x = 1 end)",
        "redis.register_function('stdlib', function(k, a) return {string.rep('a', 3), table.concat({'x', 'y'}), math.floor(2.5), tostring(cjson ~= nil)} end)",
        "redis.register_function('pcalled', function() return redis.pcall('incr', 'notnum') end)",
        "redis.register_function('types', function() return {1, 2.7, 'x', true, false, {ok='fine'}} end)",
        "redis.register_function('status', function() return redis.status_reply('DONE') end)",
        "redis.register_function('reg', function() redis.register_function('z', function() end) end)",
      ].join('\n'))],
      ['SET', 'notnum', 'abc'], ['FCALL', 'boom', '0'], ['FCALL', 'tblerr', '0'], ['FCALL', 'nocmd', '0'], ['FCALL', 'keysglobal', '0'],
      ['FCALL', 'setglobal', '0'], ['FCALL', 'stdlib', '0'], ['FCALL', 'pcalled', '0'], ['FCALL', 'types', '0'], ['FCALL', 'status', '0'],
      ['EVAL', 'return 1', '1', 'leftover'], ['FCALL', 'keysglobal', '0'],
    );
  });

  it('FUNCTION LOAD errors carry Redis 7.0 texts', async () => {
    const reg = "redis.register_function('f', function() return 1 end)";
    await p.same(
      ['FUNCTION', 'LOAD', 'return 1'], ['FUNCTION', 'LOAD', '#!lua name=x'], ['FUNCTION', 'LOAD', `#!lua\n${reg}`],
      ['FUNCTION', 'LOAD', `#!lua name=a name=b\n${reg}`], ['FUNCTION', 'LOAD', `#!lua foo=bar\n${reg}`],
      ['FUNCTION', 'LOAD', `#!lua name=bad-name\n${reg}`], ['FUNCTION', 'LOAD', `#!js name=x\n${reg}`],
      ['FUNCTION', 'LOAD', `#!LUA name=upper\n${reg}`], ['FUNCTION', 'DELETE', 'upper'],
      ['FUNCTION', 'LOAD', lib('x', 'return 1')], ['FUNCTION', 'LOAD', lib('x', 'local s = string.len("a")')],
      ['FUNCTION', 'LOAD', lib('x', 'redis.call("ping")')], ['FUNCTION', 'LOAD', lib('x', 'return 1 +')],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function('f')")], ['FUNCTION', 'LOAD', lib('x', "redis.register_function('f', 1)")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function({}, function() end)")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function('f', function() end, 3)")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function('bad-fn', function() end)")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function('f', function() end)\nredis.register_function('f', function() end)")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f'}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{callback=function() end}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f', callback=function() end, flags={'bogus'}}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f', callback=function() end, other=1}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f', callback=1}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name={}, callback=function() end}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function{function_name='f', callback=function() end, description={}}")],
      ['FUNCTION', 'LOAD', lib('x', "redis.register_function('f', function() return 1 end)")],
      ['FUNCTION', 'LOAD', lib('y', "redis.register_function('F', function() return 2 end)")],
      ['FUNCTION', 'LOAD', 'REPLACE', lib('x', "redis.register_function('f', function() return 3 end)")], ['FCALL', 'f', '0'],
      ['FUNCTION', 'LOAD', lib('x', "redis.log(redis.LOG_NOTICE, 'loading'); redis.register_function('g', function() return redis.REDIS_VERSION end)")],
      ['FUNCTION', 'LOAD', lib('v', "local v = redis.REDIS_VERSION_NUM; redis.register_function('ver', function() return v end)")], ['FCALL', 'ver', '0'],
      ['FUNCTION', 'LOAD'], ['FUNCTION', 'FLUSH', 'SYNC'], ['FUNCTION', 'FLUSH', 'ASYNC'], ['FUNCTION', 'FLUSH', 'BAD'], ['FUNCTION', 'FLUSH', 'a', 'b'],
      ['FUNCTION', 'NOSUB'], ['FUNCTION'], ['FUNCTION', 'HELP'], ['FUNCTION', 'DUMP', 'x'], ['FUNCTION', 'KILL'],
      ['FUNCTION', 'RESTORE', 'garbage'], ['FUNCTION', 'RESTORE', 'garbage', 'BAD'], ['FUNCTION', 'RESTORE', 'a', 'b', 'c'],
    );
  });

  it('RESP3: LIST maps and flag sets, STATS maps, FCALL replies', async () => {
    await p.both('HELLO', '3');
    try {
      await p.same(
        ['FUNCTION', 'LOAD', lib('r3', "redis.register_function{function_name='r3f', callback=function() redis.setresp(3); return redis.call('hgetall', 'h') end, flags={'no-writes'}, description='d'}")],
        ['HSET', 'h', 'a', '1'], ['FUNCTION', 'LIST'], ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'r*'], ['FUNCTION', 'STATS'], ['FCALL', 'r3f', '0'],
      );
    } finally {
      await p.both('HELLO', '2');
    }
  });

  it('EVAL with a "#!lua flags=" shebang runs with those flags', async () => {
    const set = "\nreturn redis.call('set', KEYS[1], 'v')";
    const get = "\nreturn redis.call('get', KEYS[1])";
    await p.same(
      ['EVAL', `#!lua${set}`, '1', 'k'], ['EVAL', `#!lua flags=no-writes${get}`, '1', 'k'], ['EVAL', `#!lua flags=no-writes${set}`, '1', 'k'],
      ['EVAL_RO', `#!lua${set}`, '1', 'k'], ['EVAL_RO', `#!lua flags=no-writes${get}`, '1', 'k'],
      ['EVAL', `#!lua flags=allow-oom,allow-stale,no-cluster,allow-cross-slot-keys${set}`, '1', 'k'], ['EVAL', `#!lua flags=${get}`, '1', 'k'],
      ['EVAL', '#!lua', '0'], ['EVAL', `#!js${get}`, '1', 'k'], ['EVAL', `#!LUA${get}`, '1', 'k'], ['EVAL', `#!lua flags=No-Writes${get}`, '1', 'k'],
      ['EVAL', `#!lua flags=no-writes,${get}`, '1', 'k'], ['EVAL', `#!lua name=x${get}`, '1', 'k'], ['EVAL', `#!lua\n\nerror('line 3')`, '0'],
      ['SCRIPT', 'LOAD', `#!lua flags=bogus${get}`], ['EVAL', `#!lua flags=no-writes\nreturn KEYS[1]`, '1', 'kk'],
    );
    const [sha] = await p.both('SCRIPT', 'LOAD', `#!lua flags=no-writes${get}`);
    await p.same(['EVALSHA_RO', sha as string, '1', 'k'], ['EVALSHA', sha as string, '1', 'k']);
  });

  it('past maxmemory: denyoom calls fail until a write unless allow-oom; writing functions need allow-oom', async () => {
    await p.same(
      ['FUNCTION', 'LOAD', lib('oom', [
        "redis.register_function('w', function() return redis.call('set', 'a', 'w') end)",
        "redis.register_function{function_name='wo', callback=function() return redis.call('set', 'a', 'wo') end, flags={'allow-oom'}}",
        "redis.register_function{function_name='r', callback=function() return redis.call('get', 'a') end, flags={'no-writes'}}",
      ].join('\n'))],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    );
    await p.both('CONFIG', 'SET', 'maxmemory', '1');
    try {
      await p.same(
        ['SET', 'x', 'y'], ['EVAL', "return redis.call('set', 'a', 'b')", '0'], ['EVAL', "return redis.pcall('set', 'a', 'b')", '0'],
        ['EVAL', "return redis.call('get', 'a')", '0'], ['EVAL', "redis.call('del', 'a'); return redis.call('set', 'a', 'after-del')", '0'],
        ['FCALL', 'w', '0'], ['FCALL', 'wo', '0'], ['FCALL', 'r', '0'], ['FCALL_RO', 'r', '0'],
        ['EVAL', "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'c')", '0'], ['EVAL', "#!lua\nreturn redis.call('set', 'a', 'd')", '0'],
        ['GET', 'a'],
      );
    } finally {
      await p.both('CONFIG', 'SET', 'maxmemory', '0');
    }
  });

  it('a library whose top level runs past 500 ms fails to load', async () => {
    await p.same(['FUNCTION', 'LOAD', lib('slow', "redis.register_function('s', function() end)\nlocal i = 0\nwhile true do i = i + 1 end")], ['FUNCTION', 'LIST']);
  });

  it('FUNCTION DUMP bytes equal redis-server\'s; each side restores the other\'s payload', async () => {
    // One library per payload: Redis orders several by its dict's hash, we by load order.
    const long = lib('dumped', `redis.register_function('dumped_fn', function(keys, args) return '${'long body '.repeat(20)}' end)`);
    await p.same(['FUNCTION', 'LOAD', long]);
    const [ours, theirs] = await p.both('FUNCTION', 'DUMP');
    expect(Buffer.from(ours as string, 'latin1').equals(Buffer.from(theirs as string, 'latin1'))).toBe(true);
    await p.both('FUNCTION', 'FLUSH');
    // Swap payloads: each restores the other's.
    expect(plain(await p.ours.call('FUNCTION', 'RESTORE', Buffer.from(theirs as string, 'latin1')))).toBe('+OK');
    expect(plain(await p.redis.call('FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1')))).toBe('+OK');
    await p.same(
      ['FCALL', 'dumped_fn', '0'], ['FUNCTION', 'LIST', 'WITHCODE'],
      ['FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1') as unknown as string],
      ['FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1') as unknown as string, 'APPEND'],
      ['FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1') as unknown as string, 'REPLACE'],
      ['FUNCTION', 'LOAD', lib('other', "redis.register_function('other_fn', function() return 'o' end)")],
      ['FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1') as unknown as string, 'FLUSH'], ['FCALL', 'other_fn', '0'],
      ['FCALL', 'dumped_fn', '0'], ['FUNCTION', 'STATS'],
    );
    // A payload whose function clashes with another library's function fails whole.
    await p.same(
      ['FUNCTION', 'FLUSH'], ['FUNCTION', 'LOAD', lib('clash', "redis.register_function('dumped_fn', function() return 'c' end)")],
      ['FUNCTION', 'RESTORE', Buffer.from(ours as string, 'latin1') as unknown as string, 'REPLACE'], ['FCALL', 'dumped_fn', '0'],
    );
    // Empty: just the version and checksum.
    await p.both('FUNCTION', 'FLUSH');
    const [e1, e2] = await p.both('FUNCTION', 'DUMP');
    expect(Buffer.from(e1 as string, 'latin1').equals(Buffer.from(e2 as string, 'latin1'))).toBe(true);
  });

  it('several libraries: LIST and STATS agree as sets', async () => {
    await p.sameUnordered(
      ['FUNCTION', 'LOAD', lib('la', "redis.register_function('fa', function() return 'a' end)")],
      ['FUNCTION', 'LOAD', lib('lb', "redis.register_function('fb', function() return 'b' end)")],
    );
    const [o, r] = await p.both('FUNCTION', 'LIST');
    const names = (x: unknown) => (x as unknown[][]).map((e) => JSON.stringify(plain(e as never))).sort();
    expect(names(o)).toEqual(names(r));
    await p.same(['FUNCTION', 'STATS'], ['FCALL', 'fa', '0'], ['FCALL', 'fb', '0']);
  });

  it('a busy function: BUSY for others, SCRIPT KILL refused, FUNCTION STATS shows it, FUNCTION KILL ends it', async () => {
    await p.both('CONFIG', 'SET', 'busy-reply-threshold', '100');
    await p.same(['FUNCTION', 'LOAD', lib('spin', "redis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}")]);
    const side = async (port: number) => {
      const runner = await RawClient.connect(port);
      const other = await RawClient.connect(port);
      try {
        const running = runner.call('FCALL', 'spin', '0');
        let busy: unknown;
        await waitFor(async () => {
          busy = plain(await other.call('PING'));
          return typeof busy === 'object' && busy !== null;
        }, { timeoutMs: 5000, what: 'the script to be busy' });
        const scriptKill = plain(await other.call('SCRIPT', 'KILL'));
        const stats = plain(await other.call('FUNCTION', 'STATS')) as unknown[];
        const kill = plain(await other.call('FUNCTION', 'KILL'));
        const result = plain(await running);
        const after = plain(await other.call('PING'));
        const runningScript = stats[1] as unknown[];
        return { busy, scriptKill, name: runningScript[1], command: runningScript[3], kill, result, after };
      } finally {
        runner.close();
        other.close();
      }
    };
    const [ours, theirs] = await Promise.all([side(p.node.port), side(p.redisServer.port)]);
    expect(ours).toEqual(theirs);
    expect(ours.kill).toBe('+OK');
    await p.both('CONFIG', 'SET', 'busy-reply-threshold', '5000');
  });

  it('a busy EVAL: FUNCTION KILL and FUNCTION STATS refused', async () => {
    await p.both('CONFIG', 'SET', 'busy-reply-threshold', '100');
    const side = async (port: number) => {
      const runner = await RawClient.connect(port);
      const other = await RawClient.connect(port);
      try {
        const running = runner.call('EVAL', 'while true do end', '0');
        await waitFor(async () => typeof plain(await other.call('PING')) === 'object', { timeoutMs: 5000, what: 'the script to be busy' });
        const fk = plain(await other.call('FUNCTION', 'KILL'));
        const fs = plain(await other.call('FUNCTION', 'STATS'));
        const sk = plain(await other.call('SCRIPT', 'KILL'));
        const result = plain(await running);
        return { fk, fs, sk, result };
      } finally {
        runner.close();
        other.close();
      }
    };
    const [ours, theirs] = await Promise.all([side(p.node.port), side(p.redisServer.port)]);
    expect(ours).toEqual(theirs);
    await p.both('CONFIG', 'SET', 'busy-reply-threshold', '5000');
  });

  it('FCALL inside MULTI; COMMAND GETKEYS of FCALL', async () => {
    await p.same(
      ['FUNCTION', 'LOAD', LIB], ['MULTI'], ['FCALL', 'setget', '1', 'm', 'mv'], ['FCALL_RO', 'ro_get', '1', 'm'], ['EXEC'],
      ['COMMAND', 'GETKEYS', 'FCALL', 'setget', '2', 'a', 'b', 'c'], ['COMMAND', 'GETKEYS', 'FCALL_RO', 'ro_get', '0'],
    );
  });
});
