// How Redis prints geo numbers: coordinates as long doubles with "%.17Lf" and trailing zeros cut
// (addReplyHumanLongDouble), distances with 4 fixed decimals (fixedpoint_d2string), and "%f" in
// the out-of-range error. Exact decimal expansion of the double, ties to even (glibc's rounding).
import type { ReplyWriter } from '../../common/resp/reply-writer.js';

const view = new DataView(new ArrayBuffer(8));

/** A finite double as m·2^e with an integer m (sign in m). */
function decompose(d: number): { m: bigint; e: number } {
  view.setFloat64(0, d);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const exp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074; // subnormal
  else {
    m |= 1n << 52n;
    e = exp - 1075;
  }
  return { m: negative ? -m : m, e };
}

/** The digits of |d| rounded to `digits` decimals, ties to even: the integer |d|·10^digits. */
function scaledDigits(d: number, digits: number): string {
  const { m, e } = decompose(Math.abs(d));
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (e >= 0) q = (m * scale) << BigInt(e);
  else {
    const n = m * scale;
    const den = 1n << BigInt(-e);
    q = n / den;
    const twice = (n - q * den) * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q++;
  }
  return q.toString().padStart(digits + 1, '0');
}

/** printf("%.<digits>f", d) of glibc. */
export function formatFixed(d: number, digits: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  const s = scaledDigits(d, digits);
  const text = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return d < 0 || Object.is(d, -0) ? `-${text}` : text;
}

/** ld2string(LD_STR_HUMAN) of a double: "%.17Lf", trailing zeros and a bare "." cut, "-0" → "0". */
export function formatHuman(d: number): string {
  const s = scaledDigits(d, 17);
  const fraction = s.slice(-17).replace(/0+$/, '');
  const text = s.slice(0, -17) + (fraction.length > 0 ? `.${fraction}` : '');
  return d < 0 && text !== '0' ? `-${text}` : text;
}

/** addReplyHumanLongDouble: a bulk string in RESP2, a RESP3 double with the same text. */
export function replyHuman(w: ReplyWriter, d: number): void {
  const text = formatHuman(d);
  if (w.resp === 3) w.raw(Buffer.from(`,${text}\r\n`, 'latin1'));
  else w.bulk(text);
}

/** llrint: the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** fixedpoint_d2string(d, 4): GEODIST and WITHDIST's "%.4f"-looking text. */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const v = roundHalfEven(d * 10000);
  const digits = String(Math.abs(v)).padStart(5, '0');
  const text = `${digits.slice(0, -4)}.${digits.slice(-4)}`;
  return v < 0 ? `-${text}` : text;
}
