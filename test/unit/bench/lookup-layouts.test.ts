// The lookup-layouts bench (bench/lookup-layouts.ts) times only lookups that answer right: every
// layout finds each loaded key from its bytes inside a request-like buffer, misses a key it does
// not hold, and timeLookups refuses a layout that answers wrong.
import { describe, expect, it } from 'vitest';
import { LAYOUTS, keyName, loadLayout, lookupBuffers, timeLookups } from '../../../bench/lookup-layouts.js';

describe('lookup-layouts bench', () => {
  it('every layout finds each of its keys from request bytes and misses others', () => {
    const keys = 3000;
    for (const l of LAYOUTS) {
      const layout = loadLayout(l, keys);
      for (let i = 0; i < keys; i++) {
        const b = Buffer.from(`xx${keyName(i)}yy`, 'latin1');
        expect(layout.find(b, 2, b.length - 2), `${l} key ${i}`).toBe(i);
      }
      const absent = Buffer.from(keyName(keys + 5), 'latin1');
      expect(layout.find(absent, 0, absent.length), `${l} absent`).toBe(-1);
    }
  });

  it('times a layout over request-like buffers and refuses one that answers wrong', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const buffers = lookupBuffers(500, 256, random);
    for (const b of buffers) expect(b.buf.latin1Slice(b.start, b.end)).toBe(keyName(b.n));
    expect(timeLookups(loadLayout('get-inline', 500), buffers, 1000)).toBeGreaterThan(0);
    expect(() => timeLookups({ find: () => 0 }, buffers, 1000)).toThrow(/wrong answers/);
  });
});
