import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SetValue } from '../../../node/keyspace/types/set-value.js';
import { encodingLimits, resetEncodingLimits } from '../../../node/keyspace/types/encoding-limits.js';
import { compareCanonicalInts, isCanonicalInt64, parseInt64 } from '../../../node/keyspace/types/canonical-int.js';

afterEach(resetEncodingLimits);

describe('canonical int64 strings', () => {
  it('accepts exactly what string2ll accepts', () => {
    for (const s of ['0', '-1', '42', '9223372036854775807', '-9223372036854775808']) expect(isCanonicalInt64(s)).toBe(true);
    for (const s of ['', '-', '-0', '01', '+1', ' 1', '1 ', '1.0', '9223372036854775808', '-9223372036854775809', 'abc'])
      expect(isCanonicalInt64(s)).toBe(false);
    expect(parseInt64('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseInt64('-123')).toBe(-123);
  });

  it('compares like the numbers they spell', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (a, b) => {
        expect(Math.sign(compareCanonicalInts(String(a), String(b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});

describe('SetValue', () => {
  it('is an intset of sorted integers until a non-integer arrives', () => {
    const s = new SetValue();
    for (const m of ['10', '-5', '3', '9223372036854775807']) s.add(m);
    expect(s.encoding()).toBe('intset');
    expect(s.toArray()).toEqual(['-5', '3', '10', '9223372036854775807']);
    s.add('x');
    expect(s.encoding()).toBe('hashtable');
    s.delete('x');
    expect(s.encoding()).toBe('hashtable');
  });

  it('converts after set-max-intset-entries members', () => {
    encodingLimits.setMaxIntsetEntries = 3;
    const s = new SetValue();
    for (const m of ['1', '2', '3']) s.add(m);
    expect(s.encoding()).toBe('intset');
    s.add('4');
    expect(s.encoding()).toBe('hashtable');
  });

  it('matches a Set model and SSCAN never misses a member', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: -50, max: 700 }))), fc.integer({ min: 1, max: 50 }), (ops, count) => {
        const s = new SetValue();
        const model = new Set<string>();
        for (const [add, n] of ops) {
          const m = String(n);
          if (add) expect(s.add(m)).toBe(!model.has(m));
          else expect(s.delete(m)).toBe(model.delete(m));
          if (add) model.add(m);
        }
        expect(new Set(s.toArray())).toEqual(model);
        if (s.size > 0) expect(model.has(s.randomMember())).toBe(true);
        const seen = new Set<string>();
        let cursor = 0;
        do {
          const res = s.scan(cursor, count);
          res.items.forEach((m) => seen.add(m));
          cursor = res.cursor;
        } while (cursor !== 0);
        expect(seen).toEqual(model);
      }),
    );
  });
});
