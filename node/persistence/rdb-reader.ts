// Cursor over an RDB byte buffer with the RDB primitives: lengths, strings (int / LZF encodings),
// doubles, times. Every malformed input throws RdbFormatError; it never reads past `end`.

import { lzfDecompress } from './lzf.js';
import {
  RDB_14BITLEN,
  RDB_32BITLEN,
  RDB_64BITLEN,
  RDB_6BITLEN,
  RDB_ENC_INT16,
  RDB_ENC_INT32,
  RDB_ENC_INT8,
  RDB_ENC_LZF,
  RDB_ENCVAL,
  RdbFormatError,
} from './rdb-constants.js';

/** A decoded length; `encoded` marks the RDB_ENCVAL form whose value is an encoding id. */
export interface RdbLength {
  len: number;
  encoded: boolean;
}

export class RdbReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Fails unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RdbFormatError('unexpected end of data');
  }

  readByte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  readBytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  readUInt32LE(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** rdbLoadLenByRef: the length or, when `encoded`, the special string encoding id. */
  readLengthOrEncoding(): RdbLength {
    const first = this.readByte();
    const type = (first & 0xc0) >> 6;
    if (type === RDB_ENCVAL) return { len: first & 0x3f, encoded: true };
    if (type === RDB_6BITLEN) return { len: first & 0x3f, encoded: false };
    if (type === RDB_14BITLEN) return { len: ((first & 0x3f) << 8) | this.readByte(), encoded: false };
    if (first === RDB_32BITLEN) {
      this.need(4);
      const len = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return { len, encoded: false };
    }
    if (first === RDB_64BITLEN) {
      this.need(8);
      const big = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbFormatError('length too large');
      return { len: Number(big), encoded: false };
    }
    throw new RdbFormatError(`unknown length encoding 0x${first.toString(16)}`);
  }

  /** A plain length (an encoded marker here is an error). */
  readLength(): number {
    const { len, encoded } = this.readLengthOrEncoding();
    if (encoded) throw new RdbFormatError('unexpected encoded length');
    return len;
  }

  /** A length used as an element count, sanity-checked against the bytes left (each element ≥ 1 byte). */
  readCount(): number {
    const n = this.readLength();
    if (n > this.remaining) throw new RdbFormatError('element count exceeds payload');
    return n;
  }

  /** An RDB string as raw bytes (int-encoded strings come back as their decimal text). */
  readStringBytes(): Buffer {
    const { len, encoded } = this.readLengthOrEncoding();
    if (!encoded) return this.readBytes(len);
    if (len === RDB_ENC_LZF) return this.readLzf();
    return Buffer.from(String(this.readEncodedInt(len)), 'latin1');
  }

  /** An RDB string as a latin1 JS string. */
  readString(): string {
    const { len, encoded } = this.readLengthOrEncoding();
    if (!encoded) {
      this.need(len);
      const s = this.buf.latin1Slice(this.pos, this.pos + len);
      this.pos += len;
      return s;
    }
    if (len === RDB_ENC_LZF) {
      const raw = this.readLzf();
      return raw.latin1Slice(0, raw.length);
    }
    return String(this.readEncodedInt(len));
  }

  /** Old-style string double: 253 nan, 254 +inf, 255 -inf, else length-prefixed text. */
  readStringDouble(): number {
    const len = this.readByte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const text = this.readBytes(len).latin1Slice(0, len);
    const v = parseDoubleText(text);
    if (v === null) throw new RdbFormatError('bad double value');
    return v;
  }

  readBinaryDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** EXPIRETIME_MS: int64 little-endian milliseconds. */
  readMillisecondTime(): number {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  /** EXPIRETIME: int32 little-endian seconds (old RDB files). */
  readSecondTime(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  private readEncodedInt(enc: number): number {
    if (enc === RDB_ENC_INT8) {
      this.need(1);
      return this.buf.readInt8(this.pos++);
    }
    if (enc === RDB_ENC_INT16) {
      this.need(2);
      const v = this.buf.readInt16LE(this.pos);
      this.pos += 2;
      return v;
    }
    if (enc === RDB_ENC_INT32) {
      this.need(4);
      const v = this.buf.readInt32LE(this.pos);
      this.pos += 4;
      return v;
    }
    throw new RdbFormatError(`unknown string encoding ${enc}`);
  }

  private readLzf(): Buffer {
    const compressedLength = this.readLength();
    const originalLength = this.readLength();
    if (originalLength === 0) throw new RdbFormatError('zero-length LZF string');
    const compressed = this.readBytes(compressedLength);
    try {
      return lzfDecompress(compressed, originalLength);
    } catch (err) {
      throw new RdbFormatError((err as Error).message);
    }
  }
}

/** strtod-style parse of Redis's double text ("inf", "-inf", "nan" and decimal/exponent forms). */
export function parseDoubleText(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (text.length === 0 || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}
