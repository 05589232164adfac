import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HashValue } from '../../../node/keyspace/types/hash-value.js';
import { encodingLimits, resetEncodingLimits } from '../../../node/keyspace/types/encoding-limits.js';

afterEach(resetEncodingLimits);

describe('HashValue', () => {
  it('keeps listpack order: in-place update, append new, splice on delete', () => {
    const h = new HashValue();
    h.set('a', '1');
    h.set('b', '2');
    h.set('c', '3');
    expect(h.set('a', '9')).toBe(false);
    h.delete('b');
    h.set('d', '4');
    expect([...h]).toEqual([
      ['a', '9'],
      ['c', '3'],
      ['d', '4'],
    ]);
    expect(h.encoding()).toBe('listpack');
  });

  it('converts to hashtable for good at the entry and value limits', () => {
    const h = new HashValue();
    const limit = encodingLimits.hashMaxListpackEntries;
    expect(limit).toBe(512); // Redis 7.0's default, checked with CONFIG GET
    for (let i = 0; i < limit; i++) h.set(`f${i}`, 'v');
    expect(h.encoding()).toBe('listpack');
    h.set(`f${limit}`, 'v');
    expect(h.encoding()).toBe('hashtable');
    for (let i = 0; i < 100; i++) h.delete(`f${i}`);
    expect(h.encoding()).toBe('hashtable');

    const long = new HashValue();
    long.set('f', 'x'.repeat(64));
    expect(long.encoding()).toBe('listpack');
    long.set('g', 'x'.repeat(65));
    expect(long.encoding()).toBe('hashtable');
  });

  it('follows a changed limit', () => {
    encodingLimits.hashMaxListpackEntries = 2;
    const h = new HashValue();
    h.set('a', '1');
    h.set('b', '2');
    expect(h.encoding()).toBe('listpack');
    h.set('c', '3');
    expect(h.encoding()).toBe('hashtable');
  });

  it('matches a Map model under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 700 }), fc.string({ maxLength: 3 })), { maxLength: 1500 }),
        (ops) => {
          const h = new HashValue();
          const model = new Map<string, string>();
          for (const [isSet, k, v] of ops) {
            const key = `k${k}`;
            if (isSet) expect(h.set(key, v)).toBe(!model.has(key));
            else expect(h.delete(key)).toBe(model.delete(key));
            if (isSet) model.set(key, v);
          }
          expect(h.size).toBe(model.size);
          // While listpack the order must be exactly the Map's insertion order.
          if (h.encoding() === 'listpack') expect([...h]).toEqual([...model]);
          else expect(new Map([...h])).toEqual(model);
          if (h.size > 0) {
            const slot = h.randomSlot();
            expect(model.get(h.fieldAt(slot))).toBe(h.valueAt(slot));
          }
        },
      ),
    );
  });

  it('HSCAN returns every field present for the whole scan, despite changes between calls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 130, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 600 })), { minLength: 1, maxLength: 200 }),
        (initial, count, mutations) => {
          encodingLimits.hashMaxListpackEntries = 128;
          const h = new HashValue();
          for (let i = 0; i < initial; i++) h.set(`f${i}`, 'v');
          expect(h.encoding()).toBe('hashtable');
          const everPresent = new Set([...h].map(([f]) => f));
          const seen = new Set<string>();
          let cursor = 0;
          let m = 0;
          let steps = 0;
          do {
            const res = h.scan(cursor, count);
            for (let i = 0; i < res.items.length; i += 2) seen.add(res.items[i]);
            cursor = res.cursor;
            // Mutate between calls: delete or insert a few fields.
            for (let k = 0; k < 3 && m < mutations.length; k++, m++) {
              const [del, n] = mutations[m];
              if (del) {
                h.delete(`f${n}`);
                everPresent.delete(`f${n}`);
              } else h.set(`f${n}`, 'v');
            }
            steps++;
          } while (cursor !== 0 && steps < 10_000);
          expect(cursor).toBe(0);
          for (const f of everPresent) expect(seen.has(f)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('HSCAN on a listpack hash returns everything with cursor 0', () => {
    const h = new HashValue();
    h.set('a', '1');
    h.set('b', '2');
    expect(h.scan(0, 1)).toEqual({ cursor: 0, items: ['a', '1', 'b', '2'] });
  });
});
