// Parser for Redis's legacy ziplist blob (RDB types 10, 12, 13, 14 from Redis ≤ 6.2).
// Read-only: Redis 7.0 never writes ziplists.

import { RdbFormatError } from './rdb-constants.js';

const HEADER_SIZE = 10; // zlbytes (u32) + zltail (u32) + zllen (u16)
const END_BYTE = 0xff;

/** Parses a ziplist into its entries as latin1 strings; throws RdbFormatError when malformed. */
export function parseZiplist(blob: Buffer): string[] {
  const total = blob.length;
  if (total < HEADER_SIZE + 1 || blob.readUInt32LE(0) !== total) throw new RdbFormatError('ziplist: bad total size');
  if (blob[total - 1] !== END_BYTE) throw new RdbFormatError('ziplist: missing end byte');
  const declared = blob.readUInt16LE(8);
  const last = total - 1;
  const out: string[] = [];
  let p = HEADER_SIZE;
  while (p < last) {
    // prevlen: 1 byte, or 0xFE + u32.
    const prev = blob[p];
    if (prev === 0xff) throw new RdbFormatError('ziplist: bad prevlen');
    p += prev === 0xfe ? 5 : 1;
    check(p + 1, last);
    const b = blob[p];
    const kind = b & 0xc0;
    let value: string;
    if (kind === 0x00 || kind === 0x40 || kind === 0x80) {
      let len: number;
      if (kind === 0x00) {
        len = b & 0x3f;
        p += 1;
      } else if (kind === 0x40) {
        check(p + 2, last);
        len = ((b & 0x3f) << 8) | blob[p + 1];
        p += 2;
      } else {
        if (b !== 0x80) throw new RdbFormatError('ziplist: bad string encoding');
        check(p + 5, last);
        len = blob.readUInt32BE(p + 1);
        p += 5;
      }
      check(p + len, last);
      value = blob.latin1Slice(p, p + len);
      p += len;
    } else if (b === 0xc0) {
      check(p + 3, last);
      value = String(blob.readInt16LE(p + 1));
      p += 3;
    } else if (b === 0xd0) {
      check(p + 5, last);
      value = String(blob.readInt32LE(p + 1));
      p += 5;
    } else if (b === 0xe0) {
      check(p + 9, last);
      value = String(blob.readBigInt64LE(p + 1));
      p += 9;
    } else if (b === 0xf0) {
      check(p + 4, last);
      value = String(blob.readIntLE(p + 1, 3));
      p += 4;
    } else if (b === 0xfe) {
      check(p + 2, last);
      value = String(blob.readInt8(p + 1));
      p += 2;
    } else if (b >= 0xf1 && b <= 0xfd) {
      value = String((b & 0x0f) - 1); // 4-bit immediate 0..12
      p += 1;
    } else {
      throw new RdbFormatError(`ziplist: bad entry encoding 0x${b.toString(16)}`);
    }
    out.push(value);
  }
  // zllen saturates at 65535 ("count unknown").
  if (declared !== 0xffff && declared !== out.length) throw new RdbFormatError('ziplist: element count mismatch');
  return out;
}

function check(end: number, limit: number): void {
  if (end > limit) throw new RdbFormatError('ziplist: entry overflows');
}
