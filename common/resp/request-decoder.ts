// Incremental decoder of client requests (RESP multibulk and inline), resuming mid-frame across reads.
// Yields each command as an array of latin1 strings (one char per byte: binary-safe). Never writes.

export class ProtocolError extends Error {
  constructor(reason: string) {
    super(`Protocol error: ${reason}`);
  }
}

export interface DecoderLimits {
  /** proto-max-bulk-len: the longest bulk argument accepted, in bytes. */
  maxBulkBytes: number;
  /** Longest inline request or length line, in bytes (Redis: PROTO_INLINE_MAX_SIZE). */
  maxInlineBytes: number;
}

export const DEFAULT_LIMITS: DecoderLimits = { maxBulkBytes: 512 * 1024 * 1024, maxInlineBytes: 64 * 1024 };

// Redis accepts at most INT_MAX arguments in a multibulk.
const MAX_MULTIBULK = 2147483647;
// Unauthenticated clients may only send tiny requests (Redis: 10 args, 16 KB bulks).
const UNAUTH_MAX_MULTIBULK = 10;
const UNAUTH_MAX_BULK = 16384;
// Bulks at least this big are gathered as a list of chunks and joined once, so a 100 MB value
// arriving in 64 KB reads costs one copy, not a copy per read.
const BIG_BULK = 32 * 1024;
// A command split across two reads is completed from a prefix of the new chunk this big (growing
// if needed); the rest of the chunk is parsed in place. Joining whole 64 KB chunks on every read
// made large short-lived allocations that pushed V8 into frequent full GCs.
const JOIN_PREFIX = 4096;

const CR = 13;
const LF = 10;

export class RequestDecoder {
  limits: DecoderLimits;
  /** Set while the client has not authenticated: tight limits apply, as in Redis. */
  unauthenticated = false;
  /**
   * When set (the proxy), `lastRaw` holds the exact bytes of the last command returned by next(),
   * so it can be forwarded without re-encoding; null when the frame was gathered in pieces.
   */
  keepRaw = false;
  lastRaw: Buffer | null = null;
  private frameStart = -1; // offset in buf where the command being parsed began; -1 = lost

  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private argsLeft = 0; // arguments still expected in the current multibulk; 0 = between commands
  private args: string[] = [];
  private bulkLen = -1; // length of the bulk whose header was read, -1 = expecting a '$' header
  private parts: Buffer[] | null = null; // pending chunks of a big bulk
  private partsBytes = 0;
  private rest: Buffer | null = null; // the part of the last chunk after a joined prefix

  constructor(limits: DecoderLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Bytes received but not yet consumed as complete commands. */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.partsBytes + (this.rest?.length ?? 0);
  }

  /** Hands a chunk read from the socket to the decoder. The chunk must not be reused by the caller. */
  push(chunk: Buffer): void {
    if (this.rest !== null) {
      // Bytes not parsed yet (a paused or blocked client): keep them in order.
      this.rest = Buffer.concat([this.rest, chunk]);
      return;
    }
    if (this.parts) {
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      if (this.partsBytes >= this.bulkLen + 2) {
        this.buf = Buffer.concat(this.parts, this.partsBytes);
        this.pos = 0;
        this.parts = null;
        this.partsBytes = 0;
      }
      return;
    }
    const left = this.buf.length - this.pos;
    if (left === 0 && !(this.keepRaw && this.argsLeft > 0)) {
      this.buf = chunk;
      this.pos = 0;
    } else if (this.bulkLen >= BIG_BULK && left + chunk.length < this.bulkLen + 2) {
      this.parts = [this.buf.subarray(this.pos), chunk];
      this.partsBytes = left + chunk.length;
      this.frameStart = -1;
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    } else {
      // Mid-command the proxy keeps the bytes already parsed too, to forward the frame whole.
      const from = this.keepRaw && this.argsLeft > 0 && this.frameStart >= 0 ? this.frameStart : this.pos;
      const head = this.buf.length - from;
      const take = Math.min(chunk.length, Math.max(JOIN_PREFIX, 2 * head));
      this.buf = Buffer.concat([this.buf.subarray(from), chunk.subarray(0, take)], head + take);
      this.rest = take < chunk.length ? chunk.subarray(take) : null;
      this.frameStart = this.frameStart >= 0 ? this.frameStart - from : -1;
      this.pos -= from;
    }
  }

  /**
   * Returns the next complete command, or null when more bytes are needed.
   * Throws ProtocolError on a malformed request; the connection must then be closed.
   */
  next(): string[] | null {
    for (;;) {
      const command = this.nextInBuffer();
      if (command !== null || this.rest === null) return command;
      const rest = this.rest;
      this.rest = null;
      this.push(rest);
    }
  }

  /** next() within the current buffer only. */
  private nextInBuffer(): string[] | null {
    const buf = this.buf;
    for (;;) {
      if (this.parts) return null;
      if (this.argsLeft === 0) {
        if (this.pos >= buf.length) return null;
        this.frameStart = this.pos;
        if (buf[this.pos] !== 0x2a /* * */) {
          const inline = this.nextInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          // Inline requests are re-encoded as multibulk before forwarding.
          this.lastRaw = null;
          return inline;
        }
        const lineEnd = this.findLineEnd(this.pos);
        if (lineEnd < 0) {
          if (buf.length - this.pos > this.limits.maxInlineBytes) throw new ProtocolError('too big mbulk count string');
          return null;
        }
        const count = parseInteger(buf, this.pos + 1, lineEnd);
        if (count === null || count > MAX_MULTIBULK) throw new ProtocolError('invalid multibulk length');
        if (this.unauthenticated && count > UNAUTH_MAX_MULTIBULK) throw new ProtocolError('unauthenticated multibulk length');
        this.pos = lineEnd + 2;
        if (count <= 0) continue; // "*0" and "*-1" are empty requests, skipped like Redis does
        this.argsLeft = count;
        this.args = [];
      }
      while (this.argsLeft > 0) {
        if (this.bulkLen < 0) {
          if (this.pos >= buf.length) return null;
          // Like Redis, the '$' is checked only once the whole length line has arrived.
          const lineEnd = this.findLineEnd(this.pos);
          if (lineEnd < 0) {
            if (buf.length - this.pos > this.limits.maxInlineBytes) throw new ProtocolError('too big bulk count string');
            return null;
          }
          if (buf[this.pos] !== 0x24 /* $ */) {
            throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[this.pos]!)}'`);
          }
          const len = parseInteger(buf, this.pos + 1, lineEnd);
          if (len === null || len < 0 || len > this.limits.maxBulkBytes) throw new ProtocolError('invalid bulk length');
          if (this.unauthenticated && len > UNAUTH_MAX_BULK) throw new ProtocolError('unauthenticated bulk length');
          this.bulkLen = len;
          this.pos = lineEnd + 2;
        }
        if (buf.length - this.pos < this.bulkLen + 2) {
          if (this.bulkLen >= BIG_BULK && this.pos > 0) {
            // Start gathering chunks for a big bulk: keep only its bytes received so far.
            this.parts = [buf.subarray(this.pos)];
            this.partsBytes = buf.length - this.pos;
            this.frameStart = -1;
            this.buf = Buffer.alloc(0);
            this.pos = 0;
          }
          return null;
        }
        this.args.push(buf.latin1Slice(this.pos, this.pos + this.bulkLen));
        this.pos += this.bulkLen + 2; // Redis skips the trailing CRLF without checking it
        this.bulkLen = -1;
        this.argsLeft--;
      }
      const args = this.args;
      this.args = [];
      if (this.keepRaw) this.lastRaw = this.frameStart >= 0 ? this.buf.subarray(this.frameStart, this.pos) : null;
      return args;
    }
  }

  /**
   * End of a length line as Redis finds it: the first CR, provided one more byte follows it (the
   * LF, which Redis skips without checking). -1 when the line is not complete yet.
   */
  private findLineEnd(from: number): number {
    const i = this.buf.indexOf(CR, from);
    return i >= 0 && i + 1 < this.buf.length ? i : -1;
  }

  private nextInline(): string[] | null {
    const buf = this.buf;
    const nl = buf.indexOf(LF, this.pos);
    if (nl < 0) {
      if (buf.length - this.pos > this.limits.maxInlineBytes) throw new ProtocolError('too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === CR) end--;
    const line = buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('unbalanced quotes in request');
    return args;
  }
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
