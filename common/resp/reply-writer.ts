// Accumulates RESP replies (RESP2, or RESP3 after HELLO 3) into one growing buffer, so a batch of
// pipelined replies leaves in a single socket write. Strings are latin1: one char = one byte.

const INITIAL_BYTES = 16 * 1024;
const SHRINK_ABOVE_BYTES = 1024 * 1024;

export class ReplyWriter {
  /** 2 or 3: the protocol negotiated with HELLO. */
  resp: 2 | 3 = 2;
  /** Error replies written so far (the dispatcher counts failed calls with it). */
  errorCount = 0;
  /** The last error reply written (for INFO errorstats). */
  lastError = '';
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private len = 0;

  get length(): number {
    return this.len;
  }

  /** Bytes allocated for replies (CLIENT LIST rbs). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Copies out everything written so far and starts over. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    if (this.buf.length > SHRINK_ABOVE_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }

  /**
   * The bytes written so far as a view of the writer's own buffer (no copy), and starts over.
   * The caller must hand the view on at once and then call `released(kept)`: kept = true when
   * whoever got it still holds it (a socket that queued it), so the writer moves to a new buffer.
   */
  takeView(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.len = 0;
    return out;
  }

  released(kept: boolean): void {
    if (kept || this.buf.length > SHRINK_ABOVE_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
  }

  /** Drops everything written since `mark` (see `mark()`), e.g. a reply suppressed by CLIENT REPLY. */
  mark(): number {
    return this.len;
  }
  rewind(mark: number): void {
    this.len = mark;
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  private byte(b: number): void {
    this.buf[this.len++] = b;
  }

  private crlf(): void {
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Writes a latin1 string's bytes; short strings are copied in JS to avoid a native call. */
  private text(s: string): void {
    const n = s.length;
    if (n < 48) {
      const buf = this.buf;
      let p = this.len;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.len = p;
    } else {
      this.len += this.buf.latin1Write(s, this.len, n);
    }
  }

  /** Writes a safe integer's decimal digits straight into the buffer (no string made). */
  private integerText(n: number): void {
    if (n >= 0 && n < 10) {
      this.buf[this.len++] = 48 + n;
      return;
    }
    if (!Number.isSafeInteger(n)) {
      // Past 2^53 a double is an integer, but String() rounds its digits (-2^63 prints as
      // -9223372036854776000): print it exactly.
      this.text(Number.isFinite(n) ? BigInt(Math.trunc(n)).toString() : String(n));
      return;
    }
    const buf = this.buf;
    if (n < 0) {
      buf[this.len++] = 0x2d;
      n = -n;
    }
    // At most 16 digits (safe integers): count them, then fill from the right.
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    let p = this.len + digits;
    this.len = p;
    do {
      const q = Math.floor(n / 10);
      buf[--p] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  /** Prefix + decimal integer + CRLF, e.g. "*3\r\n". */
  private header(prefix: number, n: number): void {
    this.ensure(24);
    this.byte(prefix);
    this.integerText(n);
    this.crlf();
  }

  /** +text (must not contain CR/LF). */
  simple(s: string): void {
    this.ensure(s.length + 3);
    this.byte(0x2b);
    this.text(s);
    this.crlf();
  }

  ok(): void {
    this.raw(OK);
  }

  /** -CODE message. The message must start with the error code (ERR, WRONGTYPE…). CR/LF become spaces. */
  error(message: string): void {
    this.errorCount++;
    this.lastError = message;
    const safe = message.includes('\r') || message.includes('\n') ? message.replace(/[\r\n]/g, ' ') : message;
    this.ensure(safe.length + 3);
    this.byte(0x2d);
    this.text(safe);
    this.crlf();
  }

  integer(n: number): void {
    if (n >= 0 && n < SMALL_INTS.length) {
      this.raw(SMALL_INTS[n]!);
      return;
    }
    this.header(0x3a, n);
  }

  /** Integer given as a bigint (64-bit values beyond 2^53). */
  bigInteger(n: bigint): void {
    const s = n.toString();
    this.ensure(s.length + 3);
    this.byte(0x3a);
    this.text(s);
    this.crlf();
  }

  bulk(s: string): void {
    const n = s.length;
    this.ensure(n + 24);
    this.byte(0x24);
    this.integerText(n);
    this.crlf();
    this.text(s);
    this.crlf();
  }

  bulkBuffer(b: Uint8Array): void {
    this.ensure(b.length + 24);
    this.byte(0x24);
    this.integerText(b.length);
    this.crlf();
    this.buf.set(b, this.len);
    this.len += b.length;
    this.crlf();
  }

  /** A bulk string or a null for a missing value. */
  bulkOrNull(s: string | undefined | null): void {
    if (s === undefined || s === null) this.null();
    else this.bulk(s);
  }

  /** Null bulk in RESP2 ($-1), null in RESP3 (_). */
  null(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL_BULK);
  }

  /** Null array in RESP2 (*-1), null in RESP3 (_). */
  nullArray(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL_ARRAY);
  }

  array(n: number): void {
    if (n === 0) this.raw(EMPTY_ARRAY);
    else this.header(0x2a, n);
  }

  /** A map of n pairs: RESP3 %n, RESP2 a flat array of 2n. */
  map(n: number): void {
    if (this.resp === 3) this.header(0x25, n);
    else this.array(n * 2);
  }

  /** A set of n members: RESP3 ~n, RESP2 an array. */
  set(n: number): void {
    if (this.resp === 3) this.header(0x7e, n);
    else this.array(n);
  }

  /** An out-of-band push (pub/sub messages): RESP3 >n, RESP2 an array. */
  push(n: number): void {
    if (this.resp === 3) this.header(0x3e, n);
    else this.array(n);
  }

  /** A double: RESP3 ",d", RESP2 a bulk string formatted like Redis (%.17g, inf/-inf). */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) {
      this.ensure(s.length + 3);
      this.byte(0x2c);
      this.text(s);
      this.crlf();
    } else {
      this.bulk(s);
    }
  }

  /** A big number given as its digits: RESP3 "(digits", RESP2 a bulk string. */
  bigNumber(digits: string): void {
    if (this.resp !== 3) return this.bulk(digits);
    this.ensure(digits.length + 3);
    this.byte(0x28);
    this.text(digits);
    this.crlf();
  }

  /** A boolean: RESP3 #t/#f, RESP2 :1/:0. */
  boolean(b: boolean): void {
    if (this.resp === 3) this.raw(b ? TRUE3 : FALSE3);
    else this.integer(b ? 1 : 0);
  }

  /**
   * Long text such as INFO: RESP3 verbatim with its 3-character format ("txt", "mkd"), RESP2 a
   * bulk string.
   */
  verbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) {
      this.ensure(s.length + 32);
      this.byte(0x3d);
      this.integerText(s.length + 4);
      this.crlf();
      this.text(format);
      this.byte(0x3a);
      this.text(s);
      this.crlf();
    } else {
      this.bulk(s);
    }
  }

  /** Bytes that are already valid RESP. */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Convenience: an array of bulk strings. */
  bulkArray(items: readonly string[]): void {
    this.array(items.length);
    for (const s of items) this.bulk(s);
  }
}

/** Formats a double the way Redis replies with it: integers without exponent, else %.17g, inf/-inf. */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return Object.is(d, -0) ? '-0' : String(d);
  return formatG17(d);
}

/** C's printf("%.17g", d). */
export function formatG17(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(d)));
  let s: string;
  // %g uses exponent form when exp < -4 or exp >= precision.
  let e = Number(d.toExponential(16).split('e')[1]);
  if (Number.isNaN(e)) e = exp;
  if (e < -4 || e >= 17) {
    const [mant, ex] = d.toExponential(16).split('e') as [string, string];
    const m = trimZeros(mant);
    const en = Number(ex);
    s = `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  } else {
    s = trimZeros(d.toFixed(Math.max(0, 16 - e)));
  }
  return s;
}

function trimZeros(s: string): string {
  if (!s.includes('.')) return s;
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

const OK = Buffer.from('+OK\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');
const TRUE3 = Buffer.from('#t\r\n');
const FALSE3 = Buffer.from('#f\r\n');
const SMALL_INTS = Array.from({ length: 1024 }, (_, i) => Buffer.from(`:${i}\r\n`));
