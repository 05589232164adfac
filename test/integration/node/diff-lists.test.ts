// Lists: our node vs real redis-server, same commands, same replies (errors and RESP3 included).
// Each test uses its own key names so tests stay independent even without FLUSHALL.
import { connect } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { decodeReply } from '../../../common/resp/reply-decoder.js';
import { usePair } from '../../helpers/differential.js';

describe('list commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  it('pushes, LLEN, LRANGE, LINDEX', async () => {
    await p.same(
      ['LPUSH', 'a:l', 'x', 'y', 'z'], ['RPUSH', 'a:l', '1', '2'], ['LLEN', 'a:l'], ['LRANGE', 'a:l', '0', '-1'],
      ['LPUSHX', 'a:none', 'v'], ['RPUSHX', 'a:none', 'v'], ['LLEN', 'a:none'], ['LPUSHX', 'a:l', 'h'], ['RPUSHX', 'a:l', 't', 'u'],
      ['LRANGE', 'a:l', '0', '-1'], ['LRANGE', 'a:l', '-3', '-1'], ['LRANGE', 'a:l', '-100', '2'], ['LRANGE', 'a:l', '5', '2'],
      ['LRANGE', 'a:l', '1', '100'], ['LRANGE', 'a:l', '100', '200'], ['LRANGE', 'a:l', '-1', '-3'], ['LRANGE', 'a:none', '0', '-1'],
      ['LRANGE', 'a:l', 'x', '1'], ['LRANGE', 'a:l', '0', '1.5'], ['LRANGE', 'a:l', '0', '99999999999999999999'],
      ['LRANGE', 'a:l', '-9223372036854775808', '9223372036854775807'],
      ['LINDEX', 'a:l', '0'], ['LINDEX', 'a:l', '-1'], ['LINDEX', 'a:l', '-8'], ['LINDEX', 'a:l', '-9'], ['LINDEX', 'a:l', '100'],
      ['LINDEX', 'a:none', '0'], ['LINDEX', 'a:none', 'x'], ['LINDEX', 'a:l', 'x'],
      ['RPUSH', 'a:bin', 'a\x00b', '\xff\xfe', ''], ['LRANGE', 'a:bin', '0', '-1'],
    );
  });

  it('wrong type and arity errors', async () => {
    await p.both('SET', 'b:s', 'str');
    await p.same(
      ['LPUSH', 'b:s', 'x'], ['RPUSH', 'b:s', 'x'], ['LPUSHX', 'b:s', 'x'], ['RPUSHX', 'b:s', 'x'], ['LPOP', 'b:s'],
      ['RPOP', 'b:s', '2'], ['LPOP', 'b:s', '0'], ['LLEN', 'b:s'], ['LRANGE', 'b:s', '0', '1'], ['LINDEX', 'b:s', '0'],
      ['LSET', 'b:s', '0', 'x'], ['LREM', 'b:s', '0', 'x'], ['LTRIM', 'b:s', '0', '1'], ['LINSERT', 'b:s', 'BEFORE', 'a', 'b'],
      ['LPOS', 'b:s', 'x'], ['RPOPLPUSH', 'b:s', 'b:d'], ['LMOVE', 'b:s', 'b:d', 'LEFT', 'RIGHT'], ['LMPOP', '1', 'b:s', 'LEFT'],
      ['RPUSH', 'b:l', 'v'], ['RPOPLPUSH', 'b:l', 'b:s'], ['LMOVE', 'b:l', 'b:s', 'LEFT', 'LEFT'], ['LRANGE', 'b:l', '0', '-1'],
      ['LPUSH', 'b:l'], ['RPUSH'], ['LPOP'], ['LPOP', 'b:l', '1', '2'], ['RPOP', 'b:l', '1', 'x'], ['LLEN'], ['LLEN', 'a', 'b'],
      ['LRANGE', 'b:l', '0'], ['LINDEX', 'b:l'], ['LSET', 'b:l', '0'], ['LREM', 'b:l', '0'], ['LTRIM', 'b:l'],
      ['LINSERT', 'b:l', 'BEFORE', 'x'], ['LPOS', 'b:l'], ['RPOPLPUSH', 'b:l'], ['LMOVE', 'b:l', 'b:d', 'LEFT'], ['LMPOP', '1', 'b:l'],
      ['BLPOP', 'b:l'], ['BRPOP'], ['BRPOPLPUSH', 'b:l', 'b:d'], ['BLMOVE', 'b:l', 'b:d', 'LEFT', 'LEFT'], ['BLMPOP', '0', '1', 'b:l'],
    );
  });

  it('LPOP/RPOP with and without count', async () => {
    await p.both('RPUSH', 'c:l', 'a', 'b', 'c', 'd', 'e');
    await p.same(
      ['LPOP', 'c:l'], ['RPOP', 'c:l'], ['LPOP', 'c:l', '0'], ['LPOP', 'c:l', '1'], ['RPOP', 'c:l', '1'],
      ['LPOP', 'c:l', '-1'], ['LPOP', 'c:l', 'x'], ['LPOP', 'c:l', '1.0'], ['RPOP', 'c:l', '9223372036854775807'],
      ['EXISTS', 'c:l'], ['LPOP', 'c:l'], ['LPOP', 'c:l', '2'], ['RPOP', 'c:l', '0'], ['LPOP', 'c:none', '-1'],
      ['RPUSH', 'c:m', '1', '2', '3'], ['RPOP', 'c:m', '10'], ['EXISTS', 'c:m'], ['RPOP', 'c:m'],
    );
  });

  it('LSET, LREM, LTRIM, LINSERT', async () => {
    await p.both('RPUSH', 'd:l', 'a', 'b', 'a', 'c', 'a', 'b');
    await p.same(
      ['LSET', 'd:l', '0', 'A'], ['LSET', 'd:l', '-1', 'B'], ['LSET', 'd:l', '6', 'x'], ['LSET', 'd:l', '-7', 'x'],
      ['LSET', 'd:l', 'x', 'y'], ['LSET', 'd:none', '0', 'x'], ['LSET', 'd:none', 'x', 'y'], ['LRANGE', 'd:l', '0', '-1'],
      ['LREM', 'd:l', '1', 'a'], ['LRANGE', 'd:l', '0', '-1'], ['RPUSH', 'd:l', 'a', 'a'], ['LREM', 'd:l', '-2', 'a'],
      ['LRANGE', 'd:l', '0', '-1'], ['LREM', 'd:l', '0', 'zz'], ['LREM', 'd:l', 'x', 'a'], ['LREM', 'd:none', '0', 'a'],
      ['LREM', 'd:l', '0', 'a'], ['LRANGE', 'd:l', '0', '-1'],
      ['LINSERT', 'd:l', 'BEFORE', 'c', 'X'], ['LINSERT', 'd:l', 'after', 'c', 'Y'], ['LINSERT', 'd:l', 'AFTER', 'B', 'end'],
      ['LINSERT', 'd:l', 'BEFORE', 'nope', 'v'], ['LINSERT', 'd:l', 'MIDDLE', 'c', 'v'], ['LINSERT', 'd:none', 'BEFORE', 'a', 'b'],
      ['LINSERT', 'd:none', 'SIDEWAYS', 'a', 'b'], ['LRANGE', 'd:l', '0', '-1'],
      ['LTRIM', 'd:l', '1', '-2'], ['LRANGE', 'd:l', '0', '-1'], ['LTRIM', 'd:l', '0', '100'], ['LTRIM', 'd:l', 'x', '1'],
      ['LTRIM', 'd:none', '0', '1'], ['LTRIM', 'd:l', '-2', '-1'], ['LRANGE', 'd:l', '0', '-1'], ['LTRIM', 'd:l', '5', '1'],
      ['EXISTS', 'd:l'], ['RPUSH', 'd:one', 'v'], ['LREM', 'd:one', '0', 'v'], ['EXISTS', 'd:one'],
    );
  });

  it('LPOS with RANK, COUNT, MAXLEN and their errors', async () => {
    await p.both('RPUSH', 'e:l', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'x');
    await p.same(
      ['LPOS', 'e:l', 'a'], ['LPOS', 'e:l', 'c'], ['LPOS', 'e:l', 'nope'], ['LPOS', 'e:l', 'a', 'RANK', '2'],
      ['LPOS', 'e:l', 'a', 'RANK', '-1'], ['LPOS', 'e:l', 'a', 'RANK', '-3'], ['LPOS', 'e:l', 'a', 'RANK', '4'],
      ['LPOS', 'e:l', 'a', 'COUNT', '0'], ['LPOS', 'e:l', 'a', 'COUNT', '2'], ['LPOS', 'e:l', 'a', 'COUNT', '2', 'RANK', '-1'],
      ['LPOS', 'e:l', 'a', 'COUNT', '10', 'RANK', '2'], ['LPOS', 'e:l', 'nope', 'COUNT', '3'], ['LPOS', 'e:l', 'a', 'MAXLEN', '3'],
      ['LPOS', 'e:l', 'a', 'COUNT', '0', 'MAXLEN', '4'], ['LPOS', 'e:l', 'a', 'COUNT', '0', 'MAXLEN', '1', 'RANK', '-1'],
      ['LPOS', 'e:l', 'b', 'MAXLEN', '1'], ['LPOS', 'e:l', 'x', 'RANK', '-1', 'MAXLEN', '1'],
      ['LPOS', 'e:l', 'a', 'RANK', '0'], ['LPOS', 'e:l', 'a', 'RANK', 'x'], ['LPOS', 'e:l', 'a', 'COUNT', '-1'],
      ['LPOS', 'e:l', 'a', 'COUNT', 'x'], ['LPOS', 'e:l', 'a', 'MAXLEN', '-5'], ['LPOS', 'e:l', 'a', 'MAXLEN', 'y'],
      ['LPOS', 'e:l', 'a', 'RANK'], ['LPOS', 'e:l', 'a', 'FOO', '1'], ['LPOS', 'e:l', 'a', 'count', '1', 'rank', '1', 'maxlen', '0'],
      ['LPOS', 'e:none', 'a'], ['LPOS', 'e:none', 'a', 'COUNT', '1'], ['LPOS', 'e:none', 'a', 'RANK', '0'],
      ['LPOS', 'e:l', 'a', 'RANK', '-9223372036854775807'], ['LPOS', 'e:l', 'a', 'RANK', '9223372036854775807'],
      ['LPOS', 'e:l', 'a', 'RANK', '-9223372036854775808'], ['LPOS', 'e:l', 'a', 'COUNT', '9223372036854775807'],
      ['LPOS', 'e:l', 'a', 'MAXLEN', '9223372036854775808'], ['LINSERT', 'e:l', 'BEFORE', 'x', 'y'], ['LINDEX', 'e:l', '-9223372036854775808'],
    );
  });

  it('RPOPLPUSH and LMOVE, including rotation of one key', async () => {
    await p.both('RPUSH', 'f:src', '1', '2', '3');
    await p.same(
      ['RPOPLPUSH', 'f:src', 'f:dst'], ['LMOVE', 'f:src', 'f:dst', 'LEFT', 'RIGHT'], ['LMOVE', 'f:src', 'f:dst', 'right', 'left'],
      ['EXISTS', 'f:src'], ['LRANGE', 'f:dst', '0', '-1'], ['RPOPLPUSH', 'f:src', 'f:dst'], ['LMOVE', 'f:none', 'f:dst', 'LEFT', 'LEFT'],
      ['LMOVE', 'f:dst', 'f:dst', 'LEFT', 'RIGHT'], ['LRANGE', 'f:dst', '0', '-1'], ['RPOPLPUSH', 'f:dst', 'f:dst'],
      ['LRANGE', 'f:dst', '0', '-1'], ['LMOVE', 'f:dst', 'f:dst', 'LEFT', 'LEFT'], ['LMOVE', 'f:dst', 'f:dst', 'RIGHT', 'RIGHT'],
      ['LRANGE', 'f:dst', '0', '-1'], ['LMOVE', 'f:dst', 'f:x', 'UP', 'LEFT'], ['LMOVE', 'f:dst', 'f:x', 'LEFT', 'DOWN'],
      ['LMOVE', 'f:none', 'f:x', 'UP', 'LEFT'], ['RPUSH', 'f:one', 'v'], ['LMOVE', 'f:one', 'f:one', 'LEFT', 'RIGHT'],
      ['LRANGE', 'f:one', '0', '-1'], ['RPOPLPUSH', 'f:one', 'f:two'], ['EXISTS', 'f:one'], ['LRANGE', 'f:two', '0', '-1'],
    );
  });

  it('LMPOP parsing and popping', async () => {
    await p.both('RPUSH', 'g:b', '1', '2', '3', '4');
    await p.same(
      ['LMPOP', '2', 'g:a', 'g:b', 'LEFT'], ['LMPOP', '2', 'g:a', 'g:b', 'RIGHT', 'COUNT', '2'], ['LMPOP', '1', 'g:b', 'left', 'count', '10'],
      ['EXISTS', 'g:b'], ['LMPOP', '2', 'g:a', 'g:b', 'LEFT'], ['LMPOP', '0', 'g:a', 'LEFT'], ['LMPOP', '-1', 'g:a', 'LEFT'],
      ['LMPOP', 'x', 'g:a', 'LEFT'], ['LMPOP', '3', 'g:a', 'LEFT'], ['LMPOP', '1', 'g:a', 'MIDDLE'], ['LMPOP', '1', 'g:a', 'LEFT', 'COUNT'],
      ['LMPOP', '1', 'g:a', 'LEFT', 'COUNT', '0'], ['LMPOP', '1', 'g:a', 'LEFT', 'COUNT', '-2'], ['LMPOP', '1', 'g:a', 'LEFT', 'COUNT', 'x'],
      ['LMPOP', '1', 'g:a', 'LEFT', 'COUNT', '1', 'COUNT', '2'], ['LMPOP', '1', 'g:a', 'LEFT', 'FOO'], ['LMPOP', '2', 'g:a', 'LEFT'],
      ['SET', 'g:s', 'x'], ['RPUSH', 'g:c', 'v'], ['LMPOP', '2', 'g:s', 'g:c', 'LEFT'], ['LMPOP', '2', 'g:c', 'g:s', 'LEFT'],
      ['LMPOP', '2', 'g:a', 'g:s', 'LEFT'],
    );
  });

  it('blocking commands answer at once when data is there, and time out with the right nulls', async () => {
    await p.both('RPUSH', 'h:l', 'a', 'b', 'c', 'd');
    await p.both('SET', 'h:s', 'x');
    await p.same(
      ['BLPOP', 'h:none', 'h:l', '0'], ['BRPOP', 'h:l', 'h:none', '1'], ['BRPOPLPUSH', 'h:l', 'h:dst', '0'],
      ['BLMOVE', 'h:l', 'h:dst', 'LEFT', 'RIGHT', '0'], ['LRANGE', 'h:dst', '0', '-1'], ['RPUSH', 'h:l', 'e', 'f', 'g'],
      ['BLMPOP', '0', '2', 'h:none', 'h:l', 'RIGHT', 'COUNT', '2'], ['BLMPOP', '0', '1', 'h:l', 'LEFT'],
      ['BLPOP', 'h:s', 'h:l', '0'], ['BLPOP', 'h:dst', 'h:s', '0'], ['BLMOVE', 'h:s', 'h:dst', 'LEFT', 'LEFT', '0'],
      ['BLMOVE', 'h:dst', 'h:s', 'LEFT', 'LEFT', '0'], ['BRPOPLPUSH', 'h:dst', 'h:s', '0'], ['BLMPOP', '0', '1', 'h:s', 'LEFT'],
      ['BLPOP', 'h:none', '0.01'], ['BRPOP', 'h:none', 'h:none2', '0.01'], ['BRPOPLPUSH', 'h:none', 'h:dst', '0.01'],
      ['BLMOVE', 'h:none', 'h:dst', 'LEFT', 'LEFT', '0.01'], ['BLMPOP', '0.01', '1', 'h:none', 'LEFT'],
      ['BLPOP', 'h:l', '-1'], ['BLPOP', 'h:l', 'x'], ['BLPOP', 'h:l', ''], ['BLPOP', 'h:l', 'nan'], ['BLPOP', 'h:l', ' 1'],
      ['BLMOVE', 'h:l', 'h:dst', 'UP', 'LEFT', '0'], ['BLMOVE', 'h:l', 'h:dst', 'LEFT', 'LEFT', '-0.5'],
      ['BLMPOP', 'x', '1', 'h:l', 'LEFT'], ['BLMPOP', '-1', '1', 'h:l', 'LEFT'], ['BLMPOP', 'x', '0', 'h:l', 'LEFT'],
      ['BLMPOP', '0', '1', 'h:l', 'LEFT', 'COUNT', '0'], ['BLMPOP', '0', '2', 'h:l', 'LEFT'], ['BLMPOP', '0', '1', 'h:l', 'MID'],
    );
  });

  it('RESP3 replies (HELLO 3)', async () => {
    await p.both('HELLO', '3');
    try {
      await p.both('RPUSH', 'i:l', 'a', 'b', 'c', 'a');
      await p.same(
        ['LPOP', 'i:none'], ['LPOP', 'i:none', '2'], ['LPOP', 'i:none', '0'], ['LPOP', 'i:l', '0'], ['RPOP', 'i:l', '1'],
        ['LINDEX', 'i:l', '9'], ['LINDEX', 'i:none', '0'], ['LPOS', 'i:l', 'z'], ['LPOS', 'i:l', 'a', 'COUNT', '0'],
        ['LPOS', 'i:none', 'a'], ['LPOS', 'i:none', 'a', 'COUNT', '0'], ['LRANGE', 'i:l', '0', '-1'],
        ['RPOPLPUSH', 'i:none', 'i:l'], ['LMOVE', 'i:none', 'i:l', 'LEFT', 'LEFT'], ['LMPOP', '1', 'i:none', 'LEFT'],
        ['LMPOP', '1', 'i:l', 'LEFT', 'COUNT', '5'], ['BLPOP', 'i:none', '0.01'], ['BLMOVE', 'i:none', 'i:x', 'LEFT', 'LEFT', '0.01'],
        ['BRPOPLPUSH', 'i:none', 'i:x', '0.01'], ['BLMPOP', '0.01', '1', 'i:none', 'LEFT'],
        ['RPUSH', 'i:m', 'x'], ['BLPOP', 'i:m', '0'], ['LLEN', 'i:m'],
      );
    } finally {
      await p.both('HELLO', '2');
    }
  });
});

/** Sends `commands` pipelined on a fresh connection and returns each reply's exact bytes (null kinds included). */
async function rawReplies(port: number, commands: string[][]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  try {
    let buf = Buffer.alloc(0);
    const replies = new Promise<string[]>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const out: string[] = [];
        let pos = 0;
        while (out.length < commands.length) {
          const r = decodeReply(buf, pos);
          if (r === null) return;
          out.push(buf.toString('latin1', pos, r[1]));
          pos = r[1];
        }
        resolve(out);
      });
    });
    socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
    return await replies;
  } finally {
    socket.destroy();
  }
}

describe('list replies are byte-identical (null bulk vs null array)', () => {
  const p = usePair();

  it('in RESP2 and RESP3', async () => {
    const script = [
      ['DEL', 'n:l', 'n:s'], ['SET', 'n:s', 'x'], ['RPUSH', 'n:l', 'a', 'b'],
      ['LPOP', 'n:none'], ['LPOP', 'n:none', '2'], ['LPOP', 'n:none', '0'], ['RPOP', 'n:l', '0'], ['LINDEX', 'n:l', '5'],
      ['LPOS', 'n:l', 'z'], ['LPOS', 'n:none', 'z', 'COUNT', '1'], ['RPOPLPUSH', 'n:none', 'n:l'],
      ['LMOVE', 'n:none', 'n:l', 'LEFT', 'LEFT'], ['LMPOP', '1', 'n:none', 'LEFT'], ['BLPOP', 'n:none', '0.01'],
      ['BRPOP', 'n:none', '0.01'], ['BRPOPLPUSH', 'n:none', 'n:x', '0.01'], ['BLMOVE', 'n:none', 'n:x', 'LEFT', 'LEFT', '0.01'],
      ['BLMPOP', '0.01', '1', 'n:none', 'LEFT'], ['LRANGE', 'n:none', '0', '-1'], ['LPOP', 'n:l', '5'], ['LPOP', 'n:s'],
    ];
    for (const hello of [[], [['HELLO', '3']]]) {
      const commands = [...hello, ...script];
      const [ours, redis] = await Promise.all([rawReplies(p.node.port, commands), rawReplies(p.redisServer.port, commands)]);
      // HELLO's own reply differs (server name, version, client id): compare the script's replies.
      expect(ours.slice(hello.length)).toEqual(redis.slice(hello.length));
    }
  });
});
