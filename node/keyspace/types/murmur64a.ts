// MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit), as Redis's hyperloglog.c uses it: bytes
// read little-endian whatever the host. 64-bit words are two unsigned 32-bit halves held in a
// Uint32Array (plain numbers above 2^31 would be boxed on every store, costing 20x).

// m = 0xc6a4a7935bd1e995 in 16-bit limbs, lowest first.
const M00 = 0xe995;
const M16 = 0x5bd1;
const M32 = 0xa793;
const M48 = 0xc6a4;

/** r = (r[0] = hi, r[1] = lo) · m mod 2^64, with 16-bit limbs so every product is exact. */
function mulM(r: Uint32Array): void {
  const hi = r[0]!;
  const lo = r[1]!;
  const a48 = hi >>> 16;
  const a32 = hi & 0xffff;
  const a16 = lo >>> 16;
  const a00 = lo & 0xffff;
  let c00 = a00 * M00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * M00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * M16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * M00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * M16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * M32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * M00 + a32 * M16 + a16 * M32 + a00 * M48; // exact below 2^53; only 16 bits kept
  c48 &= 0xffff;
  r[0] = (c48 << 16) | c32;
  r[1] = (c16 << 16) | c00;
}

const k = new Uint32Array(2);

/**
 * MurmurHash64A of a latin1 string's bytes with a 32-bit seed, written into `out` as
 * [hi, lo] (out is reused by callers on hot paths).
 */
export function murmurHash64A(data: string, seed: number, out: Uint32Array): void {
  const len = data.length;
  // h = seed ^ (len · m); len < 2^32.
  out[0] = 0;
  out[1] = len;
  mulM(out);
  out[1] ^= seed;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    k[1] = data.charCodeAt(i) | (data.charCodeAt(i + 1) << 8) | (data.charCodeAt(i + 2) << 16) | (data.charCodeAt(i + 3) << 24);
    k[0] = data.charCodeAt(i + 4) | (data.charCodeAt(i + 5) << 8) | (data.charCodeAt(i + 6) << 16) | (data.charCodeAt(i + 7) << 24);
    mulM(k);
    k[1] ^= k[0]! >>> 15; // k ^= k >> 47
    mulM(k);
    out[0] ^= k[0]!;
    out[1] ^= k[1]!;
    mulM(out);
  }
  const rest = len & 7;
  if (rest > 0) {
    let lo = 0;
    let hi = 0;
    for (let j = rest - 1; j >= 0; j--) {
      const byte = data.charCodeAt(blocks + j);
      if (j >= 4) hi |= byte << (8 * (j - 4));
      else lo |= byte << (8 * j);
    }
    out[0] ^= hi;
    out[1] ^= lo;
    mulM(out);
  }
  out[1] ^= out[0]! >>> 15; // h ^= h >> 47
  mulM(out);
  out[1] ^= out[0]! >>> 15;
}

/** murmurHash64A of the 8 little-endian bytes of the 64-bit value hi·2^32 + lo (no string needed). */
export function murmurHash64AOf64(hi: number, lo: number, seed: number, out: Uint32Array): void {
  out[0] = 0;
  out[1] = 8;
  mulM(out);
  out[1] ^= seed;
  k[0] = hi;
  k[1] = lo;
  mulM(k);
  k[1] ^= k[0]! >>> 15;
  mulM(k);
  out[0] ^= k[0]!;
  out[1] ^= k[1]!;
  mulM(out);
  out[1] ^= out[0]! >>> 15;
  mulM(out);
  out[1] ^= out[0]! >>> 15;
}
