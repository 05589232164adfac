// Redis's CRC-64 (Jones polynomial 0xad93d23594c935a9, reflected, init 0, no final xor) used by
// RDB files and DUMP payloads. Works on two 32-bit halves so the hot loop avoids BigInt.

const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);

(function buildTable(): void {
  // Reflected algorithm: shift right and xor with the bit-reversed polynomial.
  const reversedPoly = 0x95ac9329ac4bc9b5n;
  for (let n = 0; n < 256; n++) {
    let crc = BigInt(n);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ reversedPoly : crc >> 1n;
    TABLE_LO[n] = Number(crc & 0xffffffffn);
    TABLE_HI[n] = Number(crc >> 32n);
  }
})();

/** A CRC-64 state as two unsigned 32-bit halves, so checksums can be fed incrementally. */
export interface Crc64State {
  lo: number;
  hi: number;
}

/** Feeds `data[start..end)` into `state` in place and returns it. */
export function crc64Update(state: Crc64State, data: Uint8Array, start = 0, end = data.length): Crc64State {
  let lo = state.lo;
  let hi = state.hi;
  for (let i = start; i < end; i++) {
    const idx = (lo ^ data[i]) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]) >>> 0;
    hi = ((hi >>> 8) ^ TABLE_HI[idx]) >>> 0;
  }
  state.lo = lo;
  state.hi = hi;
  return state;
}

/** crc64(crc, data) as Redis computes it; `crc` chains a previous result. */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  const state = crc64Update({ lo: Number(crc & 0xffffffffn), hi: Number(crc >> 32n) }, data);
  return (BigInt(state.hi) << 32n) | BigInt(state.lo);
}

/** Writes the checksum little-endian (the byte order RDB and DUMP use) at `offset`. */
export function writeCrc64LE(state: Crc64State, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(offset, state.lo, true);
  view.setUint32(offset + 4, state.hi, true);
}
