// Redis's listpack blob (listpack.c): build one from latin1 strings and parse one back.
// Integers in canonical form are stored with the smallest int encoding, like lpAppend.

import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { RdbFormatError } from './rdb-constants.js';

const HEADER_SIZE = 6; // total bytes (u32) + element count (u16)
const EOF_BYTE = 0xff;
const NUMELE_UNKNOWN = 65535;

/** Bytes lpEncodeBacklen uses for an entry of `size` bytes (encoding + data). */
function backlenSize(size: number): number {
  if (size <= 127) return 1;
  if (size < 16383) return 2;
  if (size < 2097151) return 3;
  if (size < 268435455) return 4;
  return 5;
}

/** Appends entries to a growing listpack; `byteSize` is the size the finished blob will have. */
export class ListpackBuilder {
  private buf = Buffer.allocUnsafe(64);
  private pos = HEADER_SIZE;
  count = 0;

  /** Size in bytes of the finished listpack (header + entries + terminator). */
  get byteSize(): number {
    return this.pos + 1;
  }

  append(s: string): void {
    const len = s.length;
    const v = len <= 20 ? parseInt64(s) : null;
    if (v !== null) this.appendInt(v);
    else this.appendString(s);
    this.count++;
  }

  /** Writes the header and terminator; returns the listpack bytes (a fresh Buffer). */
  finish(): Buffer {
    this.ensure(1);
    this.buf[this.pos] = EOF_BYTE;
    const total = this.pos + 1;
    this.buf.writeUInt32LE(total, 0);
    this.buf.writeUInt16LE(this.count < NUMELE_UNKNOWN ? this.count : NUMELE_UNKNOWN, 4);
    return Buffer.from(this.buf.subarray(0, total));
  }

  private appendString(s: string): void {
    const len = s.length;
    const header = len < 64 ? 1 : len < 4096 ? 2 : 5;
    const size = header + len;
    this.ensure(size + 5);
    const buf = this.buf;
    let p = this.pos;
    if (header === 1) {
      buf[p++] = 0x80 | len;
    } else if (header === 2) {
      buf[p++] = 0xe0 | (len >> 8);
      buf[p++] = len & 0xff;
    } else {
      buf[p++] = 0xf0;
      buf.writeUInt32LE(len, p);
      p += 4;
    }
    p += buf.latin1Write(s, p, len);
    this.pos = writeBacklen(buf, p, size);
  }

  private appendInt(v: number | bigint): void {
    this.ensure(9 + 1);
    const buf = this.buf;
    let p = this.pos;
    if (typeof v === 'bigint') {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(v, p);
      p += 8;
    } else if (v >= 0 && v <= 127) {
      buf[p++] = v;
    } else if (v >= -4096 && v <= 4095) {
      const u = v < 0 ? (1 << 13) + v : v;
      buf[p++] = 0xc0 | (u >> 8);
      buf[p++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[p++] = 0xf1;
      buf.writeInt16LE(v, p);
      p += 2;
    } else if (v >= -8388608 && v <= 8388607) {
      buf[p++] = 0xf2;
      buf.writeIntLE(v, p, 3);
      p += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[p++] = 0xf3;
      buf.writeInt32LE(v, p);
      p += 4;
    } else {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(BigInt(v), p);
      p += 8;
    }
    this.pos = writeBacklen(buf, p, p - this.pos);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** lpEncodeBacklen: big-endian 7-bit groups, continuation bit on every byte but the first. */
function writeBacklen(buf: Buffer, p: number, l: number): number {
  const n = backlenSize(l);
  for (let i = n - 1; i >= 0; i--) {
    const shift = 7 * (n - 1 - i);
    const group = Math.floor(l / 2 ** shift) & 127;
    buf[p + i] = i === 0 ? group : group | 128;
  }
  return p + n;
}

/** Builds a listpack holding `items` in order. */
export function buildListpack(items: Iterable<string>): Buffer {
  const builder = new ListpackBuilder();
  for (const item of items) builder.append(item);
  return builder.finish();
}

/** Parses a listpack blob into its entries as latin1 strings; throws RdbFormatError when malformed. */
export function parseListpack(blob: Buffer): string[] {
  const total = blob.length;
  if (total < HEADER_SIZE + 1 || blob.readUInt32LE(0) !== total) throw new RdbFormatError('listpack: bad total size');
  if (blob[total - 1] !== EOF_BYTE) throw new RdbFormatError('listpack: missing terminator');
  const declared = blob.readUInt16LE(4);
  const out: string[] = [];
  const last = total - 1;
  let p = HEADER_SIZE;
  while (p < last) {
    const start = p;
    const b = blob[p];
    let value: string;
    if ((b & 0x80) === 0) {
      value = String(b);
      p += 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      p += 1;
      checkSpan(p + len, last);
      value = blob.latin1Slice(p, p + len);
      p += len;
    } else if ((b & 0xe0) === 0xc0) {
      checkSpan(p + 2, last);
      const u = ((b & 0x1f) << 8) | blob[p + 1];
      value = String(u >= 4096 ? u - 8192 : u);
      p += 2;
    } else if ((b & 0xf0) === 0xe0) {
      checkSpan(p + 2, last);
      const len = ((b & 0x0f) << 8) | blob[p + 1];
      p += 2;
      checkSpan(p + len, last);
      value = blob.latin1Slice(p, p + len);
      p += len;
    } else if (b === 0xf0) {
      checkSpan(p + 5, last);
      const len = blob.readUInt32LE(p + 1);
      p += 5;
      checkSpan(p + len, last);
      value = blob.latin1Slice(p, p + len);
      p += len;
    } else if (b === 0xf1) {
      checkSpan(p + 3, last);
      value = String(blob.readInt16LE(p + 1));
      p += 3;
    } else if (b === 0xf2) {
      checkSpan(p + 4, last);
      value = String(blob.readIntLE(p + 1, 3));
      p += 4;
    } else if (b === 0xf3) {
      checkSpan(p + 5, last);
      value = String(blob.readInt32LE(p + 1));
      p += 5;
    } else if (b === 0xf4) {
      checkSpan(p + 9, last);
      value = String(blob.readBigInt64LE(p + 1));
      p += 9;
    } else {
      throw new RdbFormatError(`listpack: bad entry encoding 0x${b.toString(16)}`);
    }
    // Skip the backlen, verifying its first (most significant) byte has no continuation bit.
    const size = p - start;
    const n = backlenSize(size);
    checkSpan(p + n, last);
    if (blob[p] & 128) throw new RdbFormatError('listpack: bad backlen');
    p += n;
    out.push(value);
  }
  if (declared !== NUMELE_UNKNOWN && declared !== out.length) throw new RdbFormatError('listpack: element count mismatch');
  return out;
}

function checkSpan(end: number, limit: number): void {
  if (end > limit) throw new RdbFormatError('listpack: entry overflows');
}
