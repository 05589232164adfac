// Sorted sets big enough for a multi-level order tree (thousands of members, many leaf splits
// and merges): random writes and every kind of read, our node vs a real redis-server.
import fc from 'fast-check';
import { beforeEach, describe, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';

type Cmd = Array<string | number>;
const MEMBERS = 4000;
const name = (i: number) => `m${String(i).padStart(5, '0')}`;

/** ZADD of every member with scores that collide in groups (so member order matters too). */
function fill(key: string, seed: number): Cmd[] {
  const out: Cmd[] = [];
  for (let from = 0; from < MEMBERS; from += 500) {
    const cmd: Cmd = ['ZADD', key];
    for (let i = from; i < from + 500; i++) cmd.push(String(((i * 7919 + seed) % 997) / 4), name(i));
    out.push(cmd);
  }
  return out;
}

describe('big sorted sets match redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });

  it('random writes and reads on a 4000-member set agree (property)', async () => {
    const member = fc.integer({ min: 0, max: MEMBERS + 200 }).map(name);
    const score = fc.oneof(fc.integer({ min: -10, max: 260 }).map(String), fc.constantFrom('0.25', '-inf', '+inf', '(100', '(0'));
    const rank = fc.integer({ min: -MEMBERS - 50, max: MEMBERS + 50 });
    const op = fc.oneof(
      fc.array(fc.tuple(score.filter((s) => !s.startsWith('(')), member), { minLength: 1, maxLength: 40 }).map((ps): Cmd => ['ZADD', 'b', ...ps.flat()]),
      fc.array(member, { minLength: 1, maxLength: 40 }).map((ms): Cmd => ['ZREM', 'b', ...ms]),
      fc.tuple(fc.integer({ min: -300, max: 300 }).map(String), member).map(([s, m]): Cmd => ['ZINCRBY', 'b', s, m]),
      member.map((m): Cmd => ['ZRANK', 'b', m]),
      member.map((m): Cmd => ['ZREVRANK', 'b', m]),
      fc.tuple(rank, fc.integer({ min: 0, max: 30 })).map(([a, n]): Cmd => ['ZRANGE', 'b', a, a + n, 'WITHSCORES']),
      fc.tuple(rank, fc.integer({ min: 0, max: 30 })).map(([a, n]): Cmd => ['ZRANGE', 'b', a, a + n, 'REV']),
      fc.tuple(score, score, fc.integer({ min: 0, max: 3000 }), fc.integer({ min: -1, max: 20 }), fc.boolean()).map(([a, b, o, l, rev]): Cmd =>
        rev ? ['ZRANGE', 'b', b, a, 'BYSCORE', 'REV', 'LIMIT', o, l, 'WITHSCORES'] : ['ZRANGE', 'b', a, b, 'BYSCORE', 'LIMIT', o, l, 'WITHSCORES']),
      fc.tuple(score, score).map(([a, b]): Cmd => ['ZCOUNT', 'b', a, b]),
      fc.tuple(score, score).map(([a, b]): Cmd => ['ZREMRANGEBYSCORE', 'b', a, b]),
      fc.tuple(rank, fc.integer({ min: 0, max: 400 })).map(([a, n]): Cmd => ['ZREMRANGEBYRANK', 'b', a, a + n]),
      fc.tuple(fc.constantFrom('ZPOPMIN', 'ZPOPMAX'), fc.integer({ min: 1, max: 50 })).map(([c, n]): Cmd => [c, 'b', n]),
      // Lex queries on an all-equal-score set, the case Redis defines.
      fc.tuple(member, member, fc.integer({ min: 0, max: 100 }), fc.integer({ min: -1, max: 20 })).map(([a, b, o, l]): Cmd => ['ZRANGEBYLEX', 'l', `[${a}`, `(${b}`, 'LIMIT', o, l]),
      fc.tuple(member, member).map(([a, b]): Cmd => ['ZLEXCOUNT', 'l', `(${a}`, `[${b}`]),
      fc.tuple(member, member).map(([a, b]): Cmd => ['ZREMRANGEBYLEX', 'l', `[${a}`, `[${b}`]),
    );
    const lexFill: Cmd[] = fill('l', 0).map((cmd) => cmd.map((a, i) => (i >= 2 && i % 2 === 0 ? '0' : a)));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat(1000), async (ops, seed) => {
        await p.both('DEL', 'b', 'l');
        for (const cmd of [...fill('b', seed), ...lexFill]) await p.both(...cmd);
        await p.same(...ops, ['ZCARD', 'b'], ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'l', '0', '-1'], ['OBJECT', 'ENCODING', 'b']);
      }),
      { numRuns: 40 },
    );
  });
});
