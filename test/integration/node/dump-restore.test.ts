// DUMP/RESTORE interoperability: payloads from redis-server restore on our node and ours restore
// on redis-server, for every type in small and big encodings; options and errors match Redis.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';

const many = (n: number, f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i)).flat();

/** One key per type and encoding: the command that builds it on redis-server and how to read it back. */
const CASES: Array<{ name: string; build: string[]; read: string[][]; encoding: string }> = [
  { name: 'int string', build: ['SET', 'k', '12345'], read: [['GET', 'k']], encoding: 'int' },
  { name: 'short string', build: ['SET', 'k', 'hello'], read: [['GET', 'k']], encoding: 'embstr' },
  { name: 'long compressible string', build: ['SET', 'k', 'ab'.repeat(5000)], read: [['GET', 'k']], encoding: 'raw' },
  { name: 'binary string', build: ['SET', 'k', '\x00\xff\r\n\x80'], read: [['GET', 'k']], encoding: 'embstr' },
  { name: 'small list', build: ['RPUSH', 'k', 'a', '1', '-7', 'x'.repeat(100)], read: [['LRANGE', 'k', '0', '-1']], encoding: 'quicklist' },
  { name: 'big list', build: ['RPUSH', 'k', ...many(3000, (i) => [`item-${i}`])], read: [['LRANGE', 'k', '0', '-1']], encoding: 'quicklist' },
  { name: 'small hash', build: ['HSET', 'k', 'f1', 'v1', 'n', '42'], read: [['SORT', 'k']], encoding: 'listpack' },
  { name: 'big hash', build: ['HSET', 'k', ...many(600, (i) => [`f${i}`, `v${i}`])], read: [], encoding: 'hashtable' },
  { name: 'intset', build: ['SADD', 'k', '5', '-3', '100000000000'], read: [['SORT', 'k']], encoding: 'intset' },
  { name: 'hashtable set', build: ['SADD', 'k', ...many(700, (i) => [`m${i}`])], read: [['SORT', 'k', 'ALPHA']], encoding: 'hashtable' },
  { name: 'small zset', build: ['ZADD', 'k', '1.5', 'a', '-2', 'b', 'inf', 'c'], read: [['SORT', 'k', 'BY', 'nosort']], encoding: 'listpack' },
  { name: 'big zset', build: ['ZADD', 'k', ...many(300, (i) => [String(i / 3), `m${i}`])], read: [['SORT', 'k', 'BY', 'nosort']], encoding: 'skiplist' },
];

describe('DUMP/RESTORE against redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  for (const tc of CASES) {
    it(`round-trips a ${tc.name}`, async () => {
      await p.redis.call(...tc.build);
      const theirs = (await p.redis.call('DUMP', 'k')) as string;
      expect(plain(await p.ours.call('RESTORE', 'k', '0', theirs))).toBe('+OK');
      expect(await p.ours.call('OBJECT', 'ENCODING', 'k')).toBe(tc.encoding);
      expect(await p.ours.call('TYPE', 'k')).toEqual(await p.redis.call('TYPE', 'k'));
      for (const read of tc.read) expect(plain(await p.ours.call(...read))).toEqual(plain(await p.redis.call(...read)));
      // Ours back into redis-server: same content there (and the same bytes where order is defined).
      const ours = (await p.ours.call('DUMP', 'k')) as string;
      expect(plain(await p.redis.call('RESTORE', 'back', '0', ours))).toBe('+OK');
      expect(await p.redis.call('OBJECT', 'ENCODING', 'back')).toBe(tc.encoding);
      const digest = async (key: string): Promise<Reply> => p.redis.call('DEBUG', 'DIGEST-VALUE', key);
      const dk = await digest('k');
      if (!(dk instanceof Object && 'message' in dk)) expect(await digest('back')).toEqual(dk);
      if (tc.encoding !== 'hashtable') expect(ours).toBe(theirs);
    });
  }

  it('RESTORE options and errors match', async () => {
    await p.both('SET', 'src', 'value');
    const payload = (await p.redis.call('DUMP', 'src')) as string;
    const corrupt = payload.slice(0, -1) + String.fromCharCode(payload.charCodeAt(payload.length - 1) ^ 1);
    const future = String(Date.now() + 100_000);
    await p.same(
      ['RESTORE', 'a', '0', payload], ['GET', 'a'], ['TTL', 'a'], ['RESTORE', 'a', '0', payload], ['RESTORE', 'a', '0', payload, 'REPLACE'],
      ['RESTORE', 'b', '50000', payload], ['TTL', 'b'], ['RESTORE', 'c', future, payload, 'ABSTTL'], ['PEXPIRETIME', 'c'],
      ['RESTORE', 'd', '1', payload, 'ABSTTL'], ['EXISTS', 'd'], ['RESTORE', 'a', '1', payload, 'ABSTTL', 'REPLACE'], ['EXISTS', 'a'],
      ['RESTORE', 'e', '-1', payload], ['RESTORE', 'e', 'x', payload], ['RESTORE', 'e', '0', corrupt], ['RESTORE', 'e', '0', 'short'],
      ['RESTORE', 'e', '0', payload, 'IDLETIME', '100'], ['OBJECT', 'IDLETIME', 'e'], ['RESTORE', 'f', '0', payload, 'IDLETIME', '-1'],
      ['RESTORE', 'f', '0', payload, 'IDLETIME', 'x'], ['RESTORE', 'f', '0', payload, 'FREQ', '5'], ['RESTORE', 'g', '0', payload, 'FREQ', '300'],
      ['RESTORE', 'g', '0', payload, 'IDLETIME', '1', 'FREQ', '1'], ['RESTORE', 'g', '0', payload, 'FOO'],
      ['RESTORE', 'g', '0', payload, 'IDLETIME'], ['RESTORE', 'src', '0', corrupt], ['RESTORE', 'g', '0'],
      ['DUMP', 'nope'], ['DUMP', 'src'], ['DUMP'], ['DUMP', 'a', 'b'],
    );
  });

  // A relative TTL whose deadline passes a long long: Redis's sum wraps negative, so the key is
  // taken as already expired (OK, nothing made); ours no longer keeps a deadline no replica or
  // AOF could read back. 2^60 absolute is a double exactly: both read it back the same.
  it('RESTORE with the widest TTLs', async () => {
    await p.both('SET', 'src', 'value');
    const payload = (await p.redis.call('DUMP', 'src')) as string;
    await p.same(
      ['RESTORE', 'w', '9223372036854775807', payload], ['EXISTS', 'w'], ['RESTORE', 'w', '9223372036854775806', payload], ['EXISTS', 'w'],
      ['RESTORE', 'w', '1152921504606846976', payload, 'ABSTTL'], ['PEXPIRETIME', 'w'],
    );
  });
});
