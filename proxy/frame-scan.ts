// The one RESP length-line reader of the proxy's fast paths (proxy/fast-request.ts,
// proxy/fast-multikey.ts): strict, bounded, and allocation-free, so what it refuses the general
// decoder decides.

/** Longest length line read here: "$" + 10 digits (bulks up to 2^31, far above one read). */
const MAX_LEN_DIGITS = 10;
const CR = 13;
const LF = 10;

/** The CR's index of the last line lengthLine() accepted (read right after the call). */
export let lineEnd = 0;

/**
 * Reads "<digits>\r\n" at buf[pos] (canonical decimal: no sign, no leading zero) up to `end`;
 * returns the number and leaves the CR's index in `lineEnd`, or -1 for anything else.
 */
export function lengthLine(buf: Uint8Array, pos: number, end: number): number {
  let n = 0;
  let i = pos;
  const stop = Math.min(end, pos + MAX_LEN_DIGITS + 1);
  for (; i < stop; i++) {
    const c = buf[i]!;
    if (c === CR) break;
    const d = c - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  const digits = i - pos;
  if (i >= stop || digits === 0 || (digits > 1 && buf[pos] === 0x30)) return -1;
  if (i + 1 >= end || buf[i + 1] !== LF) return -1;
  lineEnd = i;
  return n;
}
