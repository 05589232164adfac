// Hash commands (HSET … HRANDFIELD) with Redis 7.0.15's replies: HGETALL is a RESP3 map, HRANDFIELD
// WITHVALUES pairs up in RESP3, HINCRBYFLOAT adds as long doubles and propagates as HSET. Also the
// HSCAN/SSCAN argument parsing and random-count helpers that sets.ts shares.
import { ERR, wrongArity } from '../../common/errors.js';
import { globMatch } from '../../common/glob.js';
import { WRONG_TYPE, type WrongType } from '../keyspace/db.js';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../keyspace/types/canonical-int.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import type { Session } from '../session.js';
import { type LongDouble, addLongDouble, formatLongDoubleHuman, isInfiniteLongDouble, parseLongDouble } from './long-double.js';
import { emptyScanReply, parseScanCursor, scanOptions } from './scan-args.js';
import { type HandlerMap, floatArg, int64Arg, intArg, is, parseFloatStrict, syntaxError, wrongType } from './handler.js';
import { NOTIFY_HASH, delEvent, keyEvent, newEvent } from './key-events.js';

const HASH_NOT_INTEGER = 'ERR hash value is not an integer';
const HASH_NOT_FLOAT = 'ERR hash value is not a float';
const INCR_NAN_OR_INF = 'ERR value is NaN or Infinity';
const INVALID_CURSOR = 'ERR invalid cursor';
const OUT_OF_RANGE = 'ERR value is out of range';
const COUNT_RANGE = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';

/** LONG_MAX / 2: HRANDFIELD WITHVALUES refuses larger counts (the reply would have 2·count items). */
const HALF_LONG_MAX = 4611686018427387903n;

/** hashTypeLookupWriteOrCreate: the hash at `key`, created empty when absent; null after WRONGTYPE. */
function writableHash(s: Session, key: string): HashValue | null {
  const hash = s.db.getHash(key);
  if (hash === WRONG_TYPE) {
    wrongType(s);
    return null;
  }
  if (hash !== undefined) return hash;
  const created = new HashValue();
  newEvent(s, key);
  s.db.add(key, created);
  return created;
}

// ---- scan arguments (shared with SSCAN) ----------------------------------------------------

/**
 * A random count as HRANDFIELD/SRANDMEMBER parse it (-LONG_MAX..LONG_MAX), or null after the
 * error. Counts beyond 2^53 stay bigints; callers only compare them with sizes.
 */
export function randomCountArg(s: Session, text: string): number | bigint | null {
  const n = int64Arg(s, text);
  if (n === null) return null;
  if (n === INT64_MIN) {
    s.w.error(COUNT_RANGE);
    return null;
  }
  return n;
}

/**
 * `count` distinct slots out of 0..size-1 (count < size). Like Redis, a dense pick removes
 * random slots from a full copy, a sparse one draws until it has enough distinct slots.
 */
export function distinctRandomSlots(size: number, count: number): number[] {
  if (count * 3 > size) {
    const slots = Array.from({ length: size }, (_, i) => i);
    // Partial Fisher-Yates: the first `count` entries become a uniform random subset.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = slots[i]!;
      slots[i] = slots[j]!;
      slots[j] = t;
    }
    slots.length = count;
    return slots;
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(Math.random() * size));
  return [...picked];
}

// ---- writes --------------------------------------------------------------------------------

/** HSET key field value [field value …] (replies the number added) and HMSET (replies OK). */
function hsetGeneric(s: Session, args: string[], name: 'hset' | 'hmset'): void {
  if (args.length % 2 === 1) return s.w.error(wrongArity(name));
  const key = args[1]!;
  const hash = writableHash(s, key);
  if (hash === null) return;
  let added = 0;
  for (let i = 2; i < args.length; i += 2) if (hash.set(args[i]!, args[i + 1]!)) added++;
  s.server.changed(s.db, key, (args.length - 2) / 2);
  keyEvent(s, NOTIFY_HASH, 'hset', key);
  if (name === 'hset') s.w.integer(added);
  else s.w.ok();
}

function hsetnxCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const hash = writableHash(s, key);
  if (hash === null) return;
  if (hash.has(args[2]!)) return s.w.integer(0);
  hash.set(args[2]!, args[3]!);
  s.server.changed(s.db, key);
  keyEvent(s, NOTIFY_HASH, 'hset', key);
  s.w.integer(1);
}

function hdelCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const hash = s.db.getHash(key);
  if (hash === WRONG_TYPE) return wrongType(s);
  if (hash === undefined) return s.w.integer(0);
  let deleted = 0;
  let removed = false;
  for (let i = 2; i < args.length; i++) {
    if (!hash.delete(args[i]!)) continue;
    deleted++;
    if (hash.size === 0) {
      s.db.delete(key);
      removed = true;
      break;
    }
  }
  if (deleted > 0) {
    s.server.changed(s.db, key, deleted);
    keyEvent(s, NOTIFY_HASH, 'hdel', key);
    if (removed) delEvent(s, key);
  }
  s.w.integer(deleted);
}

function hincrbyCommand(s: Session, args: string[]): void {
  const incr = int64Arg(s, args[3]!);
  if (incr === null) return;
  const key = args[1]!;
  const field = args[2]!;
  const hash = writableHash(s, key);
  if (hash === null) return;
  const old = hash.get(field);
  let current: number | bigint = 0;
  if (old !== undefined) {
    const parsed = parseInt64(old);
    if (parsed === null) return s.w.error(HASH_NOT_INTEGER);
    current = parsed;
  }
  let result: number | bigint;
  if (typeof current === 'number' && typeof incr === 'number' && Number.isSafeInteger(current + incr)) {
    result = current + incr;
  } else {
    const big = BigInt(current) + BigInt(incr);
    if (big > INT64_MAX || big < INT64_MIN) return s.w.error(ERR.overflow);
    result = big;
  }
  hash.set(field, String(result));
  s.server.changed(s.db, key);
  keyEvent(s, NOTIFY_HASH, 'hincrby', key);
  if (typeof result === 'number') s.w.integer(result);
  else s.w.bigInteger(result);
}

function hincrbyfloatCommand(s: Session, args: string[]): void {
  if (floatArg(s, args[3]!) === null) return;
  const incr = parseLongDouble(args[3]!);
  if (incr === null) return s.w.error(INCR_NAN_OR_INF);
  const key = args[1]!;
  const field = args[2]!;
  const hash = writableHash(s, key);
  if (hash === null) return;
  const old = hash.get(field);
  let current: LongDouble = { m: 0n, e: 0 };
  if (old !== undefined) {
    if (parseFloatStrict(old) === null) return s.w.error(HASH_NOT_FLOAT);
    const parsed = parseLongDouble(old);
    // A stored "inf" (or a value past the long double range) is a float, but any sum with it is infinite.
    if (parsed === null) return s.w.error(ERR.nanOrInf);
    current = parsed;
  }
  const result = addLongDouble(current, incr);
  if (isInfiniteLongDouble(result)) return s.w.error(ERR.nanOrInf);
  const text = formatLongDoubleHuman(result);
  hash.set(field, text);
  s.server.changed(s.db, key);
  keyEvent(s, NOTIFY_HASH, 'hincrbyfloat', key);
  // Replicas must not redo float math: they get the field's final text.
  s.propagateAs = [['HSET', key, field, text]];
  s.w.bulk(text);
}

// ---- reads ---------------------------------------------------------------------------------

function hgetCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.bulkOrNull(hash?.get(args[2]!));
}

function hmgetCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) s.w.bulkOrNull(hash?.get(args[i]!));
}

function hlenCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.integer(hash === undefined ? 0 : hash.size);
}

function hstrlenCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.integer(hash?.get(args[2]!)?.length ?? 0);
}

function hexistsCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.integer(hash !== undefined && hash.has(args[2]!) ? 1 : 0);
}

function hgetallCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  if (hash === undefined) return s.w.map(0);
  const { keys, vals } = hash.map;
  s.w.map(keys.length);
  for (let i = 0; i < keys.length; i++) {
    s.w.bulk(keys[i]!);
    s.w.bulk(vals[i]!);
  }
}

function hkeysCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.bulkArray(hash === undefined ? [] : hash.map.keys);
}

function hvalsCommand(s: Session, args: string[]): void {
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  s.w.bulkArray(hash === undefined ? [] : hash.map.vals);
}

/** HSCAN key cursor [MATCH p] [COUNT n]: the cursor is checked first, options only for a live hash. */
function hscanCommand(s: Session, args: string[]): void {
  const cursor = parseScanCursor(args[2]!);
  if (cursor === null) return s.w.error(INVALID_CURSOR);
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  if (hash === undefined) return emptyScanReply(s);
  const opts = scanOptions(s, args, 3, { match: true, type: false });
  if (opts === null) return;
  const step = hash.scan(cursor, opts.count);
  const items = step.items;
  s.w.array(2);
  s.w.bulk(String(step.cursor));
  if (opts.pattern === null) return s.w.bulkArray(items);
  const kept: string[] = [];
  for (let i = 0; i < items.length; i += 2) {
    if (globMatch(opts.pattern, items[i]!)) kept.push(items[i]!, items[i + 1]!);
  }
  s.w.bulkArray(kept);
}

/** One HRANDFIELD pick: RESP3 pairs each field with its value, RESP2 flattens them. */
function writeField(s: Session, hash: HashValue, slot: number, withValues: boolean): void {
  if (withValues && s.w.resp === 3) s.w.array(2);
  s.w.bulk(hash.fieldAt(slot));
  if (withValues) s.w.bulk(hash.valueAt(slot));
}

function writeFieldsHeader(s: Session, n: number, withValues: boolean): void {
  s.w.array(withValues && s.w.resp !== 3 ? n * 2 : n);
}

/** HRANDFIELD key [count [WITHVALUES]]: negative counts may repeat fields, positive ones don't. */
function hrandfieldCommand(s: Session, args: string[]): void {
  if (args.length === 2) {
    const hash = s.db.getHash(args[1]!);
    if (hash === WRONG_TYPE) return wrongType(s);
    if (hash === undefined) return s.w.null();
    return s.w.bulk(hash.fieldAt(hash.randomSlot()));
  }
  const count = randomCountArg(s, args[2]!);
  if (count === null) return;
  if (args.length > 4 || (args.length === 4 && !is(args[3], 'withvalues'))) return syntaxError(s);
  const withValues = args.length === 4;
  if (withValues && (BigInt(count) < -HALF_LONG_MAX || BigInt(count) > HALF_LONG_MAX)) return s.w.error(OUT_OF_RANGE);
  const hash = s.db.getHash(args[1]!);
  if (hash === WRONG_TYPE) return wrongType(s);
  if (hash === undefined || count === 0 || count === 0n) return s.w.array(0);
  const size = hash.size;
  const unique = count > 0;
  // Counts beyond 2^53 only reach here negative (with repetition); Redis would stream them forever too.
  const wanted = Number(unique ? count : -count);
  if (!unique || wanted === 1) {
    writeFieldsHeader(s, wanted, withValues);
    for (let i = 0; i < wanted; i++) writeField(s, hash, hash.randomSlot(), withValues);
    return;
  }
  if (wanted >= size) {
    writeFieldsHeader(s, size, withValues);
    for (let slot = 0; slot < size; slot++) writeField(s, hash, slot, withValues);
    return;
  }
  const slots = distinctRandomSlots(size, wanted);
  // A listpack hash samples in listpack order (lpRandomPairsUnique walks it front to back).
  if (hash.encoding() === 'listpack') slots.sort((a, b) => a - b);
  writeFieldsHeader(s, wanted, withValues);
  for (const slot of slots) writeField(s, hash, slot, withValues);
}

export const hashHandlers: HandlerMap = {
  hset: (s, args) => hsetGeneric(s, args, 'hset'),
  hmset: (s, args) => hsetGeneric(s, args, 'hmset'),
  hsetnx: hsetnxCommand,
  hdel: hdelCommand,
  hincrby: hincrbyCommand,
  hincrbyfloat: hincrbyfloatCommand,
  hget: hgetCommand,
  hmget: hmgetCommand,
  hlen: hlenCommand,
  hstrlen: hstrlenCommand,
  hexists: hexistsCommand,
  hgetall: hgetallCommand,
  hkeys: hkeysCommand,
  hvals: hvalsCommand,
  hscan: hscanCommand,
  hrandfield: hrandfieldCommand,
};
