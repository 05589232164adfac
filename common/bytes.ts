// Byte copies on the request and reply paths. Buffer.copy of a sub-range makes a Uint8Array view
// of the source on every call (Node's _copyActual) and crosses into C++: for the short ranges
// these paths copy (a key, a small value, one pipelined request) a loop is cheaper and allocates
// nothing.

/** Below this many bytes copyBytes loops; from here on it calls Buffer.copy. */
const SHORT_COPY = 64;

/** Copies src[from, to) to out[o…]; returns the index in `out` after the copy. */
export function copyBytes(src: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from >= SHORT_COPY) return o + src.copy(out, o, from, to);
  for (let i = from; i < to; i++) out[o++] = src[i]!;
  return o;
}
