// HyperLogLog in Redis 7.0's exact byte format (hyperloglog.c), so values DUMP/RESTORE and RDB
// interoperate and PFCOUNT answers what Redis answers: the 16-byte "HYLL" header with the cached
// cardinality, 16384 6-bit registers in the dense form, ZERO/XZERO/VAL opcodes in the sparse form.
// Pure byte work on Buffers; never touches the keyspace or replies.
import { murmurHash64A, murmurHash64AOf64 } from './murmur64a.js';

export const HLL_REGISTERS = 16384;
export const HLL_HDR_SIZE = 16;
const HLL_P = 14;
const HLL_Q = 64 - HLL_P;
const HLL_BITS = 6;
export const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
const HLL_DENSE_SIZE = HLL_HDR_SIZE + Math.floor((HLL_REGISTERS * HLL_BITS + 7) / 8); // 12304
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_SEED = 0xadc83b19;
const HLL_ALPHA_INF = 0.721347520444481703680; // 0.5 / ln(2)
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

export const INVALID_HLL = 'INVALIDOBJ Corrupted HLL object detected';
export const NOT_AN_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

// Sparse opcodes: ZERO 00xxxxxx (1-64 zeros), XZERO 01xxxxxx yyyyyyyy (1-16384 zeros), VAL 1vvvvvxx.
const isZero = (op: number): boolean => (op & 0xc0) === 0;
const isXZero = (op: number): boolean => (op & 0xc0) === 0x40;
const isVal = (op: number): boolean => (op & 0x80) !== 0;
const zeroLen = (op: number): number => (op & 0x3f) + 1;
const valValue = (op: number): number => ((op >> 2) & 0x1f) + 1;
const valLen = (op: number): number => (op & 0x3) + 1;
const valOp = (value: number, len: number): number => (((value - 1) << 2) | (len - 1)) | 0x80;

const hash = new Uint32Array(2);

/** The register index and the 000…1 run length an element hashes to, packed as count·2^14 + index. */
export function hllPatLen(ele: string): number {
  murmurHash64A(ele, HLL_SEED, hash);
  return patLenOfHash();
}

/** hllPatLen of the 8 little-endian bytes of a 64-bit value (PFSELFTEST's elements). */
export function hllPatLenOf64(hi: number, lo: number): number {
  murmurHash64AOf64(hi, lo, HLL_SEED, hash);
  return patLenOfHash();
}

function patLenOfHash(): number {
  const hi = hash[0]!;
  const lo = hash[1]!;
  const index = lo & (HLL_REGISTERS - 1);
  // Bits 14…63 of the hash, with bit 50 forced so the run ends by Q+1.
  const low = lo >>> HLL_P; // 18 bits
  let count: number;
  if (low !== 0) count = ctz32(low) + 1;
  else if (hi !== 0) count = 32 - HLL_P + ctz32(hi) + 1;
  else count = HLL_Q + 1;
  return count * HLL_REGISTERS + index;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Which representation a string value holds, or null when it is not an HLL (isHLLObjectOrReply). */
export function hllEncodingOf(value: string): typeof HLL_DENSE | typeof HLL_SPARSE | null {
  if (value.length < HLL_HDR_SIZE) return null;
  if (value.charCodeAt(0) !== 72 || value.charCodeAt(1) !== 89 || value.charCodeAt(2) !== 76 || value.charCodeAt(3) !== 76) return null; // "HYLL"
  const encoding = value.charCodeAt(4);
  if (encoding > HLL_SPARSE) return null;
  if (encoding === HLL_DENSE && value.length !== HLL_DENSE_SIZE) return null;
  return encoding as 0 | 1;
}

/** The bytes of a new, empty HLL (createHLLObject): sparse, one XZERO:16384. */
export function emptyHllBytes(): string {
  const b = Buffer.alloc(HLL_HDR_SIZE + 2);
  b.write('HYLL', 0, 'latin1');
  b[4] = HLL_SPARSE;
  b[HLL_HDR_SIZE] = 0x40 | ((SPARSE_XZERO_MAX_LEN - 1) >> 8);
  b[HLL_HDR_SIZE + 1] = (SPARSE_XZERO_MAX_LEN - 1) & 0xff;
  return b.latin1Slice(0, b.length);
}

export function denseGet(b: Uint8Array, base: number, regnum: number): number {
  const bit = regnum * HLL_BITS;
  const byte = base + (bit >> 3);
  const fb = bit & 7;
  return ((b[byte]! >> fb) | ((b[byte + 1] ?? 0) << (8 - fb))) & HLL_REGISTER_MAX;
}

export function denseSet(b: Uint8Array, base: number, regnum: number, value: number): void {
  const bit = regnum * HLL_BITS;
  const byte = base + (bit >> 3);
  const fb = bit & 7;
  const fb8 = 8 - fb;
  b[byte] = (b[byte]! & ~(HLL_REGISTER_MAX << fb)) | (value << fb);
  // The last register's spill byte is the spare byte every buffer here keeps past the data.
  b[byte + 1] = (b[byte + 1]! & ~(HLL_REGISTER_MAX >> fb8)) | (value >> fb8);
}

/**
 * True when adding these elements to a dense HLL value would change no register: read straight
 * from the string, so the common PFADD on a big HLL copies nothing.
 */
export function denseAddIsNoop(value: string, elements: readonly string[], from: number): boolean {
  for (let i = from; i < elements.length; i++) {
    const packed = hllPatLen(elements[i]!);
    const bit = (packed & (HLL_REGISTERS - 1)) * HLL_BITS;
    const byte = HLL_HDR_SIZE + (bit >> 3);
    const fb = bit & 7;
    const b1 = byte + 1 < value.length ? value.charCodeAt(byte + 1) : 0;
    const current = ((value.charCodeAt(byte) >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
    if (Math.floor(packed / HLL_REGISTERS) > current) return false;
  }
  return true;
}

/**
 * One HLL value being read or changed: the bytes (with spare room, like an sds string) and its
 * length. `b[len]` is kept 0, as sds keeps its terminator, because Redis's parsers read it.
 */
export class HllBuffer {
  b: Buffer;
  len: number;

  private constructor(b: Buffer, len: number) {
    this.b = b;
    this.len = len;
  }

  static from(value: string): HllBuffer {
    const b = Buffer.alloc(value.length + 8);
    b.latin1Write(value, 0, value.length);
    return new HllBuffer(b, value.length);
  }

  get encoding(): number {
    return this.b[4]!;
  }

  toValue(): string {
    return this.b.latin1Slice(0, this.len);
  }

  /** The cached cardinality, or null when the cache is invalid (MSB of its last byte set). */
  cachedCount(): number | bigint | null {
    if (this.b[HLL_HDR_SIZE - 1]! & 0x80) return null;
    const v = this.b.readBigUInt64LE(8);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  setCachedCount(card: number): void {
    this.b.writeBigUInt64LE(BigInt(card), 8);
  }

  invalidateCache(): void {
    this.b[HLL_HDR_SIZE - 1]! |= 0x80;
  }

  private reserve(extra: number): void {
    if (this.len + extra + 1 <= this.b.length) return;
    const grown = Buffer.alloc(Math.max(this.b.length * 2, this.len + extra + 1));
    this.b.copy(grown, 0, 0, this.len);
    this.b = grown;
  }

  private setLen(len: number): void {
    this.len = len;
    this.b[len] = 0;
  }

  /** Adds one element (hllAdd): 1 when a register grew, 0 when not, -1 when the value is corrupt. */
  add(ele: string, sparseMaxBytes: number): number {
    return this.addHashed(hllPatLen(ele), sparseMaxBytes);
  }

  /** add() for an element already hashed by hllPatLen. */
  addHashed(packed: number, sparseMaxBytes: number): number {
    const index = packed & (HLL_REGISTERS - 1);
    const count = Math.floor(packed / HLL_REGISTERS);
    if (this.encoding === HLL_DENSE) return this.denseSetIfGreater(index, count);
    if (this.encoding === HLL_SPARSE) return this.sparseSet(index, count, sparseMaxBytes);
    return -1;
  }

  denseSetIfGreater(index: number, count: number): number {
    if (count <= denseGet(this.b, HLL_HDR_SIZE, index)) return 0;
    denseSet(this.b, HLL_HDR_SIZE, index, count);
    return 1;
  }

  /** hllSparseToDense: false when the sparse opcodes do not cover exactly 16384 registers. */
  toDense(): boolean {
    if (this.encoding === HLL_DENSE) return true;
    const dense = Buffer.alloc(HLL_DENSE_SIZE + 1);
    this.b.copy(dense, 0, 0, HLL_HDR_SIZE); // magic and the cached cardinality
    dense[4] = HLL_DENSE;
    const b = this.b;
    let idx = 0;
    let p = HLL_HDR_SIZE;
    while (p < this.len) {
      const op = b[p]!;
      if (isZero(op)) {
        idx += zeroLen(op);
        p++;
      } else if (isXZero(op)) {
        idx += (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        p += 2;
      } else {
        let runlen = valLen(op);
        const value = valValue(op);
        if (runlen + idx > HLL_REGISTERS) break;
        while (runlen-- > 0) denseSet(dense, HLL_HDR_SIZE, idx++, value);
        p++;
      }
    }
    if (idx !== HLL_REGISTERS) return false;
    this.b = dense;
    this.len = HLL_DENSE_SIZE;
    return true;
  }

  /**
   * hllSparseSet, step for step (the resulting bytes must be Redis's): raises register `index` to
   * `count` in place, splitting and merging opcodes; promotes to dense for values over 32 or when
   * the value would grow past `sparseMaxBytes`. 1 changed, 0 unchanged, -1 corrupt.
   */
  sparseSet(index: number, count: number, sparseMaxBytes: number): number {
    if (count > SPARSE_VAL_MAX_VALUE) return this.promote(index, count);
    this.reserve(3);
    const b = this.b;
    const sparse = HLL_HDR_SIZE;
    let end = this.len;
    let p = sparse;
    let first = 0;
    let prev = -1;
    let span = 0;
    // Step 1: find the opcode covering `index` (bounded by the value's length).
    while (p < end) {
      const op = b[p]!;
      let oplen = 1;
      if (isZero(op)) span = zeroLen(op);
      else if (isVal(op)) span = valLen(op);
      else {
        span = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span === 0 || p >= end) return -1;
    const op = b[p]!;
    let next = isXZero(op) ? p + 2 : p + 1;
    if (next >= end) next = -1;

    // Step 2: the cases that need no split.
    const zero = isZero(op);
    const xzero = isXZero(op);
    const runlen = zero ? zeroLen(op) : xzero ? (((op & 0x3f) << 8) | b[p + 1]!) + 1 : valLen(op);
    let updated = false;
    if (!zero && !xzero) {
      if (valValue(op) >= count) return 0;
      if (runlen === 1) {
        b[p] = valOp(count, 1);
        updated = true;
      }
    }
    if (!updated && zero && runlen === 1) {
      b[p] = valOp(count, 1);
      updated = true;
    }
    if (!updated) {
      // Step 3: split the opcode into up to three (XZERO-VAL-XZERO is the worst: 5 bytes).
      const seq: number[] = [];
      const last = first + span - 1;
      if (zero || xzero) {
        if (index !== first) pushZeros(seq, index - first);
        seq.push(valOp(count, 1));
        if (index !== last) pushZeros(seq, last - index);
      } else {
        const curval = valValue(op);
        if (index !== first) seq.push(valOp(curval, index - first));
        seq.push(valOp(count, 1));
        if (index !== last) seq.push(valOp(curval, last - index));
      }
      const oldlen = xzero ? 2 : 1;
      const delta = seq.length - oldlen;
      if (delta > 0 && this.len + delta > sparseMaxBytes) return this.promote(index, count);
      if (delta !== 0 && next >= 0) b.copyWithin(next + delta, next, end);
      this.setLen(this.len + delta);
      for (let i = 0; i < seq.length; i++) b[p + i] = seq[i]!;
      end += delta;
    }

    // Step 4: merge adjacent VALs of the same value, looking at up to 5 opcodes from `prev`.
    p = prev >= 0 ? prev : sparse;
    let scanlen = 5;
    while (p < end && scanlen-- !== 0) {
      const cur = b[p]!;
      if (isXZero(cur)) {
        p += 2;
        continue;
      }
      if (isZero(cur)) {
        p++;
        continue;
      }
      if (p + 1 < end && isVal(b[p + 1]!)) {
        const v1 = valValue(cur);
        if (v1 === valValue(b[p + 1]!)) {
          const len = valLen(cur) + valLen(b[p + 1]!);
          if (len <= SPARSE_VAL_MAX_LEN) {
            b[p + 1] = valOp(v1, len);
            b.copyWithin(p, p + 1, end);
            this.setLen(this.len - 1);
            end--;
            continue;
          }
        }
      }
      p++;
    }
    this.invalidateCache();
    return 1;
  }

  private promote(index: number, count: number): number {
    if (!this.toDense()) return -1;
    return this.denseSetIfGreater(index, count);
  }

  /** PFMERGE's write of one register (hllDenseSet / hllSparseSet, their results ignored as Redis does). */
  raise(index: number, count: number, sparseMaxBytes: number): void {
    if (this.encoding === HLL_DENSE) this.denseSetIfGreater(index, count);
    else if (this.encoding === HLL_SPARSE) this.sparseSet(index, count, sparseMaxBytes);
  }

  /** PFDEBUG GETREG after a conversion to dense: every register. */
  registers(): number[] {
    const out = new Array<number>(HLL_REGISTERS);
    for (let i = 0; i < HLL_REGISTERS; i++) out[i] = denseGet(this.b, HLL_HDR_SIZE, i);
    return out;
  }

  /** PFDEBUG DECODE of a sparse value: "z:n", "Z:n", "v:value,len" separated by spaces. */
  decodeSparse(): string {
    const parts: string[] = [];
    const b = this.b;
    for (let p = HLL_HDR_SIZE; p < this.len;) {
      const op = b[p]!;
      if (isZero(op)) {
        parts.push(`z:${zeroLen(op)}`);
        p++;
      } else if (isXZero(op)) {
        parts.push(`Z:${(((op & 0x3f) << 8) | b[p + 1]!) + 1}`);
        p += 2;
      } else {
        parts.push(`v:${valValue(op)},${valLen(op)}`);
        p++;
      }
    }
    return parts.join(' ');
  }

  /** The register histogram (hllDenseRegHisto / hllSparseRegHisto); null when a sparse value is corrupt. */
  histogram(): Int32Array | null {
    const histo = new Int32Array(64);
    const b = this.b;
    if (this.encoding === HLL_DENSE) {
      for (let i = 0; i < HLL_REGISTERS; i++) histo[denseGet(b, HLL_HDR_SIZE, i)]!++;
      return histo;
    }
    let idx = 0;
    for (let p = HLL_HDR_SIZE; p < this.len;) {
      const op = b[p]!;
      if (isZero(op)) {
        const n = zeroLen(op);
        idx += n;
        histo[0]! += n;
        p++;
      } else if (isXZero(op)) {
        const n = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        idx += n;
        histo[0]! += n;
        p += 2;
      } else {
        const n = valLen(op);
        idx += n;
        histo[valValue(op)]! += n;
        p++;
      }
    }
    return idx === HLL_REGISTERS ? histo : null;
  }

  /** hllMerge: max[i] = max(max[i], register i); false when a sparse value is corrupt. */
  mergeInto(max: Uint8Array): boolean {
    const b = this.b;
    if (this.encoding === HLL_DENSE) {
      for (let i = 0; i < HLL_REGISTERS; i++) {
        const v = denseGet(b, HLL_HDR_SIZE, i);
        if (v > max[i]!) max[i] = v;
      }
      return true;
    }
    let i = 0;
    for (let p = HLL_HDR_SIZE; p < this.len;) {
      const op = b[p]!;
      if (isZero(op)) {
        i += zeroLen(op);
        p++;
      } else if (isXZero(op)) {
        i += (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        p += 2;
      } else {
        let runlen = valLen(op);
        const value = valValue(op);
        if (runlen + i > HLL_REGISTERS) break;
        while (runlen-- > 0) {
          if (value > max[i]!) max[i] = value;
          i++;
        }
        p++;
      }
    }
    return i === HLL_REGISTERS;
  }
}

function pushZeros(seq: number[], len: number): void {
  if (len > SPARSE_ZERO_MAX_LEN) {
    seq.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
  } else {
    seq.push(len - 1);
  }
}

/** The histogram of raw 8-bit registers (PFCOUNT over several keys). */
export function rawHistogram(registers: Uint8Array): Int32Array {
  const histo = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[registers[i]!]!++;
  return histo;
}

/** sigma(x) of Ertl's estimator (arXiv:1702.01284), with Redis's loop. */
function hllSigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** tau(x) of Ertl's estimator, with Redis's loop. */
function hllTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y; // C's pow(1 - x, 2), which gcc compiles to this product
  } while (zPrime !== z);
  return z / 3;
}

/** hllCount's estimate from a register histogram (same double operations, same order). */
export function estimateFromHistogram(histo: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * hllTau((m - histo[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += histo[j]!;
    z *= 0.5;
  }
  z += m * hllSigma(histo[0]! / m);
  return Math.round((HLL_ALPHA_INF * m * m) / z); // llroundl of a positive value
}
