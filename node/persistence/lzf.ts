// LZF compression exactly as Redis's bundled liblzf 3.6 builds it (HLOG 16, VERY_FAST, offsets
// hash table): the same input gives the same bytes as Redis, so DUMP payloads match.

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/** Reused hash table: position + 1 of the last occurrence of each 3-byte hash (0 = none). */
const htab = new Int32Array(HSIZE);

function hashIndex(h: number): number {
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);
}

/**
 * Compresses `input` into at most `maxOut` bytes. Returns the compressed bytes, or null when the
 * result would not fit (Redis then stores the string uncompressed).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  const inLen = input.length;
  if (inLen === 0 || maxOut <= 0) return null;
  htab.fill(0); // Redis leaves the table uninitialised; a clean table is its common case.
  const out = Buffer.allocUnsafe(maxOut + 1);
  const outEnd = maxOut;
  let ip = 0;
  let op = 1; // start a literal run: its length byte lives at op - lit - 1
  let lit = 0;
  let hval = ((input[0] << 8) | input[1]) >>> 0;

  while (ip < inLen - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const slot = hashIndex(hval);
    const ref = htab[slot] - 1;
    htab[slot] = ip + 1;
    const off = ip - ref - 1;
    if (
      ref > 0 &&
      off < MAX_OFF &&
      off >= 0 &&
      input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inLen - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return null;
      out[op - lit - 1] = lit - 1; // close the literal run
      if (lit === 0) op--; // empty run: reuse its byte
      // liblzf checks 16 bytes unrolled (without the maxlen bound) before the bounded loop.
      let mismatched = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            mismatched = true;
            break;
          }
        }
      }
      if (!mismatched) {
        do len++;
        while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2; // encoded length = matched bytes - 2
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start a new literal run
      ip += len + 1;
      if (ip >= inLen - 2) break;
      // VERY_FAST: hash the two positions before the new ip too.
      ip -= 2;
      hval = ((input[ip] << 8) | input[ip + 1]) >>> 0;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[hashIndex(hval)] = ip + 1;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[hashIndex(hval)] = ip + 1;
      ip++;
    } else {
      if (op >= outEnd) return null;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outEnd) return null;
  while (ip < inLen) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return out.subarray(0, op);
}

/**
 * Decompresses `input` that must expand to exactly `outLen` bytes. Throws on corrupt data
 * (back-reference before the start, overrun, or wrong final size).
 */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const inLen = input.length;
  while (ip < inLen) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1; // literal run
      if (op + run > outLen || ip + run > inLen) throw new Error('lzf: literal run overflows');
      for (let k = 0; k < run; k++) out[op++] = input[ip++];
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= inLen) throw new Error('lzf: truncated back reference');
        len += input[ip++];
      }
      if (ip >= inLen) throw new Error('lzf: truncated back reference');
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++] - 1;
      len += 2;
      if (ref < 0) throw new Error('lzf: back reference before start');
      if (op + len > outLen) throw new Error('lzf: back reference overflows');
      for (let k = 0; k < len; k++) out[op++] = out[ref + k]; // may overlap: byte by byte
    }
  }
  if (op !== outLen) throw new Error('lzf: decompressed length mismatch');
  return out;
}
