// Incremental decoder of client requests (RESP multibulk and inline), resuming mid-frame across reads.
// Yields each command as an array of latin1 strings (one char per byte: binary-safe). Never writes.
// Bounded work per byte: received chunks are queued, never re-joined, and a line being searched
// for its end is never scanned twice; each byte is copied at most once before it becomes a string.
import { constants } from 'node:buffer';

export class ProtocolError extends Error {
  /** True (the default): the stream is unusable, reply and close. False: reply and go on. */
  readonly fatal: boolean = true;
  constructor(reason: string) {
    super(`Protocol error: ${reason}`);
  }
}

/**
 * A well-formed request with an argument longer than a JS string can hold. Its bytes were
 * skipped (never held), so the stream stays in sync: the caller answers this error and goes on.
 */
export class ArgumentTooLongError extends ProtocolError {
  override readonly fatal = false;
  constructor(readonly bytes: number) {
    super('');
    this.message = `argument of ${bytes} bytes is longer than the ${MAX_ARG_BYTES} bytes this server can hold in one argument`;
  }
}

export interface DecoderLimits {
  /** proto-max-bulk-len: the longest bulk argument accepted, in bytes. */
  maxBulkBytes: number;
  /** Longest inline request or length line, in bytes (Redis: PROTO_INLINE_MAX_SIZE). */
  maxInlineBytes: number;
}

export const DEFAULT_LIMITS: DecoderLimits = { maxBulkBytes: 512 * 1024 * 1024, maxInlineBytes: 64 * 1024 };

/** The longest argument this decoder can return: V8's longest string (0x1fffffe8 on 64-bit). */
export const MAX_ARG_BYTES = constants.MAX_STRING_LENGTH;

// Redis accepts at most INT_MAX arguments in a multibulk.
const MAX_MULTIBULK = 2147483647;
// Unauthenticated clients may only send tiny requests (Redis: 10 args, 16 KB bulks).
const UNAUTH_MAX_MULTIBULK = 10;
const UNAUTH_MAX_BULK = 16384;
// Consumed slots at the front of the chunk queue are dropped once there are this many.
const COMPACT_AFTER_CHUNKS = 1024;
// A drained chunk queue keeps room for this many chunks (more came only with a huge frame).
const KEEP_CHUNK_SLOTS = 64;
// Arguments this big are held as Buffers until their command is complete (see heldBig).
const BIG_ARG = 32 * 1024;
// A length line longer than this cannot hold a valid integer (string2ll reads at most 20 chars).
const MAX_NUMBER_LINE = 21;

// Multibulks of up to this many arguments get their array sized from the header.
const PRESIZE_MAX_ARGS = 1024;
// A placeholder between commands (never written: every multibulk gets its own array).
const NO_ARGS: string[] = [];
// Names longer than this are not cached (every command name in the table is shorter).
const NAME_MAX_BYTES = 24;
const NAME_CACHE_SLOTS = 256;

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

export class RequestDecoder {
  limits: DecoderLimits;
  /** Set while the client has not authenticated: tight limits apply, as in Redis. */
  unauthenticated = false;
  /**
   * When set (the proxy), `lastRaw` holds the exact bytes of the last command returned by next(),
   * so it can be forwarded without re-encoding; null when the frame spanned several reads.
   */
  keepRaw = false;
  lastRaw: Buffer | null = null;
  /** Bytes of the arguments of the last command returned by next() (an inline one: its line). */
  lastCommandBytes = 0;

  // Unconsumed input: chunks[head..tail) in arrival order, chunks[head] consumed up to `pos`.
  // Invariant: when avail > 0, pos < chunks[head].length. Slots from `tail` on hold EMPTY: the
  // array keeps its room when drained (emptying it by length = 0 cost a new backing store per read).
  private chunks: Buffer[] = [];
  private tail = 0;
  private head = 0;
  private pos = 0;
  private avail = 0;
  // Where the search for the current line's end stopped (chunk index, offset, distance from the
  // current position), so more input resumes it instead of scanning again. scanChunk -1 = no
  // search since the last consume.
  private scanChunk = -1;
  private scanOff = 0;
  private scanDist = 0;

  private argsLeft = 0; // arguments still expected in the current multibulk; 0 = between commands
  private args: string[] = NO_ARGS;
  private argCount = 0; // arguments of the current multibulk stored in `args`
  // Command names recur: the same string is handed out again, its hash already computed.
  private readonly names = NAMES;
  // Big arguments of a command still being received are held as Buffers (off the JS heap, so V8
  // counts them as external memory and collects them soon after their client is gone), and become
  // strings only once the command is complete. Their indexes in `args`, whose slots hold ''.
  private heldBig: Array<[index: number, bytes: Buffer]> = [];
  private argBytes = 0; // bytes of the arguments in `args`
  private bulkLen = -1; // length of the bulk whose header was read, -1 = expecting a '$' header
  private discard = 0; // bytes of an oversized argument (plus CRLF) still to skip
  private oversized = 0; // length of the oversized argument of the current command, 0 = none
  // The chunk and offset where the current frame began, and its bytes consumed so far (keepRaw).
  private frameBuf: Buffer = EMPTY;
  private frameOff = 0;
  private frameBytes = 0;

  constructor(limits: DecoderLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Bytes received but not yet consumed as complete commands or parsed arguments. */
  get pendingBytes(): number {
    return this.avail;
  }

  /** Bytes of the arguments of the command being received, already parsed (Redis's argv-mem). */
  get parsedArgBytes(): number {
    return this.argBytes;
  }

  /** True between requests with nothing held: the next byte read starts a new request (the proxy's fast path). */
  get idle(): boolean {
    return this.avail === 0 && this.argsLeft === 0;
  }

  /** Everything this decoder holds for its client: unparsed bytes plus parsed arguments. */
  get heldBytes(): number {
    return this.avail + this.argBytes;
  }

  /** Hands a chunk read from the socket to the decoder (O(1)). The chunk must not be reused by the caller. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks[this.tail++] = chunk;
    this.avail += chunk.length;
  }

  /**
   * Returns the next complete command, or null when more bytes are needed.
   * Throws ProtocolError on a malformed request: when `fatal`, the connection must then be closed;
   * otherwise (ArgumentTooLongError) the request was skipped whole and decoding can go on.
   */
  next(): string[] | null {
    for (;;) {
      if (this.argsLeft === 0) {
        if (this.avail === 0) return null;
        this.frameBuf = this.chunks[this.head]!;
        this.frameOff = this.pos;
        this.frameBytes = 0;
        if (this.frameBuf[this.pos] !== 0x2a /* * */) {
          const inline = this.nextInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          // Inline requests are re-encoded as multibulk before forwarding.
          this.lastRaw = null;
          return inline;
        }
        const count = this.countHere() ?? this.numberLine('too big mbulk count string');
        if (count === undefined) return null;
        if (count === null || count > MAX_MULTIBULK) throw new ProtocolError('invalid multibulk length');
        if (this.unauthenticated && count > UNAUTH_MAX_MULTIBULK) throw new ProtocolError('unauthenticated multibulk length');
        if (count <= 0) continue; // "*0" and "*-1" are empty requests, skipped like Redis does
        this.argsLeft = count;
        // Sized once: growing an empty array by push allocates room for 16 more (~150 bytes).
        // Huge counts start empty and grow, so a lying header reserves nothing.
        this.args = count <= PRESIZE_MAX_ARGS ? new Array<string>(count) : [];
        this.argCount = 0;
      }
      while (this.argsLeft > 0) {
        if (this.discard > 0) {
          if (this.avail === 0) return null;
          const n = Math.min(this.discard, this.avail);
          this.advance(n);
          this.discard -= n;
          if (this.discard > 0) return null;
          this.argsLeft--;
          continue;
        }
        if (this.bulkLen < 0) {
          if (this.avail === 0) return null;
          if (this.wholeBulkHere()) continue;
          // Like Redis, the '$' is checked only once the whole length line has arrived.
          const first = this.chunks[this.head]![this.pos]!;
          const len = this.numberLine('too big bulk count string', first);
          if (len === undefined) return null;
          if (len === null || len < 0 || len > this.limits.maxBulkBytes) throw new ProtocolError('invalid bulk length');
          if (this.unauthenticated && len > UNAUTH_MAX_BULK) throw new ProtocolError('unauthenticated bulk length');
          if (len > MAX_ARG_BYTES) {
            // Skipped as it arrives, never held: the command is refused once it is complete.
            this.oversized = len;
            this.discard = len + 2;
            continue;
          }
          this.bulkLen = len;
        }
        const len = this.bulkLen;
        if (this.avail < len + 2) return null;
        if (len >= BIG_ARG && this.argsLeft > 1) {
          this.heldBig.push([this.argCount, this.peekBuffer(len)]);
          this.args[this.argCount++] = '';
        } else {
          const i = this.argCount++;
          this.args[i] = i === 0 ? this.peekName(len) : this.peekString(len);
        }
        this.argBytes += len;
        this.advance(len + 2); // Redis skips the trailing CRLF without checking it
        this.bulkLen = -1;
        this.argsLeft--;
      }
      const args = this.args;
      // Left as is for the next multibulk to replace (an inline request never reads it).
      this.args = NO_ARGS;
      this.lastCommandBytes = this.argBytes;
      this.argBytes = 0;
      const held = this.heldBig;
      if (held.length > 0) this.heldBig = [];
      if (this.oversized > 0) {
        const bytes = this.oversized;
        this.oversized = 0;
        this.lastRaw = null;
        throw new ArgumentTooLongError(bytes);
      }
      for (const [i, bytes] of held) args[i] = bytes.latin1Slice(0, bytes.length);
      if (this.keepRaw) {
        const end = this.frameOff + this.frameBytes;
        this.lastRaw = end <= this.frameBuf.length ? this.frameBuf.subarray(this.frameOff, end) : null;
      }
      return args;
    }
  }

  /**
   * The hot path: a valid "$<n>\r\n<n bytes>\r\n" lying whole inside the current chunk is taken
   * in one step. Returns false, consuming nothing, for anything else (the general path decides).
   */
  private wholeBulkHere(): boolean {
    const c = this.chunks[this.head]!;
    const p = this.pos;
    if (c[p] !== 0x24 /* $ */) return false;
    const len = smallNumber(c, p + 1);
    const cr = numberEnd;
    if (len < 0 || len > this.limits.maxBulkBytes || len > MAX_ARG_BYTES) return false;
    if (this.unauthenticated && len > UNAUTH_MAX_BULK) return false;
    const end = cr + 2 + len;
    if (end + 2 >= c.length) return false; // the chunk must go on after it (keeps pos inside)
    if (len >= BIG_ARG && this.argsLeft > 1) return false;
    const i = this.argCount++;
    this.args[i] = i === 0 ? this.names.get(c, cr + 2, end) : c.latin1Slice(cr + 2, end);
    this.argBytes += len;
    const n = end + 2 - p;
    this.avail -= n;
    this.frameBytes += n;
    this.pos = end + 2;
    this.scanChunk = -1;
    this.argsLeft--;
    return true;
  }

  /**
   * The hot path of a "*<n>\r\n" header lying whole in the current chunk with a plain count:
   * consumed, its count returned; undefined, consuming nothing, for anything else.
   */
  private countHere(): number | undefined {
    const c = this.chunks[this.head]!;
    const p = this.pos;
    const n = smallNumber(c, p + 1);
    if (n < 0 || numberEnd + 1 >= c.length) return undefined;
    this.advance(numberEnd + 2 - p);
    return n;
  }

  /**
   * Reads a "*<n>\r\n" or "$<n>\r\n" line at the current position and consumes it. Returns its
   * integer, null when malformed, undefined when the line is not complete yet. Throws `tooBig`
   * when no CR came within the inline limit. `dollar` is the first byte, checked for '$' only
   * once the line is complete (as Redis does); omitted for '*' lines (already checked).
   */
  private numberLine(tooBig: string, dollar?: number): number | null | undefined {
    // Redis ends the line at the first CR, provided one more byte (the LF, not checked) follows.
    const d = this.find(CR);
    if (d < 0) {
      if (this.avail > this.limits.maxInlineBytes) throw new ProtocolError(tooBig);
      return undefined;
    }
    if (d + 1 >= this.avail) return undefined;
    if (dollar !== undefined && dollar !== 0x24 /* $ */) {
      throw new ProtocolError(`expected '$', got '${String.fromCharCode(dollar)}'`);
    }
    let n: number | null = null;
    if (d <= MAX_NUMBER_LINE) {
      const c = this.chunks[this.head]!;
      if (this.pos + d <= c.length) n = parseInteger(c, this.pos + 1, this.pos + d);
      else {
        const line = this.copyOut(d);
        n = parseInteger(line, 1, d);
      }
    }
    this.advance(d + 2);
    return n;
  }

  /**
   * Distance from the current position to the first `byte`, or -1 when none has arrived yet.
   * Resumes where the previous search stopped (the caller searches one byte kind per position).
   */
  private find(byte: number): number {
    const chunks = this.chunks;
    let ci = this.scanChunk;
    let off = this.scanOff;
    let dist = this.scanDist;
    if (ci < 0) {
      // A fresh search from the current position; most lines end in the current chunk.
      const c = chunks[this.head]!;
      const i = c.indexOf(byte, this.pos);
      if (i >= 0) {
        this.scanChunk = this.head;
        this.scanOff = i;
        return (this.scanDist = i - this.pos);
      }
      ci = this.head + 1;
      off = 0;
      dist = c.length - this.pos;
    }
    while (ci < this.tail) {
      const c = chunks[ci]!;
      const i = c.indexOf(byte, off);
      if (i >= 0) {
        this.scanChunk = ci;
        this.scanOff = i;
        this.scanDist = dist + (i - off);
        return this.scanDist;
      }
      dist += c.length - off;
      ci++;
      off = 0;
    }
    this.scanChunk = ci;
    this.scanOff = 0;
    this.scanDist = dist;
    return -1;
  }

  /** Consumes `n` bytes (n <= avail). */
  private advance(n: number): void {
    if (n === 0) return;
    this.avail -= n;
    this.frameBytes += n;
    this.scanChunk = -1;
    const chunks = this.chunks;
    let pos = this.pos + n;
    // Common case: still inside the current chunk.
    if (pos < chunks[this.head]!.length) {
      this.pos = pos;
      return;
    }
    while (this.head < this.tail && pos >= chunks[this.head]!.length) {
      pos -= chunks[this.head]!.length;
      chunks[this.head] = EMPTY; // let consumed chunks go at once
      this.head++;
    }
    this.pos = pos;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      if (chunks.length > KEEP_CHUNK_SLOTS) this.chunks = [];
    } else if (this.head >= COMPACT_AFTER_CHUNKS) {
      chunks.copyWithin(0, this.head, this.tail);
      chunks.fill(EMPTY, this.tail - this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
  }

  /** Copies the next `n` bytes (n <= avail) into one buffer without consuming them. */
  private copyOut(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let ci = this.head;
    let off = this.pos;
    while (filled < n) {
      const c = this.chunks[ci]!;
      const take = Math.min(c.length - off, n - filled);
      c.copy(out, filled, off, off + take);
      filled += take;
      ci++;
      off = 0;
    }
    return out;
  }

  /** The next `n` bytes (n <= avail): a view of the current chunk, or one copy when they span chunks. */
  private peekBuffer(n: number): Buffer {
    const c = this.chunks[this.head]!;
    return this.pos + n <= c.length ? c.subarray(this.pos, this.pos + n) : this.copyOut(n);
  }

  /** Like peekString for a command name: a recurring short name comes from the cache. */
  private peekName(n: number): string {
    const c = this.chunks[this.head]!;
    return this.pos + n <= c.length ? this.names.get(c, this.pos, this.pos + n) : this.copyOut(n).latin1Slice(0, n);
  }

  /** The next `n` bytes (n <= avail) as a latin1 string, not consumed (one copy more only when they span chunks). */
  private peekString(n: number): string {
    const c = this.chunks[this.head]!;
    return this.pos + n <= c.length ? c.latin1Slice(this.pos, this.pos + n) : this.copyOut(n).latin1Slice(0, n);
  }

  private nextInline(): string[] | null {
    const nl = this.find(LF);
    if (nl < 0) {
      if (this.avail > this.limits.maxInlineBytes) throw new ProtocolError('too big inline request');
      return null;
    }
    const c = this.chunks[this.head]!;
    const lineBuf = this.pos + nl <= c.length ? c : this.copyOut(nl);
    const from = lineBuf === c ? this.pos : 0;
    let end = from + nl;
    if (end > from && lineBuf[end - 1] === CR) end--;
    const line = lineBuf.latin1Slice(from, end);
    this.advance(nl + 1);
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('unbalanced quotes in request');
    this.lastCommandBytes = line.length;
    return args;
  }
}

/**
 * A small direct-mapped cache of the first arguments seen (command names: "GET", "set" …), so a
 * pipelined stream of the same commands allocates no string for them. A slot holds the last name
 * that hashed to it; a hit is checked byte by byte, so a wrong string is never returned.
 */
class NameCache {
  private readonly slots: string[] = new Array<string>(NAME_CACHE_SLOTS).fill('');

  get(buf: Uint8Array, start: number, end: number): string {
    const n = end - start;
    if (n === 0 || n > NAME_MAX_BYTES) return latin1(buf, start, end);
    // Length and the first, second and last bytes, case-folded: enough to spread the table's names.
    const h = (n * 31 + (buf[start]! | 0x20) * 7 + (buf[start + (n > 1 ? 1 : 0)]! | 0x20) * 3 + (buf[end - 1]! | 0x20)) & (NAME_CACHE_SLOTS - 1);
    const cached = this.slots[h]!;
    if (cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return cached;
    }
    const s = latin1(buf, start, end);
    this.slots[h] = s;
    return s;
  }
}

/** One cache for every decoder of the process (strings are immutable; 2 KB, not 2 KB a client). */
const NAMES = new NameCache();

function latin1(buf: Uint8Array, start: number, end: number): string {
  return (buf as Buffer).latin1Slice(start, end);
}

// Where smallNumber's digits ended (the CR); a module field so the hot path returns one number.
let numberEnd = 0;
// smallNumber reads at most this many digits (no overflow to think of).
const SMALL_NUMBER_DIGITS = 9;

/**
 * The non-negative decimal of 1-9 digits at buf[start] ending in a CR (at `numberEnd`), read in
 * JS (Buffer.indexOf is a native call per line); -1 when the line is anything else: a sign, a
 * leading zero, more digits, no CR yet. Callers then take the general path.
 */
function smallNumber(buf: Uint8Array, start: number): number {
  const limit = Math.min(buf.length, start + SMALL_NUMBER_DIGITS + 1);
  let n = 0;
  let i = start;
  for (; i < limit; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === start || i === limit || buf[i] !== CR) return -1;
  if (buf[start] === 0x30 && i - start > 1) return -1;
  numberEnd = i;
  return n;
}

/** Parses a signed decimal integer in buf[start, end) the way Redis's string2ll does; null if malformed. */
export function parseInteger(buf: Uint8Array, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d /* - */) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 0x30 /* 0 */) return end - i === 1 && !negative ? 0 : null;
  const digits = end - i;
  if (digits > 19) return null;
  let n = 0;
  for (let j = i; j < end; j++) {
    const d = buf[j]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  // Out of the int64 range string2ll accepts (a double cannot tell 2^63-1 from 2^63: compare digits).
  if (digits === 19 && beyondInt64(buf, i, negative)) return null;
  return negative ? -n : n;
}

const INT64_MAX_DIGITS = '9223372036854775807';
const INT64_MIN_DIGITS = '9223372036854775808';

function beyondInt64(buf: Uint8Array, first: number, negative: boolean): boolean {
  const limit = negative ? INT64_MIN_DIGITS : INT64_MAX_DIGITS;
  for (let k = 0; k < 19; k++) {
    const d = buf[first + k]!;
    const l = limit.charCodeAt(k);
    if (d !== l) return d > l;
  }
  return false;
}

const HEX = '0123456789abcdefABCDEF';

/**
 * Splits an inline request like Redis's sdssplitargs: spaces separate arguments, "double quotes"
 * understand \n \r \t \b \a \\ \" and \xHH, 'single quotes' only \'. Returns null on unbalanced quotes.
 */
export function splitInlineArgs(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return args;
    let current = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const ch = line[i];
      if (inDouble) {
        if (ch === undefined) return null;
        if (ch === '\\' && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          current += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (ch === '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          inDouble = false;
          i++;
          break;
        } else {
          current += ch;
        }
      } else if (inSingle) {
        if (ch === undefined) return null;
        if (ch === '\\' && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (ch === "'") {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          inSingle = false;
          i++;
          break;
        } else {
          current += ch;
        }
      } else {
        // Outside quotes only space, \t, \r, \n end a token (sdssplitargs keeps \v and \f).
        if (ch === undefined || ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') break;
        if (ch === '"') inDouble = true;
        else if (ch === "'") inSingle = true;
        else current += ch;
      }
      i++;
    }
    args.push(current);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && HEX.includes(ch);
}
