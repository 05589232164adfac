// Canonical 64-bit integer strings: exactly what Redis's string2ll accepts (no '+', no leading
// zeros, no "-0", no spaces, at most 20 chars, within int64). Used for intset and int encodings.

/** The signed 64-bit range (Redis's long long), for exact checks of parsed integers. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** True when `s` is a canonical decimal integer in the signed 64-bit range. */
export function isCanonicalInt64(s: string): boolean {
  return parseInt64(s) !== null;
}

/**
 * Parses a canonical int64 string. Returns a number when the value is a safe integer
 * (|v| < 2^53), a bigint otherwise, or null when `s` is not canonical / out of range.
 */
export function parseInt64(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (len === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return len === 1 ? 0 : null; // "0" only; rejects "-0", "01"
  if (first < 49 || first > 57) return null;
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const digits = len - i;
  if (digits <= 15) return Number(s); // < 10^15 < 2^53: exact
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return null;
  const asNumber = Number(big);
  return Number.isSafeInteger(asNumber) ? asNumber : big;
}

/** Compares two canonical integer strings numerically without converting them. */
export function compareCanonicalInts(a: string, b: string): number {
  const aNeg = a.charCodeAt(0) === 45;
  const bNeg = b.charCodeAt(0) === 45;
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  // Same sign: more digits means larger magnitude; equal length compares lexically.
  let magnitude = a.length - b.length;
  if (magnitude === 0) magnitude = a < b ? -1 : a > b ? 1 : 0;
  if (magnitude === 0) return 0; // never -0
  return aNeg ? -magnitude : magnitude;
}
