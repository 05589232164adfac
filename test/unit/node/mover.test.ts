// Pieces of the slot mover that need no sockets: the target's temporary name for a big key always
// lands in the key's slot (even for tags that cannot be wrapped again), and which values count
// as big (moved in chunks).
import { describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { tempNameFor } from '../../../node/cluster/import.js';
import { BIG_ELEMENTS, approxBytes, isBig } from '../../../node/cluster/mover.js';
import { HashValue } from '../../../node/keyspace/types/hash-value.js';
import { ListValue } from '../../../node/keyspace/types/list-value.js';

describe('tempNameFor', () => {
  it('is deterministic, differs from the key and stays in its slot', () => {
    const keys = ['plain', '{tag}a', 'x{tag}y', 'a}b', '{}odd', 'a{b}c}d', '}{', '', '\xff\x00bin'];
    for (let i = 0; i < 300; i++) keys.push(`k${i}`, `{u${i}}v`, `w}${i}`);
    for (const key of keys) {
      const tmp = tempNameFor(key);
      expect(slotOf(tmp), key).toBe(slotOf(key));
      expect(tmp).not.toBe(key);
      expect(tempNameFor(key)).toBe(tmp);
    }
  });
});

describe('isBig', () => {
  it('counts elements, and bytes of a few large elements; strings go whole', () => {
    expect(isBig('x'.repeat(10_000_000))).toBe(false);
    expect(isBig(ListValue.from(Array.from({ length: BIG_ELEMENTS }, (_, i) => `e${i}`)))).toBe(false);
    expect(isBig(ListValue.from(Array.from({ length: BIG_ELEMENTS + 1 }, (_, i) => `e${i}`)))).toBe(true);
    const h = new HashValue();
    for (let i = 0; i < 100; i++) h.set(`f${i}`, 'v'.repeat(20_000));
    expect(isBig(h)).toBe(true);
    expect(approxBytes(h)).toBeGreaterThan(1_900_000);
  });
});
