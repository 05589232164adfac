import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc64 } from '../../../node/persistence/crc64.js';
import { lzfCompress, lzfDecompress } from '../../../node/persistence/lzf.js';
import { buildListpack, parseListpack } from '../../../node/persistence/listpack.js';
import { buildIntset, parseIntset } from '../../../node/persistence/intset.js';
import { parseZiplist } from '../../../node/persistence/ziplist.js';
import { parseZipmap } from '../../../node/persistence/zipmap.js';
import { RdbWriter, formatDouble17g } from '../../../node/persistence/rdb-writer.js';
import { RdbReader } from '../../../node/persistence/rdb-reader.js';
import { RdbFormatError } from '../../../node/persistence/rdb-constants.js';
import { compareCanonicalInts } from '../../../node/keyspace/types/canonical-int.js';

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 300 });

describe('crc64', () => {
  it('matches the Jones test vector Redis uses', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });
  it('chains like a single pass', () => {
    const data = Buffer.from('hello crc64 world');
    expect(crc64(data.subarray(5), crc64(data.subarray(0, 5)))).toBe(crc64(data));
  });
});

describe('lzf', () => {
  it('round-trips any input it manages to compress', () => {
    fc.assert(
      fc.property(fc.oneof(latin1, fc.array(fc.constantFrom('ab', 'abc', 'xyz', '0'), { maxLength: 400 }).map((a) => a.join(''))), (s) => {
        const raw = Buffer.from(s, 'latin1');
        const packed = lzfCompress(raw, raw.length + 64);
        if (raw.length === 0) {
          expect(packed).toBeNull();
        } else {
          expect(packed).not.toBeNull();
          expect(lzfDecompress(packed as Buffer, raw.length).equals(raw)).toBe(true);
        }
      }),
    );
  });
  it('gives up when the output would not fit', () => {
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151 + 7) & 0xff));
    expect(lzfCompress(random, random.length - 4)).toBeNull();
    const repetitive = Buffer.alloc(1000, 'a');
    expect((lzfCompress(repetitive, 996) as Buffer).length).toBeLessThan(50);
  });
  it('rejects corrupt input', () => {
    expect(() => lzfDecompress(Buffer.from([0x20, 0x05]), 10)).toThrow();
    expect(() => lzfDecompress(Buffer.from([0x01, 0x61]), 10)).toThrow();
  });
});

describe('listpack', () => {
  it('round-trips strings and integers of every width', () => {
    const ints = ['0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '8388607', '-8388608', '2147483647',
      '-2147483648', '2147483648', '9223372036854775807', '-9223372036854775808', '01', '-0', '1.5'];
    const strings = ['', 'a', 'x'.repeat(63), 'x'.repeat(64), 'y'.repeat(4095), 'z'.repeat(4096), 'w'.repeat(20000)];
    const items = [...ints, ...strings];
    expect(parseListpack(buildListpack(items))).toEqual(items);
  });
  it('round-trips random latin1 entries', () => {
    fc.assert(fc.property(fc.array(latin1, { maxLength: 30 }), (items) => {
      expect(parseListpack(buildListpack(items))).toEqual(items);
    }));
  });
  it('rejects truncated or inconsistent blobs', () => {
    const lp = buildListpack(['hello', '42']);
    expect(() => parseListpack(lp.subarray(0, lp.length - 1))).toThrow(RdbFormatError);
    const badCount = Buffer.from(lp);
    badCount.writeUInt16LE(3, 4);
    expect(() => parseListpack(badCount)).toThrow(RdbFormatError);
  });
});

describe('intset', () => {
  it('round-trips with the smallest width', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }), (values) => {
        const sorted = values.map(String).sort(compareCanonicalInts);
        const blob = buildIntset(sorted);
        const width = blob.readUInt32LE(0);
        const needs8 = values.some((v) => v < -(2n ** 31n) || v >= 2n ** 31n);
        const needs4 = values.some((v) => v < -32768n || v > 32767n);
        expect(width).toBe(needs8 ? 8 : needs4 ? 4 : 2);
        expect(parseIntset(blob)).toEqual(sorted);
      }),
    );
  });
  it('rejects unsorted members', () => {
    const blob = buildIntset(['1', '2']);
    blob.writeInt16LE(5, 8);
    expect(() => parseIntset(blob)).toThrow(RdbFormatError);
  });
});

/** Hand-assembles a ziplist (Redis ≤ 6.2 format) from pre-encoded entries. */
function ziplist(entries: number[][]): Buffer {
  const body: number[] = [];
  let prev = 0;
  let tail = 10;
  for (const enc of entries) {
    tail = 10 + body.length;
    const entry = [prev, ...enc];
    body.push(...entry);
    prev = entry.length;
  }
  const out = Buffer.alloc(10 + body.length + 1);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt32LE(tail, 4);
  out.writeUInt16LE(entries.length, 8);
  Buffer.from(body).copy(out, 10);
  out[out.length - 1] = 0xff;
  return out;
}

describe('ziplist and zipmap (legacy, read-only)', () => {
  it('parses every ziplist entry encoding', () => {
    const zl = ziplist([
      [0x03, 0x61, 0x62, 0x63], // "abc"
      [0xf1], // immediate 0
      [0xfd], // immediate 12
      [0xfe, 0x80], // int8 -128
      [0xc0, 0x00, 0x80], // int16 -32768
      [0xf0, 0xff, 0xff, 0x7f], // int24 8388607
      [0xd0, 0x00, 0x00, 0x00, 0x80], // int32 -2147483648
      [0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // int64 max
      [0x40, 0x02, 0x78, 0x79], // 14-bit length "xy"
    ]);
    expect(parseZiplist(zl)).toEqual(['abc', '0', '12', '-128', '-32768', '8388607', '-2147483648', '9223372036854775807', 'xy']);
  });
  it('parses a zipmap', () => {
    const zm = Buffer.from([2, 1, 0x61, 2, 0, 0x76, 0x31, 1, 0x62, 1, 3, 0x32, 0, 0, 0, 0xff]);
    expect(parseZipmap(zm)).toEqual(['a', 'v1', 'b', '2']);
  });
});

describe('RdbWriter / RdbReader', () => {
  it('round-trips lengths at every boundary', () => {
    const lengths = [0, 63, 64, 16383, 16384, 0xffffffff, 0x100000000];
    const w = new RdbWriter();
    lengths.forEach((l) => w.writeLength(l));
    const r = new RdbReader(Buffer.from(w.view()));
    expect(lengths.map(() => r.readLength())).toEqual(lengths);
  });
  it('int-encodes canonical integers, compresses long strings, round-trips everything', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(latin1, fc.integer().map(String), fc.constant('a'.repeat(200)))), fc.boolean(), (strings, compression) => {
        const w = new RdbWriter({ compression });
        strings.forEach((s) => w.writeString(s));
        const r = new RdbReader(Buffer.from(w.view()));
        expect(strings.map(() => r.readString())).toEqual(strings);
        expect(r.remaining).toBe(0);
      }),
    );
    const w = new RdbWriter();
    w.writeString('-129');
    expect([...w.view()]).toEqual([0xc1, 0x7f, 0xff]);
    const big = new RdbWriter();
    big.writeString('a'.repeat(200));
    expect(big.view()[0]).toBe(0xc3);
  });
  it('round-trips doubles and times', () => {
    const w = new RdbWriter();
    const values = [0, -0.5, 1e300, -Infinity, Infinity, 0.1, 123456789.125];
    values.forEach((v) => w.writeStringDouble(v));
    values.forEach((v) => w.writeBinaryDouble(v));
    w.writeStringDouble(NaN);
    w.writeMillisecondTime(1_700_000_000_123);
    const r = new RdbReader(Buffer.from(w.view()));
    expect(values.map(() => r.readStringDouble())).toEqual(values);
    expect(values.map(() => r.readBinaryDouble())).toEqual(values);
    expect(r.readStringDouble()).toBeNaN();
    expect(r.readMillisecondTime()).toBe(1_700_000_000_123);
  });
  it('formats %.17g like C', () => {
    expect(formatDouble17g(0.1)).toBe('0.10000000000000001');
    expect(formatDouble17g(1.5)).toBe('1.5');
    expect(formatDouble17g(1e20)).toBe('1e+20');
    expect(formatDouble17g(1e-5)).toBe('1.0000000000000001e-05');
    expect(formatDouble17g(-2.5e-300)).toBe('-2.5e-300');
    expect(formatDouble17g(123456789012345678)).toBe('1.2345678901234568e+17');
    expect(formatDouble17g(0.0001)).toBe('0.0001');
  });
  it('throws RdbFormatError on truncation', () => {
    const w = new RdbWriter();
    w.writeString('hello world');
    const bytes = Buffer.from(w.view());
    expect(() => new RdbReader(bytes.subarray(0, 5)).readString()).toThrow(RdbFormatError);
  });
});
