// Growable byte sink with the RDB primitives: lengths, strings (int / LZF encodings), doubles,
// times. Assembles DUMP payloads and RDB files; knows nothing about value types.

import { INT64_MAX, INT64_MIN, parseInt64 } from '../keyspace/types/canonical-int.js';
import { lzfCompress } from './lzf.js';
import { RDB_32BITLEN, RDB_64BITLEN, RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_INT8, RDB_ENC_LZF, RDB_ENCVAL } from './rdb-constants.js';

export interface RdbWriterOptions {
  /** rdbcompression: LZF-compress strings longer than 20 bytes when it saves space (default true). */
  compression?: boolean;
  /** Initial capacity in bytes. */
  initialCapacity?: number;
}

/** Strings up to this length are tried as integers (Redis: len <= 11). */
const INT_ENCODING_MAX_LENGTH = 11;
/** Strings longer than this are tried with LZF (Redis: len > 20). */
const LZF_MIN_LENGTH = 21;

export class RdbWriter {
  private buf: Buffer;
  private pos = 0;
  readonly compression: boolean;

  constructor(options: RdbWriterOptions = {}) {
    this.buf = Buffer.allocUnsafe(options.initialCapacity ?? 256);
    this.compression = options.compression ?? true;
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view; copy it before writing more if you keep it). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  writeByte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  writeUInt32LE(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  writeUInt16LE(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  /** RDB length: 6-bit, 14-bit, 32-bit or 64-bit big-endian. */
  writeLength(len: number): void {
    this.ensure(9);
    const buf = this.buf;
    if (len < 1 << 6) {
      buf[this.pos++] = len;
    } else if (len < 1 << 14) {
      buf[this.pos++] = (len >> 8) | 0x40;
      buf[this.pos++] = len & 0xff;
    } else if (len <= 0xffffffff) {
      buf[this.pos++] = RDB_32BITLEN;
      buf.writeUInt32BE(len, this.pos);
      this.pos += 4;
    } else {
      buf[this.pos++] = RDB_64BITLEN;
      buf.writeBigUInt64BE(BigInt(len), this.pos);
      this.pos += 8;
    }
  }

  /** A latin1 string with Redis's choice of encoding (rdbSaveRawString). */
  writeString(s: string): void {
    const len = s.length;
    if (len <= INT_ENCODING_MAX_LENGTH && this.tryWriteIntEncoded(s)) return;
    if (this.compression && len >= LZF_MIN_LENGTH) {
      const raw = Buffer.from(s, 'latin1');
      if (this.tryWriteLzf(raw)) return;
      this.writeLength(len);
      this.writeBytes(raw);
      return;
    }
    this.writeLength(len);
    this.ensure(len);
    this.pos += this.buf.latin1Write(s, this.pos, len);
  }

  /** A binary blob (listpack, intset, …) as an RDB string; LZF applies, int encoding does not match binary. */
  writeBlob(bytes: Uint8Array): void {
    if (this.compression && bytes.length >= LZF_MIN_LENGTH && this.tryWriteLzf(bytes)) return;
    this.writeLength(bytes.length);
    this.writeBytes(bytes);
  }

  /** An LZF blob whose compressed form is already known (rdbSaveLzfBlob). */
  writeLzfBlob(compressed: Uint8Array, originalLength: number): void {
    this.writeByte((RDB_ENCVAL << 6) | RDB_ENC_LZF);
    this.writeLength(compressed.length);
    this.writeLength(originalLength);
    this.writeBytes(compressed);
  }

  /** Old-style string double (ZSET type 3): 253 nan, 254 +inf, 255 -inf, else length + %.17g. */
  writeStringDouble(v: number): void {
    if (Number.isNaN(v)) return this.writeByte(253);
    if (v === Infinity) return this.writeByte(254);
    if (v === -Infinity) return this.writeByte(255);
    const text = formatDouble17g(v);
    this.writeByte(text.length);
    this.ensure(text.length);
    this.pos += this.buf.latin1Write(text, this.pos);
  }

  /** IEEE-754 little-endian double (ZSET_2, module values). */
  writeBinaryDouble(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Milliseconds since the epoch, int64 little-endian (EXPIRETIME_MS); kept within int64. */
  writeMillisecondTime(ms: number): void {
    this.ensure(8);
    const t = BigInt(Math.trunc(ms));
    this.buf.writeBigInt64LE(t > INT64_MAX ? INT64_MAX : t < INT64_MIN ? INT64_MIN : t, this.pos);
    this.pos += 8;
  }

  /** Encodes `s` as int8/16/32 when it is a canonical integer in range (rdbTryIntegerEncoding). */
  private tryWriteIntEncoded(s: string): boolean {
    const v = parseInt64(s);
    if (typeof v !== 'number') return false;
    this.ensure(5);
    const buf = this.buf;
    if (v >= -128 && v <= 127) {
      buf[this.pos++] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
      buf.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -32768 && v <= 32767) {
      buf[this.pos++] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
      buf.writeInt16LE(v, this.pos);
      this.pos += 2;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[this.pos++] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
      buf.writeInt32LE(v, this.pos);
      this.pos += 4;
    } else {
      return false;
    }
    return true;
  }

  /** rdbSaveLzfStringObject: worth it only if at least 4 bytes are saved. */
  private tryWriteLzf(raw: Uint8Array): boolean {
    const compressed = lzfCompress(raw, raw.length - 4);
    if (compressed === null) return false;
    this.writeLzfBlob(compressed, raw.length);
    return true;
  }
}

/** C's printf("%.17g", v) for finite v: 17 significant digits, trailing zeros trimmed. */
export function formatDouble17g(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = v.toExponential(16); // d.dddddddddddddddde±X, correctly rounded
  const ePos = exp.indexOf('e');
  const x = Number(exp.slice(ePos + 1));
  const negative = exp.charCodeAt(0) === 45;
  const digits = exp.slice(negative ? 1 : 0, ePos).replace('.', '');
  let out: string;
  if (x < -4 || x >= 17) {
    const mantissa = trimFraction(digits[0] + '.' + digits.slice(1));
    const absX = Math.abs(x);
    out = `${mantissa}e${x < 0 ? '-' : '+'}${absX < 10 ? '0' : ''}${absX}`;
  } else if (x >= 0) {
    out = trimFraction(digits.slice(0, x + 1) + '.' + digits.slice(x + 1));
  } else {
    out = trimFraction('0.' + '0'.repeat(-x - 1) + digits);
  }
  return negative ? '-' + out : out;
}

function trimFraction(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}
