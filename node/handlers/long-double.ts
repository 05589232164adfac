// Redis's INCRBYFLOAT/HINCRBYFLOAT arithmetic: x87 80-bit long doubles printed with "%.17Lf" and
// trailing zeros cut. Doubles would show 5005.6 where Redis shows 5005.60000000000000009, so the
// sum is computed exactly as long doubles are: value = m·2^e with a 64-bit significand, rounded
// half-to-even.
import { parseFloatStrict } from './handler.js';


export interface LongDouble {
  /** Signed significand, |m| < 2^64. */
  m: bigint;
  e: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Beyond ~1.19e4932 a long double is infinite; far below its smallest subnormal it is zero. */
const LD_MAX_DECIMAL_EXP = 4933;
const LD_MIN_DECIMAL_EXP = -4960;
const LD_MAX_BINARY_EXP = 16384;
const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;
const FRACTION_DIGITS = 17;
const FRACTION_SCALE = 10n ** 17n;

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/** Rounds (num/den)·2^exp2 to the nearest long double (num may be negative, den > 0). */
function roundToLongDouble(num: bigint, den: bigint, exp2: number): LongDouble {
  if (num === 0n) return { m: 0n, e: 0 };
  const negative = num < 0n;
  const a = negative ? -num : num;
  let shift = 63 - bitLength(a) + bitLength(den);
  let n = 0n;
  let d = 0n;
  let q = 0n;
  for (;;) {
    n = shift >= 0 ? a << BigInt(shift) : a;
    d = shift >= 0 ? den : den << BigInt(-shift);
    q = n / d;
    if (q >= TWO_64) shift--;
    else if (q < TWO_63) shift++;
    else break;
  }
  const twiceRest = (n - q * d) * 2n;
  if (twiceRest > d || (twiceRest === d && (q & 1n) === 1n)) q++;
  if (q === TWO_64) {
    q = TWO_63;
    shift--;
  }
  return { m: negative ? -q : q, e: exp2 - shift };
}

/** strtold of a finite decimal text; null when it is not one (junk, inf) or overflows. */
export function parseLongDouble(text: string): LongDouble | null {
  if (parseFloatStrict(text) === null) return null;
  const parts = DECIMAL_RE.exec(text);
  if (parts === null) return null;
  const [, sign, intDigits = '', fracDigits = '', expText = '0'] = parts;
  const digits = (intDigits + fracDigits).replace(/^0+/, '');
  if (digits.length === 0) return { m: 0n, e: 0 };
  const exp10 = Number(expText) - fracDigits.length;
  if (exp10 + digits.length > LD_MAX_DECIMAL_EXP) return null;
  if (exp10 + digits.length < LD_MIN_DECIMAL_EXP) return { m: 0n, e: 0 };
  const mantissa = BigInt(sign === '-' ? `-${digits}` : digits);
  return exp10 >= 0 ? roundToLongDouble(mantissa * 10n ** BigInt(exp10), 1n, 0) : roundToLongDouble(mantissa, 10n ** BigInt(-exp10), 0);
}

export function addLongDouble(x: LongDouble, y: LongDouble): LongDouble {
  const e = Math.min(x.e, y.e);
  return roundToLongDouble((x.m << BigInt(x.e - e)) + (y.m << BigInt(y.e - e)), 1n, e);
}

export function isInfiniteLongDouble(x: LongDouble): boolean {
  return x.m !== 0n && x.e + 64 > LD_MAX_BINARY_EXP;
}

/** ld2string(LD_STR_HUMAN): "%.17Lf" (exact, half-to-even), trailing zeros and "." cut, "-0" → "0". */
export function formatLongDoubleHuman(x: LongDouble): string {
  const negative = x.m < 0n;
  const m = negative ? -x.m : x.m;
  let q: bigint;
  if (x.e >= 0) q = (m * FRACTION_SCALE) << BigInt(x.e);
  else {
    const n = m * FRACTION_SCALE;
    const d = 1n << BigInt(-x.e);
    q = n / d;
    const twiceRest = (n - q * d) * 2n;
    if (twiceRest > d || (twiceRest === d && (q & 1n) === 1n)) q++;
  }
  const digits = q.toString().padStart(FRACTION_DIGITS + 1, '0');
  const fraction = digits.slice(-FRACTION_DIGITS).replace(/0+$/, '');
  const text = digits.slice(0, -FRACTION_DIGITS) + (fraction.length > 0 ? `.${fraction}` : '');
  return negative && text !== '0' ? `-${text}` : text;
}
