// Bitmap commands on string values, ported from Redis 7.0.15's bitops.c: SETBIT GETBIT BITCOUNT
// BITPOS BITOP BITFIELD BITFIELD_RO, with its argument checks in its order and its error texts.
// Strings are immutable latin1 JS strings, so a write builds the new value (O(length)).
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import { bitposByte, bitposRange, popcountByte, popcountRange } from '../keyspace/types/bit-scan.js';
import type { Session } from '../session.js';
import { type HandlerMap, intArg, is, syntaxError, wrongType } from './handler.js';
import { bitOffsetArg, storeBitValue, stringForBitWrite } from './bit-args.js';
import { bitfieldCommand, bitfieldRoCommand } from './bitfield.js';
import { NOTIFY_STRING, delEvent, keyEvent, keyMissEvent, newEventIfAbsent } from './key-events.js';

const BIT_VALUE_ERR = 'ERR bit is not an integer or out of range';

function setbitCommand(s: Session, args: string[]): void {
  const offset = bitOffsetArg(s, args[2]!);
  if (offset === null) return;
  const on = parseInt64(args[3]!);
  if (on === null || (on !== 0 && on !== 1)) return s.w.error(BIT_VALUE_ERR);
  const key = args[1]!;
  const target = stringForBitWrite(s, key, offset);
  if (target === null) return;
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset & 7);
  const current = target.value.charCodeAt(byte);
  const bitval = (current >> shift) & 1;
  if (target.dirty || bitval !== on) {
    const next = (current & ~(1 << shift)) | (on << shift);
    const v = target.value;
    storeBitValue(s, key, v.slice(0, byte) + String.fromCharCode(next) + v.slice(byte + 1), 1);
  }
  s.w.integer(bitval);
}

function getbitCommand(s: Session, args: string[]): void {
  const offset = bitOffsetArg(s, args[2]!);
  if (offset === null) return;
  const v = s.db.getString(args[1]!);
  if (typeof v === 'symbol') return wrongType(s);
  if (v === undefined) return s.w.integer(0);
  const byte = Math.floor(offset / 8);
  s.w.integer(byte < v.length ? (v.charCodeAt(byte) >> (7 - (offset & 7))) & 1 : 0);
}

/** A [start, end] range in bytes, with the BIT unit's edge masks (bits outside the range). */
interface BitRange {
  start: number;
  end: number;
  firstMask: number;
  lastMask: number;
}

/** Turns a BIT-unit range that is not empty into bytes plus edge masks (Redis's neg masks). */
function toByteRange(start: number, end: number, isBit: boolean): BitRange {
  if (!isBit || start > end) return { start, end, firstMask: 0, lastMask: 0 };
  return {
    start: Math.floor(start / 8),
    end: Math.floor(end / 8),
    firstMask: ~((1 << (8 - (start & 7))) - 1) & 0xff,
    lastMask: (1 << (7 - (end & 7))) - 1,
  };
}

/** Parses BYTE|BIT; null after a syntax error. */
function unitArg(s: Session, text: string | undefined): boolean | null {
  if (text === undefined || is(text, 'byte')) return false;
  if (is(text, 'bit')) return true;
  syntaxError(s);
  return null;
}

/** BITCOUNT key [start end [BYTE|BIT]] */
function bitcountCommand(s: Session, args: string[]): void {
  const v = s.db.getString(args[1]!);
  if (v === undefined) return s.w.integer(0);
  if (typeof v === 'symbol') return wrongType(s);
  let start: number;
  let end: number;
  let isBit = false;
  if (args.length === 4 || args.length === 5) {
    const totlen = v.length;
    const a = intArg(s, args[2]!);
    if (a === null) return;
    const b = intArg(s, args[3]!);
    if (b === null) return;
    start = a;
    end = b;
    if (start < 0 && end < 0 && start > end) return s.w.integer(0);
    if (args.length === 5) {
      const unit = unitArg(s, args[4]);
      if (unit === null) return;
      isBit = unit;
    }
    [start, end] = clampBitRange(start, end, isBit ? totlen * 8 : totlen);
  } else if (args.length === 2) {
    start = 0;
    end = v.length - 1;
  } else {
    return syntaxError(s);
  }
  const r = toByteRange(start, end, isBit);
  if (r.start > r.end) return s.w.integer(0);
  let count = popcountRange(v, r.start, r.end);
  // Bits of the edge bytes outside a BIT range were counted: take them off again.
  if (r.firstMask !== 0) count -= popcountByte(v.charCodeAt(r.start) & r.firstMask);
  if (r.lastMask !== 0) count -= popcountByte(v.charCodeAt(r.end) & r.lastMask);
  s.w.integer(count);
}

/**
 * BITCOUNT's and BITPOS's range, as Redis normalises it: negative indexes count from the end of
 * `len` (bytes, or bits for BIT), then both are clamped into [0, len - 1]; start > end may remain.
 */
function clampBitRange(start: number, end: number, len: number): [number, number] {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  return [start, end];
}

/** BITPOS key bit [start [end [BYTE|BIT]]] */
function bitposCommand(s: Session, args: string[]): void {
  const bitArg = intArg(s, args[2]!);
  if (bitArg === null) return;
  if (bitArg !== 0 && bitArg !== 1) return s.w.error('ERR The bit argument must be 1 or 0.');
  const bit = bitArg as 0 | 1;
  const v = s.db.getString(args[1]!);
  // A missing key is an infinite run of zeros.
  if (v === undefined) return s.w.integer(bit ? -1 : 0);
  if (typeof v === 'symbol') return wrongType(s);
  let start: number;
  let end: number;
  let isBit = false;
  let endGiven = false;
  if (args.length >= 4 && args.length <= 6) {
    const totlen = v.length;
    const a = intArg(s, args[3]!);
    if (a === null) return;
    start = a;
    if (args.length === 6) {
      const unit = unitArg(s, args[5]);
      if (unit === null) return;
      isBit = unit;
    }
    if (args.length >= 5) {
      const b = intArg(s, args[4]!);
      if (b === null) return;
      end = b;
      endGiven = true;
    } else {
      end = isBit ? totlen * 8 + 7 : totlen - 1;
    }
    [start, end] = clampBitRange(start, end, isBit ? totlen * 8 : totlen);
  } else if (args.length === 3) {
    start = 0;
    end = v.length - 1;
  } else {
    return syntaxError(s);
  }
  const r = toByteRange(start, end, isBit);
  if (r.start > r.end) return s.w.integer(-1);
  s.w.integer(bitposInRange(v, r, bit, endGiven));
}

/** The search of bitposCommand once the range is known: edge bytes masked, the middle scanned. */
function bitposInRange(v: string, r: BitRange, bit: 0 | 1, endGiven: boolean): number {
  let start = r.start;
  let bytes = r.end - r.start + 1;
  // Bits outside the range are forced to the value we are not looking for.
  const masked = (byte: number, mask: number): number => (bit ? byte & ~mask : byte | mask) & 0xff;
  let pos = -1;
  search: {
    if (r.firstMask !== 0) {
      let tmp = masked(v.charCodeAt(start), r.firstMask);
      if (r.lastMask !== 0 && bytes === 1) tmp = masked(tmp, r.lastMask);
      pos = bitposByte(tmp, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break search;
      start++;
      bytes--;
    }
    const middle = bytes - (r.lastMask !== 0 ? 1 : 0);
    if (middle > 0) {
      pos = bitposRange(v, start, middle, bit);
      if (bytes === middle || (pos !== -1 && pos !== middle * 8)) break search;
      start += middle;
      bytes -= middle;
    }
    pos = bitposByte(masked(v.charCodeAt(r.end), r.lastMask), bit);
  }
  // With an explicit end, running off the range while looking for 0 finds nothing.
  if (endGiven && bit === 0 && pos === bytes * 8) return -1;
  return pos === -1 ? -1 : pos + start * 8;
}

const WINDOW = 65536;

/** BITOP AND|OR|XOR|NOT destkey key [key …] */
function bitopCommand(s: Session, args: string[]): void {
  const opName = args[1]!.toLowerCase();
  if (opName !== 'and' && opName !== 'or' && opName !== 'xor' && opName !== 'not') return syntaxError(s);
  if (opName === 'not' && args.length !== 4) return s.w.error('ERR BITOP NOT must be called with a single source key.');
  const sources: string[] = [];
  let maxlen = 0;
  for (let i = 3; i < args.length; i++) {
    const v = s.db.getString(args[i]!);
    // BITOP is a write command, so the Db does not count its reads; Redis does (lookupKeyRead).
    if (v === undefined) {
      s.server.stats.keyspaceMisses++;
      keyMissEvent(s, args[i]!);
    } else s.server.stats.keyspaceHits++;
    if (typeof v === 'symbol') return wrongType(s);
    const str = v ?? '';
    sources.push(str);
    if (str.length > maxlen) maxlen = str.length;
  }
  const dst = args[2]!;
  const db = s.db;
  if (maxlen === 0) {
    if (db.delete(dst)) {
      s.server.changed(db, dst);
      delEvent(s, dst);
    }
    return s.w.integer(0);
  }
  const result = combine(opName, sources, maxlen);
  newEventIfAbsent(s, db, dst);
  db.set(dst, result);
  s.server.changed(db, dst);
  keyEvent(s, NOTIFY_STRING, 'set', dst);
  s.w.integer(maxlen);
}

/** The BITOP result: sources are zero-padded to the longest; works a 64 KB window at a time. */
function combine(op: 'and' | 'or' | 'xor' | 'not', sources: readonly string[], maxlen: number): string {
  const res = Buffer.from(new ArrayBuffer(maxlen));
  res.latin1Write(sources[0]!, 0, sources[0]!.length);
  if (op === 'not') {
    const words = new Int32Array(res.buffer, 0, maxlen >> 2);
    for (let i = 0; i < words.length; i++) words[i] = ~words[i]!;
    for (let i = words.length * 4; i < maxlen; i++) res[i] = ~res[i]! & 0xff;
    return res.latin1Slice(0, maxlen);
  }
  const window = Buffer.from(new ArrayBuffer(WINDOW));
  const res32 = new Int32Array(res.buffer, 0, maxlen >> 2);
  const win32 = new Int32Array(window.buffer);
  for (let k = 1; k < sources.length; k++) {
    const src = sources[k]!;
    for (let off = 0; off < src.length; off += WINDOW) {
      const n = Math.min(WINDOW, src.length - off);
      window.latin1Write(src.slice(off, off + n), 0, n);
      const words = n >> 2;
      const base = off >> 2;
      if (op === 'and') for (let i = 0; i < words; i++) res32[base + i]! &= win32[i]!;
      else if (op === 'or') for (let i = 0; i < words; i++) res32[base + i]! |= win32[i]!;
      else for (let i = 0; i < words; i++) res32[base + i]! ^= win32[i]!;
      for (let i = words * 4; i < n; i++) {
        if (op === 'and') res[off + i]! &= window[i]!;
        else if (op === 'or') res[off + i]! |= window[i]!;
        else res[off + i]! ^= window[i]!;
      }
    }
    // AND with a shorter source: its missing bytes are zeros.
    if (op === 'and' && src.length < maxlen) res.fill(0, src.length);
  }
  return res.latin1Slice(0, maxlen);
}

export const bitmapHandlers: HandlerMap = {
  setbit: setbitCommand,
  getbit: getbitCommand,
  bitcount: bitcountCommand,
  bitpos: bitposCommand,
  bitop: bitopCommand,
  bitfield: bitfieldCommand,
  bitfield_ro: bitfieldRoCommand,
};

