// BITFIELD and BITFIELD_RO (bitops.c's bitfieldGeneric): GET/SET/INCRBY of signed and unsigned
// integers of 1-64 bits at any bit offset, with OVERFLOW WRAP|SAT|FAIL. 64-bit arithmetic is done
// in BigInt with C's wrap-around, so overflow decisions are Redis's, edge cases included.
import { ERR } from '../../common/errors.js';
import { cString } from '../../common/commands/table.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import type { Session } from '../session.js';
import { bitOffsetArg, storeBitValue, stringForBitWrite } from './bit-args.js';
import { keyMissEvent } from './key-events.js';
import { syntaxError, wrongType } from './handler.js';

const TYPE_ERR = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

type Overflow = 'wrap' | 'sat' | 'fail';

interface BitfieldOp {
  opcode: 'get' | 'set' | 'incrby';
  offset: number;
  /** SET value or INCRBY increment (int64). */
  value: bigint;
  overflow: Overflow;
  bits: number;
  signed: boolean;
}

/** getBitfieldTypeFromArgument: i1…i64 or u1…u63; null after replying. */
function typeArg(s: Session, text: string): { signed: boolean; bits: number } | null {
  const t = cString(text);
  const sign = t.charCodeAt(0);
  const bits = sign === 105 /* i */ || sign === 117 /* u */ ? parseInt64(t.slice(1)) : null;
  const signed = sign === 105;
  if (bits === null || bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) {
    s.w.error(TYPE_ERR);
    return null;
  }
  return { signed, bits: Number(bits) };
}

/** Parses every subcommand before anything runs (Redis does too); null after replying. */
function parseOps(s: Session, args: string[]): { ops: BitfieldOp[]; readonly: boolean; highestWrite: number } | null {
  const ops: BitfieldOp[] = [];
  let overflow: Overflow = 'wrap';
  let readonly = true;
  let highestWrite = 0;
  // One op per 2-4 arguments: bounded by the request's length.
  for (let j = 2; j < args.length; j++) {
    const remaining = args.length - j - 1;
    const sub = args[j]!.toLowerCase();
    let opcode: BitfieldOp['opcode'];
    if (sub === 'get' && remaining >= 2) opcode = 'get';
    else if (sub === 'set' && remaining >= 3) opcode = 'set';
    else if (sub === 'incrby' && remaining >= 3) opcode = 'incrby';
    else if (sub === 'overflow' && remaining >= 1) {
      const kind = args[++j]!.toLowerCase();
      if (kind !== 'wrap' && kind !== 'sat' && kind !== 'fail') {
        s.w.error('ERR Invalid OVERFLOW type specified');
        return null;
      }
      overflow = kind;
      continue;
    } else {
      syntaxError(s);
      return null;
    }
    const type = typeArg(s, args[j + 1]!);
    if (type === null) return null;
    const offset = bitOffsetArg(s, args[j + 2]!, type.bits);
    if (offset === null) return null;
    let value = 0n;
    if (opcode !== 'get') {
      readonly = false;
      highestWrite = Math.max(highestWrite, offset + type.bits - 1);
      const n = parseInt64(args[j + 3]!);
      if (n === null) {
        s.w.error(ERR.notInteger);
        return null;
      }
      value = BigInt(n);
    }
    ops.push({ opcode, offset, value, overflow, bits: type.bits, signed: type.signed });
    j += opcode === 'get' ? 2 : 3;
  }
  return { ops, readonly, highestWrite };
}

type ByteAt = (i: number) => number;

/** The `bits`-bit unsigned integer at bit `offset` (bit 0 = MSB of byte 0). */
function getUnsigned(at: ByteAt, offset: number, bits: number): bigint {
  let hi = 0;
  let lo = 0;
  for (let j = 0; j < bits; j++, offset++) {
    const bit = (at(Math.floor(offset / 8)) >> (7 - (offset & 7))) & 1;
    hi = ((hi << 1) | (lo >>> 31)) >>> 0;
    lo = ((lo << 1) | bit) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function getSigned(at: ByteAt, offset: number, bits: number): bigint {
  return BigInt.asIntN(bits, getUnsigned(at, offset, bits));
}

/** Writes the low `bits` bits of `value` at bit `offset` of `buf`. */
function setBits(buf: Buffer, offset: number, bits: number, value: bigint): void {
  const u = BigInt.asUintN(64, value);
  const lo = Number(u & 0xffffffffn);
  const hi = Number(u >> 32n);
  for (let j = 0; j < bits; j++, offset++) {
    const k = bits - 1 - j;
    const bitval = k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
    const byte = Math.floor(offset / 8);
    const shift = 7 - (offset & 7);
    buf[byte] = (buf[byte]! & ~(1 << shift)) | (bitval << shift);
  }
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const asI64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const asU64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** checkUnsignedBitfieldOverflow: [overflow (0, 1, -1), limit] with C's unsigned arithmetic. */
function unsignedOverflow(value: bigint, incr: bigint, bits: number, owtype: Overflow): [number, bigint] {
  const max = bits === 64 ? U64_MAX : (1n << BigInt(bits)) - 1n;
  const maxincr = asI64(max - value);
  const minincr = asI64(-value);
  const wrap = (): bigint => asU64(value + incr) & (max === U64_MAX ? U64_MAX : max);
  if (value > max || (incr > 0n && incr > maxincr)) return [1, owtype === 'wrap' ? wrap() : max];
  if (incr < 0n && incr < minincr) return [-1, owtype === 'wrap' ? wrap() : 0n];
  return [0, 0n];
}

/** checkSignedBitfieldOverflow: [overflow (0, 1, -1), limit] with C's two's-complement arithmetic. */
function signedOverflow(value: bigint, incr: bigint, bits: number, owtype: Overflow): [number, bigint] {
  const max = bits === 64 ? I64_MAX : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = asI64(asU64(max) - asU64(value));
  const minincr = asI64(min - value);
  const wrap = (): bigint => {
    let c = asU64(asU64(value) + asU64(incr));
    if (bits < 64) {
      const mask = asU64(-1n << BigInt(bits));
      c = c & (1n << BigInt(bits - 1)) ? c | mask : c & ~mask;
    }
    return asI64(c);
  };
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
    return [1, owtype === 'wrap' ? wrap() : max];
  }
  if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
    return [-1, owtype === 'wrap' ? wrap() : min];
  }
  return [0, 0n];
}

function replyBig(s: Session, v: bigint): void {
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) s.w.integer(Number(v));
  else s.w.bigInteger(v);
}

/** One SET or INCRBY: replies its value (or null on FAIL) and returns whether the value changed. */
function writeOp(s: Session, buf: Buffer, op: BitfieldOp): boolean | null {
  const at: ByteAt = (i) => buf[i]!;
  const old = op.signed ? getSigned(at, op.offset, op.bits) : getUnsigned(at, op.offset, op.bits);
  const check = op.signed ? signedOverflow : unsignedOverflow;
  let next: bigint;
  let reply: bigint;
  let overflow: number;
  if (op.opcode === 'incrby') {
    const [o, limit] = check(old, op.value, op.bits, op.overflow);
    overflow = o;
    next = o !== 0 ? limit : op.signed ? old + op.value : asU64(old + op.value);
    reply = next;
  } else {
    const value = op.signed ? op.value : asU64(op.value);
    const [o, limit] = check(value, 0n, op.bits, op.overflow);
    overflow = o;
    next = o !== 0 ? limit : value;
    reply = old;
  }
  if (overflow !== 0 && op.overflow === 'fail') {
    s.w.null();
    return null;
  }
  replyBig(s, reply);
  setBits(buf, op.offset, op.bits, next);
  return old !== next;
}

function bitfieldGeneric(s: Session, args: string[], readonlyCommand: boolean): void {
  const parsed = parseOps(s, args);
  if (parsed === null) return;
  const { ops } = parsed;
  const key = args[1]!;
  if (parsed.readonly) {
    const v = s.db.getString(key);
    // Only GETs: Redis reads with lookupKeyRead, counted even for BITFIELD (a write command here).
    if (!readonlyCommand) {
      if (v === undefined) {
        s.server.stats.keyspaceMisses++;
        keyMissEvent(s, key);
      } else s.server.stats.keyspaceHits++;
    }
    if (typeof v === 'symbol') return wrongType(s);
    const str = v ?? '';
    const at: ByteAt = (i) => (i < str.length ? str.charCodeAt(i) : 0);
    s.w.array(ops.length);
    for (const op of ops) replyBig(s, op.signed ? getSigned(at, op.offset, op.bits) : getUnsigned(at, op.offset, op.bits));
    return;
  }
  if (readonlyCommand) return s.w.error('ERR BITFIELD_RO only supports the GET subcommand');
  const target = stringForBitWrite(s, key, parsed.highestWrite);
  if (target === null) return;
  const buf = Buffer.from(target.value, 'latin1');
  let changes = 0;
  s.w.array(ops.length);
  for (const op of ops) {
    if (op.opcode === 'get') {
      const at: ByteAt = (i) => (i < buf.length ? buf[i]! : 0);
      replyBig(s, op.signed ? getSigned(at, op.offset, op.bits) : getUnsigned(at, op.offset, op.bits));
      continue;
    }
    const changed = writeOp(s, buf, op);
    if (changed !== null && (target.dirty || changed)) changes++;
  }
  // Like Redis, a created or padded value stays even when every write failed (then unsignalled).
  storeBitValue(s, key, buf.latin1Slice(0, buf.length), changes);
}

export function bitfieldCommand(s: Session, args: string[]): void {
  bitfieldGeneric(s, args, false);
}

export function bitfieldRoCommand(s: Session, args: string[]): void {
  bitfieldGeneric(s, args, true);
}
