import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  LEX_MAX,
  LEX_MIN,
  ZSetValue,
  parseLexBound,
  type LexRange,
  type ScoreRange,
  type ZSetEntry,
} from '../../../node/keyspace/types/zset-value.js';
import { encodingLimits, resetEncodingLimits } from '../../../node/keyspace/types/encoding-limits.js';

afterEach(resetEncodingLimits);

type Pair = [string, number];
const byScoreThenMember = (a: Pair, b: Pair) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const pairs = (entries: ZSetEntry[]): Pair[] => entries.map((e) => [e.member, e.score]);

function sortedModel(model: Map<string, number>): Pair[] {
  return [...model].sort(byScoreThenMember);
}

function inScore(score: number, r: ScoreRange): boolean {
  return (r.minExclusive ? score > r.min : score >= r.min) && (r.maxExclusive ? score < r.max : score <= r.max);
}

function inLex(member: string, r: LexRange): boolean {
  const geMin = r.min === LEX_MIN || (r.min !== LEX_MAX && (r.minExclusive ? member > r.min : member >= r.min));
  const leMax = r.max === LEX_MAX || (r.max !== LEX_MIN && (r.maxExclusive ? member < r.max : member <= r.max));
  return geMin && leMax;
}

const memberArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'aa', 'ab', 'ba', '\xff', '');
const scoreArb = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(-Infinity, Infinity, 0.5, -0.5));
const scoreRangeArb: fc.Arbitrary<ScoreRange> = fc.record({
  min: scoreArb,
  max: scoreArb,
  minExclusive: fc.boolean(),
  maxExclusive: fc.boolean(),
});
const lexValueArb = fc.oneof(memberArb, fc.constantFrom(LEX_MIN, LEX_MAX));
const lexRangeArb: fc.Arbitrary<LexRange> = fc.record({
  min: lexValueArb,
  max: lexValueArb,
  minExclusive: fc.boolean(),
  maxExclusive: fc.boolean(),
});

describe('ZSetValue', () => {
  it('matches a sorted-array model for updates, ranks and every range query', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), memberArb, scoreArb), { maxLength: 60 }),
        scoreRangeArb,
        lexRangeArb,
        fc.nat(5),
        fc.integer({ min: -1, max: 5 }),
        fc.boolean(),
        (ops, sr, lr, offset, limit, reverse) => {
          const z = new ZSetValue();
          const model = new Map<string, number>();
          for (const [add, m, s] of ops) {
            if (add) {
              const expected = !model.has(m) ? 'added' : model.get(m) === s ? 'unchanged' : 'updated';
              expect(z.set(m, s)).toBe(expected);
              model.set(m, s);
            } else {
              expect(z.remove(m)).toBe(model.delete(m));
            }
          }
          const sorted = sortedModel(model);
          expect(pairs([...z])).toEqual(sorted);
          expect(z.size).toBe(sorted.length);
          sorted.forEach(([m, s], i) => {
            expect(z.score(m)).toBe(s);
            expect(z.rank(m)).toBe(i);
            expect(z.rank(m, true)).toBe(sorted.length - 1 - i);
          });
          const lim = (arr: Pair[]) => {
            const dir = reverse ? [...arr].reverse() : arr;
            return dir.slice(offset, limit < 0 ? undefined : offset + limit);
          };
          const inScoreRange = sorted.filter(([, s]) => inScore(s, sr));
          expect(pairs(z.rangeByScore(sr, { offset, limit, reverse }))).toEqual(lim(inScoreRange));
          expect(z.countInScoreRange(sr)).toBe(inScoreRange.length);
          const inLexRange = sorted.filter(([m]) => inLex(m, lr));
          // Lex ranges are only meaningful when all scores are equal; check that case exactly.
          if (new Set(sorted.map(([, s]) => s)).size <= 1) {
            expect(pairs(z.rangeByLex(lr, { offset, limit, reverse }))).toEqual(lim(inLexRange));
            expect(z.countInLexRange(lr)).toBe(inLexRange.length);
          }
          const start = offset;
          const stop = offset + Math.max(limit, 0);
          const byRank = start > stop ? [] : sorted.slice(start, stop + 1);
          expect(pairs(z.rangeByRank(start, stop))).toEqual(byRank);
          expect(pairs(z.rangeByRank(start, stop, true))).toEqual([...sorted].reverse().slice(start, stop + 1));
          if (z.size > 0) {
            const e = z.randomEntry();
            expect(model.get(e.member)).toBe(e.score);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('lex queries match the model on equal scores', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberArb), lexRangeArb, fc.boolean(), (members, lr, reverse) => {
        const z = new ZSetValue();
        members.forEach((m) => z.set(m, 0));
        const sorted = [...members].sort();
        const expected = sorted.filter((m) => inLex(m, lr));
        expect(z.rangeByLex(lr, { reverse }).map((e) => e.member)).toEqual(reverse ? expected.reverse() : expected);
        expect(z.countInLexRange(lr)).toBe(z.rangeByLex(lr).length);
        expect(z.removeRangeByLex(lr)).toBe(z.size === members.length ? 0 : members.length - z.size);
        expect([...z].map((e) => e.member)).toEqual(sorted.filter((m) => !inLex(m, lr)));
      }),
    );
  });

  it('removes ranges by rank and score, and pops from both ends', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ maxLength: 3 }), scoreArb), { selector: ([m]) => m }),
        scoreRangeArb,
        fc.nat(10),
        fc.nat(10),
        (entries, sr, a, b) => {
          const build = () => {
            const z = new ZSetValue();
            entries.forEach(([m, s]) => z.set(m, s));
            return z;
          };
          const sorted = [...entries].sort(byScoreThenMember);
          const z1 = build();
          expect(z1.removeRangeByScore(sr)).toBe(sorted.filter(([, s]) => inScore(s, sr)).length);
          expect(pairs([...z1])).toEqual(sorted.filter(([, s]) => !inScore(s, sr)));
          expect(z1.size).toBe(z1.scores.size);

          const z2 = build();
          const [start, stop] = [Math.min(a, b), Math.max(a, b)];
          const removed = start >= sorted.length ? 0 : Math.min(stop, sorted.length - 1) - start + 1;
          expect(z2.removeRangeByRank(start, stop)).toBe(removed);
          expect(pairs([...z2])).toEqual([...sorted.slice(0, start), ...sorted.slice(stop + 1)]);

          const z3 = build();
          expect(pairs(z3.popMin(a))).toEqual(sorted.slice(0, a));
          expect(pairs(z3.popMax(b))).toEqual(sorted.slice(Math.min(a, sorted.length)).reverse().slice(0, b));
        },
      ),
    );
  });

  it('encodes as listpack until the entry or member-length limit, then skiplist for good', () => {
    const z = new ZSetValue();
    for (let i = 0; i < 128; i++) z.set(`m${i}`, i);
    expect(z.encoding()).toBe('listpack');
    z.set('m128', 1);
    expect(z.encoding()).toBe('skiplist');
    z.popMin(100);
    expect(z.encoding()).toBe('skiplist');
    encodingLimits.zsetMaxListpackValue = 3;
    const small = new ZSetValue();
    small.set('abc', 1);
    expect(small.encoding()).toBe('listpack');
    small.set('abcd', 1);
    expect(small.encoding()).toBe('skiplist');
  });

  it('ZSCAN on a skiplist visits every member', () => {
    const z = new ZSetValue();
    for (let i = 0; i < 500; i++) z.set(`m${i}`, i % 7);
    const seen = new Set<string>();
    let cursor = 0;
    do {
      const res = z.scan(cursor, 37);
      res.entries.forEach((e) => {
        expect(z.score(e.member)).toBe(e.score);
        seen.add(e.member);
      });
      cursor = res.cursor;
    } while (cursor !== 0);
    expect(seen.size).toBe(500);
  });

  it('parses lex bounds', () => {
    expect(parseLexBound('-')).toEqual({ value: LEX_MIN, exclusive: false });
    expect(parseLexBound('+')).toEqual({ value: LEX_MAX, exclusive: false });
    expect(parseLexBound('[a')).toEqual({ value: 'a', exclusive: false });
    expect(parseLexBound('(a')).toEqual({ value: 'a', exclusive: true });
    expect(parseLexBound('a')).toBeNull();
  });

  it('keeps ranks correct on a large set with many score updates', () => {
    const z = new ZSetValue();
    const n = 5000;
    for (let i = 0; i < n; i++) z.set(`m${i}`, (i * 7919) % n);
    for (let i = 0; i < n; i += 3) z.set(`m${i}`, -i);
    const sorted = pairs([...z]);
    for (let i = 1; i < sorted.length; i++) expect(byScoreThenMember(sorted[i - 1], sorted[i])).toBeLessThan(0);
    for (let i = 0; i < n; i += 97) expect(z.rank(sorted[i][0])).toBe(i);
  });
});
