// Sets: our node vs real redis-server, same commands, same replies (errors and RESP3 included).
// Intsets read back sorted in both, so they compare exactly; hashtables compare as multisets.
import { connect } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { INCOMPLETE, scanFrame } from '../../../common/resp/frame-scanner.js';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { usePair } from '../../helpers/differential.js';
import type { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

/** `n` integer members starting at `from`. */
function ints(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => String(from + i));
}

/**
 * The raw RESP3 bytes of one reply (the decoder maps ~ and * to the same arrays, so the set type
 * is checked on the wire).
 */
async function rawResp3(port: number, command: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
    });
    socket.write(encodeCommand(['HELLO', '3']));
    socket.write(encodeCommand(command));
    let replyStart = INCOMPLETE;
    await waitFor(() => {
      const helloEnd = scanFrame(buf, 0);
      if (helloEnd === INCOMPLETE) return false;
      replyStart = helloEnd;
      return scanFrame(buf, helloEnd) !== INCOMPLETE;
    });
    return buf.subarray(replyStart, scanFrame(buf, replyStart)).toString('latin1');
  } finally {
    socket.destroy();
  }
}

/** Walks SSCAN to the end on one server and returns the members it saw. */
async function sscanAll(c: RawClient, key: string, ...opts: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let rounds = 0; rounds < 10_000; rounds++) {
    const [next, items] = (await c.call('SSCAN', key, cursor, ...opts)) as [string, string[]];
    for (const m of items) seen.add(m);
    cursor = next;
    if (cursor === '0') return seen;
  }
  throw new Error('SSCAN did not finish');
}

describe('set commands match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  it('SADD/SREM/SMEMBERS/SISMEMBER/SMISMEMBER/SCARD on intsets (sorted)', async () => {
    await p.same(
      ['SADD', 's', '5', '3', '-1', '3', '100'], ['SMEMBERS', 's'], ['SADD', 's', '3'], ['SCARD', 's'], ['SCARD', 'none'],
      ['SISMEMBER', 's', '3'], ['SISMEMBER', 's', '4'], ['SISMEMBER', 'none', '3'], ['SMISMEMBER', 's', '3', '4', '5'],
      ['SMISMEMBER', 'none', 'a', 'b'], ['SREM', 's', '3', '3', '7'], ['SMEMBERS', 's'], ['SREM', 'none', 'x'],
      ['SADD', 's', '-9223372036854775808', '9223372036854775807'], ['SMEMBERS', 's'], ['OBJECT', 'ENCODING', 's'],
      ['SREM', 's', '5', '-1', '100', '-9223372036854775808', '9223372036854775807', 'more'], ['EXISTS', 's'],
      ['SMEMBERS', 'none'], ['SADD', 'z', '01', '+1', ' 1', '1'], ['OBJECT', 'ENCODING', 'z'], ['SCARD', 'z'],
    );
    await p.sameUnordered(['SMEMBERS', 'z'], ['SADD', 'bin', 'a\x00b', '\xff', ''], ['SMEMBERS', 'bin']);
  });

  it('wrong type and arity errors', async () => {
    await p.both('SET', 'str', 'x');
    await p.both('SADD', 'ok', '1', '2');
    await p.same(
      ['SADD', 'str', 'a'], ['SREM', 'str', 'a'], ['SMEMBERS', 'str'], ['SISMEMBER', 'str', 'a'], ['SMISMEMBER', 'str', 'a'],
      ['SCARD', 'str'], ['SPOP', 'str'], ['SPOP', 'str', '0'], ['SPOP', 'str', '2'], ['SRANDMEMBER', 'str'],
      ['SRANDMEMBER', 'str', '2'], ['SRANDMEMBER', 'str', '0'], ['SMOVE', 'str', 'ok', '1'], ['SMOVE', 'ok', 'str', '1'],
      ['SMOVE', 'none', 'str', '1'], ['SINTER', 'ok', 'str'], ['SINTER', 'none', 'str'], ['SINTERCARD', '2', 'none', 'str'],
      ['SINTERSTORE', 'd', 'none', 'str'], ['SUNION', 'ok', 'str'], ['SUNIONSTORE', 'd', 'str'], ['SDIFF', 'none', 'str'],
      ['SDIFF', 'ok', 'str'], ['SDIFFSTORE', 'd', 'ok', 'str'], ['SSCAN', 'str', '0'], ['EXISTS', 'd'], ['SMEMBERS', 'ok'],
      ['SADD', 'ok'], ['SREM', 'ok'], ['SMEMBERS'], ['SISMEMBER', 'ok'], ['SMISMEMBER', 'ok'], ['SCARD'], ['SPOP'],
      ['SPOP', 'ok', '1', '2'], ['SRANDMEMBER'], ['SRANDMEMBER', 'ok', '1', '2'], ['SRANDMEMBER', 'ok', 'x', '2'],
      ['SMOVE', 'ok', 'x'], ['SINTER'], ['SINTERCARD', '1'], ['SINTERSTORE', 'd'], ['SUNION'], ['SUNIONSTORE', 'd'],
      ['SDIFF'], ['SDIFFSTORE', 'd'], ['SSCAN', 'ok'],
    );
  });

  it('intset → hashtable at set-max-intset-entries and on a non-integer member', async () => {
    await p.same(
      ['SADD', 'i', ...ints(512)], ['OBJECT', 'ENCODING', 'i'], ['SMEMBERS', 'i'], ['SADD', 'i', '512'], ['OBJECT', 'ENCODING', 'i'],
      ['SREM', 'i', '512', '0'], ['OBJECT', 'ENCODING', 'i'], ['SADD', 'j', '1', '2'], ['SADD', 'j', 'x'], ['OBJECT', 'ENCODING', 'j'],
      ['SREM', 'j', 'x'], ['OBJECT', 'ENCODING', 'j'], ['SADD', 'k', 'a'], ['OBJECT', 'ENCODING', 'k'],
      ['SADD', 'l', '99999999999999999999'], ['OBJECT', 'ENCODING', 'l'], ['SADD', 'm', '-0'], ['OBJECT', 'ENCODING', 'm'],
    );
    await p.sameUnordered(['SMEMBERS', 'i'], ['SMEMBERS', 'j']);
  });

  it('SPOP: errors, counts, deletion, deterministic whole-set pops', async () => {
    await p.both('SADD', 'p', '3', '1', '2');
    await p.same(
      ['SPOP', 'p', '-1'], ['SPOP', 'p', 'x'], ['SPOP', 'p', '1.5'], ['SPOP', 'none', 'x'], ['SPOP', 'p', '0'], ['SPOP', 'none'],
      ['SPOP', 'none', '3'], ['SPOP', 'none', '0'], ['SCARD', 'p'], ['SPOP', 'p', '3'], ['EXISTS', 'p'], ['SADD', 'q', '5', '4'],
      ['SPOP', 'q', '9223372036854775807'], ['EXISTS', 'q'], ['SADD', 'hs', 'b', 'a', '7'], ['SREM', 'hs', 'a', 'b'],
      // A whole-set pop replies via a fresh set: integers only → intset order.
      ['SPOP', 'hs', '5'], ['EXISTS', 'hs'],
    );
  });

  it('SPOP and SRANDMEMBER random forms: shapes and membership', async () => {
    const small = ['1', '2', '3', '4', '5', '6', '7'];
    const big = [...ints(300), 'x'];
    for (let round = 0; round < 3; round++) {
      for (const resp of ['2', '3']) {
        await p.both('HELLO', resp);
        for (const [key, members] of [['small', small], ['big', big]] as const) {
          await p.both('DEL', key);
          await p.both('SADD', key, ...members);
          const all = new Set<string>(members);
          const check = (r: Reply, count: number) => {
            const items = r as string[];
            expect(items.length).toBe(Math.abs(count));
            for (const m of items) expect(all.has(m)).toBe(true);
            if (count > 0) expect(new Set(items).size).toBe(count);
          };
          for (const count of [1, 2, 3, 6, -1, -4, -20, 150, 290]) {
            if (count > members.length) continue;
            const [ours, theirs] = await p.both('SRANDMEMBER', key, String(count));
            check(ours, count);
            check(theirs, count);
          }
          const [one] = await p.both('SRANDMEMBER', key);
          expect(all.has(one as string)).toBe(true);
          const [popped] = await p.both('SPOP', key);
          expect(all.has(popped as string)).toBe(true);
          const [oursCard] = await p.both('SCARD', key);
          expect(oursCard).toBe(members.length - 1);
          const remaining = new Set(members.filter((m) => m !== popped));
          const take = Math.floor(members.length / 2);
          const [many] = await p.both('SPOP', key, String(take));
          expect((many as string[]).length).toBe(take);
          for (const m of many as string[]) expect(remaining.delete(m)).toBe(true);
          const [rest] = await p.both('SMEMBERS', key);
          expect(new Set(rest as string[])).toEqual(remaining);
        }
      }
    }
    await p.both('HELLO', '2');
  });

  it('SRANDMEMBER: deterministic forms and errors', async () => {
    await p.both('SADD', 'r', '30', '10', '20');
    await p.same(
      ['SRANDMEMBER', 'r', '3'], ['SRANDMEMBER', 'r', '100'], ['SRANDMEMBER', 'r', '0'], ['SRANDMEMBER', 'none'],
      ['SRANDMEMBER', 'none', '5'], ['SRANDMEMBER', 'none', '-5'], ['SRANDMEMBER', 'none', '0'], ['SRANDMEMBER', 'none', 'x'],
      ['SRANDMEMBER', 'r', 'x'], ['SRANDMEMBER', 'r', '1.0'], ['SRANDMEMBER', 'r', '-9223372036854775808'],
      ['SRANDMEMBER', 'r', '9223372036854775807'], ['SADD', 'one', 'm'], ['SRANDMEMBER', 'one', '-3'], ['SRANDMEMBER', 'one'],
    );
  });

  it('SMOVE', async () => {
    await p.both('SADD', 'a', '1', '2', '3');
    await p.both('SADD', 'b', '3', '4');
    await p.same(
      ['SMOVE', 'a', 'b', '1'], ['SMEMBERS', 'a'], ['SMEMBERS', 'b'], ['SMOVE', 'a', 'b', '3'], ['SMEMBERS', 'a'], ['SMEMBERS', 'b'],
      ['SMOVE', 'a', 'b', '9'], ['SMOVE', 'none', 'b', '1'], ['SMOVE', 'a', 'a', '2'], ['SMOVE', 'a', 'a', '9'],
      ['SMOVE', 'a', 'c', '2'], ['EXISTS', 'a'], ['SMEMBERS', 'c'], ['OBJECT', 'ENCODING', 'c'], ['SMOVE', 'b', 'c', 'x'],
      ['SADD', 'b', 'x'], ['SMOVE', 'b', 'c', 'x'], ['OBJECT', 'ENCODING', 'c'], ['SMOVE', 'b', 'new', 'x'], ['SMOVE', 'b', 'new', 'y'],
    );
    await p.sameUnordered(['SMEMBERS', 'c'], ['SMEMBERS', 'b']);
  });

  it('SINTER, SINTERCARD, SINTERSTORE', async () => {
    await p.both('SADD', 'x', '1', '2', '3', '4', '5');
    await p.both('SADD', 'y', '5', '4', '3', '9');
    await p.both('SADD', 'w', '3', 'a', '4', 'b', '5');
    await p.same(
      ['SINTER', 'x', 'y'], ['SINTER', 'y', 'x'], ['SINTER', 'x'], ['SINTER', 'x', 'x'], ['SINTER', 'x', 'none'], ['SINTER', 'none'],
      ['SINTER', 'x', 'y', 'w'], ['SINTERCARD', '2', 'x', 'y'], ['SINTERCARD', '2', 'x', 'y', 'LIMIT', '2'],
      ['SINTERCARD', '2', 'x', 'y', 'limit', '0'], ['SINTERCARD', '2', 'x', 'y', 'LIMIT', '100'], ['SINTERCARD', '1', 'none'],
      ['SINTERCARD', '3', 'x', 'y', 'w'], ['SINTERCARD', '2', 'x', 'none', 'LIMIT', '1'], ['SINTERCARD', '0', 'x'],
      ['SINTERCARD', '-1', 'x'], ['SINTERCARD', 'x', 'x'], ['SINTERCARD', '3', 'x', 'y'], ['SINTERCARD', '1', 'x', 'LIMIT'],
      ['SINTERCARD', '1', 'x', 'LIMIT', '-1'], ['SINTERCARD', '1', 'x', 'LIMIT', 'x'], ['SINTERCARD', '1', 'x', 'FOO', '1'],
      ['SINTERCARD', '1', 'x', 'y'], ['SINTERSTORE', 'd', 'x', 'y'], ['SMEMBERS', 'd'], ['OBJECT', 'ENCODING', 'd'],
      ['SET', 'sd', 'v'], ['EXPIRE', 'sd', '100'], ['SINTERSTORE', 'sd', 'x', 'y'], ['TTL', 'sd'], ['TYPE', 'sd'],
      ['SINTERSTORE', 'd', 'x', 'none'], ['EXISTS', 'd'], ['SINTERSTORE', 'd', 'x', 'none'], ['SINTERSTORE', 'x', 'x', 'y'],
      ['SMEMBERS', 'x'], ['SINTERSTORE', 'e', 'x', 'w'], ['SMEMBERS', 'e'],
    );
    await p.sameUnordered(['SINTER', 'w', 'x'], ['SINTER', 'w']);
  });

  it('SUNION, SDIFF and their STORE forms', async () => {
    await p.both('SADD', 'x', '1', '2', '3', '4');
    await p.both('SADD', 'y', '3', '4', '5');
    await p.both('SADD', 'h', 'a', '1', 'b');
    await p.both('SADD', 'hi', 'a', '10', '20');
    await p.both('SREM', 'hi', 'a');
    await p.same(
      ['SUNION', 'x', 'y'], ['SUNION', 'none', 'x'], ['SUNION', 'none'], ['SUNION', 'x', 'x'], ['SUNION', 'hi'], ['SUNION', 'hi', 'y'],
      ['SDIFF', 'x', 'y'], ['SDIFF', 'y', 'x'], ['SDIFF', 'x', 'none'], ['SDIFF', 'none', 'x'], ['SDIFF', 'x', 'x'],
      ['SDIFF', 'x', 'y', 'x'], ['SDIFF', 'x'], ['SDIFF', 'x', 'h'], ['SDIFF', 'hi', 'x'],
      ['SUNIONSTORE', 'u', 'x', 'y'], ['SMEMBERS', 'u'], ['OBJECT', 'ENCODING', 'u'], ['SUNIONSTORE', 'u', 'none'], ['EXISTS', 'u'],
      ['SUNIONSTORE', 'u', 'none'], ['SDIFFSTORE', 'dd', 'x', 'y'], ['SMEMBERS', 'dd'], ['SDIFFSTORE', 'dd', 'x', 'x'],
      ['EXISTS', 'dd'], ['SDIFFSTORE', 'x', 'x', 'y'], ['SMEMBERS', 'x'], ['SUNIONSTORE', 'hu', 'h', 'y'],
      ['OBJECT', 'ENCODING', 'hu'], ['SCARD', 'hu'], ['SDIFFSTORE', 'hd', 'hi', 'y'], ['OBJECT', 'ENCODING', 'hd'], ['SMEMBERS', 'hd'],
    );
    await p.sameUnordered(['SUNION', 'h', 'y'], ['SMEMBERS', 'hu'], ['SDIFF', 'h', 'x'], ['SUNION', 'h', 'h']);
  });

  it('SSCAN: intset in one step, options and errors; hashtable to completion', async () => {
    await p.both('SADD', 's', '12', '3', '1', '20');
    await p.same(
      ['SSCAN', 's', '0'], ['SSCAN', 's', '0', 'COUNT', '1'], ['SSCAN', 's', '0', 'MATCH', '1*'], ['SSCAN', 's', '0', 'MATCH', '*'],
      ['SSCAN', 's', '0', 'COUNT', '0'], ['SSCAN', 's', '0', 'COUNT', 'x'], ['SSCAN', 's', '0', 'MATCH'], ['SSCAN', 's', '0', 'TYPE', 'set'],
      ['SSCAN', 's', 'x'], ['SSCAN', 's', ' 0'], ['SSCAN', 's', '-1'], ['SSCAN', 'none', '0'], ['SSCAN', 'none', '0', 'BAD'],
      ['SSCAN', 'none', 'bad'],
    );
    await p.both('SADD', 'big', ...ints(600), 'm1', 'm2');
    const [ours, theirs] = await Promise.all([sscanAll(p.ours, 'big', 'COUNT', '7'), sscanAll(p.redis, 'big', 'COUNT', '7')]);
    expect(ours.size).toBe(602);
    expect(ours).toEqual(theirs);
    const [oursM, theirsM] = await Promise.all([sscanAll(p.ours, 'big', 'MATCH', 'm*'), sscanAll(p.redis, 'big', 'MATCH', 'm*')]);
    expect(oursM).toEqual(new Set(['m1', 'm2']));
    expect(oursM).toEqual(theirsM);
  });

  it('RESP3 replies (HELLO 3), set types on the wire', async () => {
    await p.both('SADD', 's', '3', '1', '2');
    await p.both('SADD', 't', '2', '3', '4');
    const commands = [
      ['SMEMBERS', 's'], ['SMEMBERS', 'none'], ['SINTER', 's', 't'], ['SINTER', 's', 'none'], ['SUNION', 's', 't'],
      ['SDIFF', 's', 't'], ['SDIFF', 'none'], ['SPOP', 'none', '2'], ['SPOP', 's', '0'], ['SPOP', 'none'], ['SRANDMEMBER', 's', '5'],
      ['SRANDMEMBER', 'none', '2'], ['SRANDMEMBER', 's', '0'], ['SRANDMEMBER', 'none'], ['SMISMEMBER', 's', '1', '9'],
      ['SISMEMBER', 's', '1'], ['SINTERCARD', '2', 's', 't'], ['SSCAN', 's', '0'], ['SSCAN', 'none', '0'], ['SUNIONSTORE', 'u', 's', 't'],
      ['SPOP', 'u', '10'],
    ];
    for (const cmd of commands) {
      const [ours, theirs] = await Promise.all([rawResp3(p.node.port, cmd), rawResp3(p.redisServer.port, cmd)]);
      expect(ours, JSON.stringify(cmd)).toBe(theirs);
    }
    // The comparison above is on the wire: make sure it saw the RESP3 types it is about.
    expect(await rawResp3(p.node.port, ['SMEMBERS', 's'])).toBe('~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n');
    expect(await rawResp3(p.node.port, ['SRANDMEMBER', 's', '5'])).toMatch(/^\*3\r\n/);
  });
});
