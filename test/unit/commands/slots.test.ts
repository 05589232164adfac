// Key → slot hashing: crc32 (zlib's) of the hash tag modulo 1024, with Redis Cluster's tag rule —
// the text between the first '{' and the first '}' after it, unless that text is empty.
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SLOT_COUNT, crc32Bytes, crc32Latin1, hashTag, slotOf, slotOfBytes } from '../../../common/slots.js';

/** Redis Cluster's keyHashSlot tag rule, written independently of the product code. */
function referenceTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const referenceSlot = (key: string) => crc32(Buffer.from(referenceTag(key), 'latin1')) % SLOT_COUNT;

describe('hash tags (Redis Cluster rules)', () => {
  it.each([
    ['plain', 'plain'], ['{user1000}.following', 'user1000'], ['foo{}{bar}', 'foo{}{bar}'], ['{}', '{}'],
    ['{a}{b}', 'a'], ['a{b', 'a{b'], ['a}b{c}', 'c'], ['{{a}}', '{a'], ['x{y}z', 'y'], ['}{', '}{'], ['', ''],
    ['{}{a}', '{}{a}'], ['a{ }b', ' '],
  ])('hashTag(%j) = %j', (key, tag) => {
    expect(hashTag(key)).toBe(tag);
    expect(slotOf(key)).toBe(crc32(Buffer.from(tag, 'latin1')) % SLOT_COUNT);
  });

  it('keys sharing a tag share a slot', () => {
    expect(slotOf('{user:1}:name')).toBe(slotOf('{user:1}:email'));
    expect(slotOf('user:1')).toBe(slotOf('{user:1}'));
  });
});

describe('crc32 and slots vs zlib.crc32 (fast-check)', () => {
  const latin1Key = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('latin1')),
    // Keys made mostly of braces exercise the tag rule's corner cases.
    fc.array(fc.constantFrom('{', '}', 'a', 'b', '\xff', '\x00'), { maxLength: 12 }).map((a) => a.join('')),
  );

  it('crc32Bytes and crc32Latin1 equal zlib.crc32', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const buf = Buffer.from(u);
        expect(crc32Bytes(buf)).toBe(crc32(buf));
        expect(crc32Latin1(buf.toString('latin1'))).toBe(crc32(buf));
      }),
      { numRuns: 1000 },
    );
  });

  it('slotOf, slotOfBytes and hashTag agree with the reference on any key', () => {
    fc.assert(
      fc.property(latin1Key, fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 }), (key, pre, post) => {
        const expected = referenceSlot(key);
        expect(hashTag(key)).toBe(referenceTag(key));
        expect(slotOf(key)).toBe(expected);
        // The key sits inside a larger buffer (as in a request the proxy forwards).
        const buf = Buffer.concat([Buffer.from(pre), Buffer.from(key, 'latin1'), Buffer.from(post)]);
        expect(slotOfBytes(buf, pre.length, pre.length + key.length)).toBe(expected);
        expect(slotOf(key)).toBeGreaterThanOrEqual(0);
        expect(slotOf(key)).toBeLessThan(SLOT_COUNT);
      }),
      { numRuns: 3000 },
    );
  });
});
