// String commands: GET/SET family, counters, ranges, LCS. Values are latin1 strings.
import { ERR, invalidExpire } from '../../common/errors.js';
import { MAX_DEADLINE_MS, WRONG_TYPE } from '../keyspace/db.js';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../keyspace/types/canonical-int.js';
import type { Session } from '../session.js';
import { type LongDouble, addLongDouble, formatLongDoubleHuman, isInfiniteLongDouble, parseLongDouble } from './long-double.js';
import { NOTIFY_GENERIC, NOTIFY_STRING, delEvent, keyEvent, keyMissEvent, newEvent, newEventIfAbsent } from './key-events.js';
import { type HandlerMap, floatArg, int64Arg, intArg, is, parseFloatStrict, syntaxError, wrongType } from './handler.js';


/**
 * Parses an expire argument in `unit` (seconds or ms), relative or absolute, into an absolute
 * ms deadline. Replies and returns null on error, like Redis's getExpireMillisecondsOrReply: any
 * positive value whose deadline fits a long long is taken (PXAT 9223372036854775807 too; the
 * keyspace keeps deadlines past 2^63 - 1024 at that, see Db.setExpire).
 */
export function expireDeadline(s: Session, text: string, unitMs: 1 | 1000, absolute: boolean, command: string): number | null {
  const n = parseInt64(text);
  if (n === null) {
    s.w.error(ERR.notInteger);
    return null;
  }
  if (typeof n === 'number' && n > 0 && n <= Number.MAX_SAFE_INTEGER / unitMs) {
    // The usual case, in doubles: exact while the deadline stays a safe integer.
    const ms = n * unitMs;
    const at = absolute ? ms : ms + s.server.now;
    if (at <= Number.MAX_SAFE_INTEGER) return at;
  }
  let ms = BigInt(n);
  if (ms <= 0n || (unitMs === 1000 && ms > INT64_MAX / 1000n)) {
    s.w.error(invalidExpire(command));
    return null;
  }
  ms *= BigInt(unitMs);
  if (!absolute) ms += BigInt(s.server.now);
  if (ms > INT64_MAX) {
    s.w.error(invalidExpire(command)); // Redis: the sum overflowed
    return null;
  }
  return Math.min(Number(ms), MAX_DEADLINE_MS);
}

const isExpireOption = (opt: string): boolean => opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat';

/** expireDeadline() for an EX/PX/EXAT/PXAT option (lowercase) and its value. */
function optionDeadline(s: Session, opt: string, value: string, command: string): number | null {
  return expireDeadline(s, value, opt === 'ex' || opt === 'exat' ? 1000 : 1, opt.endsWith('at'), command);
}

function getCommand(s: Session, args: string[]): void {
  const v = s.db.getString(args[1]!);
  if (v === WRONG_TYPE) return wrongType(s);
  if (v === undefined) s.w.null();
  else s.w.bulk(v);
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
function setCommand(s: Session, args: string[]): void {
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let expireOpt = '';
  let expireArg = '';
  for (let i = 3; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    const next = args[i + 1];
    if (opt === 'nx' && !xx) nx = true;
    else if (opt === 'xx' && !nx) xx = true;
    else if (opt === 'get') get = true;
    else if (opt === 'keepttl' && expireOpt === '') keepTtl = true;
    else if (isExpireOption(opt) && !keepTtl && expireOpt === '' && next !== undefined) {
      expireOpt = opt;
      expireArg = next;
      i++;
    } else return syntaxError(s);
  }
  // As in Redis, every option is read before the expire value is checked: "EX x FOO" is a syntax error.
  const expireGiven = expireOpt !== '';
  const at = expireGiven ? optionDeadline(s, expireOpt, expireArg, 'set') : 0;
  if (at === null) return;
  const key = args[1]!;
  const db = s.db;
  const oldEntry = db.lookup(key);
  if (get) {
    // SET … GET reads as GET does, then writes: Redis looks the key up twice, touching it twice.
    if (oldEntry !== undefined) db.lookup(key);
    else keyMissEvent(s, key);
  }
  if (get && oldEntry !== undefined && typeof oldEntry.value !== 'string') return wrongType(s);
  const old = oldEntry?.value as string | undefined; // read before db.set replaces it in place
  if ((nx && oldEntry !== undefined) || (xx && oldEntry === undefined)) {
    if (get) s.w.bulkOrNull(old);
    else s.w.null();
    return;
  }
  let e;
  if (oldEntry === undefined) {
    newEvent(s, key);
    e = db.set(key, args[2]!, keepTtl);
  } else e = db.overwrite(oldEntry, args[2]!, keepTtl);
  if (expireGiven) db.setExpire(key, e, at);
  s.server.changed(db, key);
  if (s.server.notifyFlags !== 0) {
    keyEvent(s, NOTIFY_STRING, 'set', key);
    if (expireGiven) keyEvent(s, NOTIFY_GENERIC, 'expire', key);
  }
  // Replicas and the AOF get an absolute deadline and no conditions: the outcome is decided here.
  // A plain "SET key value" is already in that form: propagated as received, nothing allocated.
  if (expireGiven || keepTtl || args.length !== 3 || args[0] !== 'SET') {
    s.propagateAs = [expireGiven ? ['SET', key, args[2]!, 'PXAT', String(at)] : keepTtl ? ['SET', key, args[2]!, 'KEEPTTL'] : ['SET', key, args[2]!]];
  }
  if (get) s.w.bulkOrNull(old);
  else s.w.ok();
}

function setnxCommand(s: Session, args: string[]): void {
  const db = s.db;
  if (db.exists(args[1]!)) return s.w.integer(0);
  newEvent(s, args[1]!);
  db.set(args[1]!, args[2]!);
  s.server.changed(db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'set', args[1]!);
  s.w.integer(1);
}

function setexGeneric(s: Session, args: string[], unitMs: 1 | 1000, name: string): void {
  const at = expireDeadline(s, args[2]!, unitMs, false, name);
  if (at === null) return;
  const db = s.db;
  newEventIfAbsent(s, db, args[1]!);
  const e = db.set(args[1]!, args[3]!);
  db.setExpire(args[1]!, e, at);
  s.server.changed(db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'set', args[1]!);
  keyEvent(s, NOTIFY_GENERIC, 'expire', args[1]!);
  s.propagateAs = [['SET', args[1]!, args[3]!, 'PXAT', String(at)]];
  s.w.ok();
}

/** GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] */
function getexCommand(s: Session, args: string[]): void {
  let expireOpt = '';
  let expireArg = '';
  let persist = false;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    const next = args[i + 1];
    if (opt === 'persist' && expireOpt === '' && !persist) persist = true;
    else if (isExpireOption(opt) && expireOpt === '' && !persist && next !== undefined) {
      expireOpt = opt;
      expireArg = next;
      i++;
    } else return syntaxError(s);
  }
  const key = args[1]!;
  const db = s.db;
  const e = db.lookup(key);
  if (e === undefined) {
    keyMissEvent(s, key);
    return s.w.null();
  }
  if (typeof e.value !== 'string') return wrongType(s);
  // Redis checks the expire value only once the key is known to be a string (a missing key: nil).
  const at = expireOpt === '' ? 0 : optionDeadline(s, expireOpt, expireArg, 'getex');
  if (at === null) return;
  const value = e.value;
  if (at !== 0) {
    if (at <= s.server.now) {
      db.delete(key);
      s.server.changed(db, key);
      delEvent(s, key);
      s.propagateAs = [['DEL', key]];
    } else {
      db.setExpire(key, e, at);
      s.server.changed(db, key);
      keyEvent(s, NOTIFY_GENERIC, 'expire', key);
      s.propagateAs = [['PEXPIREAT', key, String(at)]];
    }
  } else if (persist && db.persist(e)) {
    s.server.changed(db, key);
    keyEvent(s, NOTIFY_GENERIC, 'persist', key);
    s.propagateAs = [['PERSIST', key]];
  }
  s.w.bulk(value);
}

function getdelCommand(s: Session, args: string[]): void {
  const v = s.db.getString(args[1]!);
  if (v === WRONG_TYPE) return wrongType(s);
  if (v === undefined) {
    keyMissEvent(s, args[1]!);
    return s.w.null();
  }
  s.db.delete(args[1]!);
  s.server.changed(s.db, args[1]!);
  delEvent(s, args[1]!);
  s.propagateAs = [['DEL', args[1]!]];
  s.w.bulk(v);
}

function getsetCommand(s: Session, args: string[]): void {
  const v = s.db.getString(args[1]!);
  if (v === WRONG_TYPE) return wrongType(s);
  if (v === undefined) {
    keyMissEvent(s, args[1]!);
    newEvent(s, args[1]!);
  }
  s.db.set(args[1]!, args[2]!);
  s.server.changed(s.db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'set', args[1]!);
  s.propagateAs = [['SET', args[1]!, args[2]!]];
  s.w.bulkOrNull(v);
}

function mgetCommand(s: Session, args: string[]): void {
  s.w.array(args.length - 1);
  for (let i = 1; i < args.length; i++) {
    const v = s.db.getString(args[i]!);
    if (v === undefined || v === WRONG_TYPE) s.w.null();
    else s.w.bulk(v);
  }
}

function msetCommand(s: Session, args: string[]): void {
  if (args.length % 2 === 0) return s.w.error("ERR wrong number of arguments for 'mset' command");
  for (let i = 1; i < args.length; i += 2) {
    newEventIfAbsent(s, s.db, args[i]!);
    s.db.set(args[i]!, args[i + 1]!);
    s.server.changed(s.db, args[i]!);
    keyEvent(s, NOTIFY_STRING, 'set', args[i]!);
  }
  s.w.ok();
}

function msetnxCommand(s: Session, args: string[]): void {
  if (args.length % 2 === 0) return s.w.error("ERR wrong number of arguments for 'msetnx' command");
  for (let i = 1; i < args.length; i += 2) if (s.db.exists(args[i]!)) return s.w.integer(0);
  for (let i = 1; i < args.length; i += 2) {
    newEventIfAbsent(s, s.db, args[i]!);
    s.db.set(args[i]!, args[i + 1]!);
    s.server.changed(s.db, args[i]!);
    keyEvent(s, NOTIFY_STRING, 'set', args[i]!);
  }
  s.w.integer(1);
}

function maxStringBytes(s: Session): number {
  return s.server.config.getInt('proto-max-bulk-len');
}

function appendCommand(s: Session, args: string[]): void {
  const db = s.db;
  const e = db.lookup(args[1]!);
  if (e === undefined) {
    newEvent(s, args[1]!);
    db.add(args[1]!, args[2]!);
    s.server.changed(db, args[1]!);
    keyEvent(s, NOTIFY_STRING, 'append', args[1]!);
    return s.w.integer(args[2]!.length);
  }
  if (typeof e.value !== 'string') return wrongType(s);
  if (e.value.length + args[2]!.length > maxStringBytes(s)) return s.w.error(ERR.stringTooLong);
  e.value = e.value + args[2]!;
  s.server.changed(db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'append', args[1]!);
  s.w.integer(e.value.length);
}

function strlenCommand(s: Session, args: string[]): void {
  const v = s.db.getString(args[1]!);
  if (v === WRONG_TYPE) return wrongType(s);
  s.w.integer(v === undefined ? 0 : v.length);
}

function getrangeCommand(s: Session, args: string[]): void {
  const start0 = intArg(s, args[2]!);
  if (start0 === null) return;
  const end0 = intArg(s, args[3]!);
  if (end0 === null) return;
  const v = s.db.getString(args[1]!);
  if (v === WRONG_TYPE) return wrongType(s);
  if (v === undefined) return s.w.bulk('');
  let start = start0;
  let end = end0;
  const len = v.length;
  // Redis: both negative and start > end is empty; then negatives count from the end.
  if (start < 0 && end < 0 && start > end) return s.w.bulk('');
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return s.w.bulk('');
  s.w.bulk(v.slice(start, end + 1));
}

function setrangeCommand(s: Session, args: string[]): void {
  const offset = intArg(s, args[2]!);
  if (offset === null) return;
  if (offset < 0) return s.w.error('ERR offset is out of range');
  const value = args[3]!;
  const db = s.db;
  const e = db.lookup(args[1]!);
  if (e !== undefined && typeof e.value !== 'string') return wrongType(s);
  const old = (e?.value as string | undefined) ?? '';
  if (value.length === 0) return s.w.integer(old.length);
  if (offset + value.length > maxStringBytes(s)) return s.w.error(ERR.stringTooLong);
  const padded = old.length < offset ? old + '\0'.repeat(offset - old.length) : old;
  const next = padded.slice(0, offset) + value + padded.slice(offset + value.length);
  if (e === undefined) {
    newEvent(s, args[1]!);
    db.add(args[1]!, next);
  } else e.value = next;
  s.server.changed(db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'setrange', args[1]!);
  s.w.integer(next.length);
}

function incrByGeneric(s: Session, key: string, delta: number | bigint): void {
  const db = s.db;
  const e = db.lookup(key);
  let current: number | bigint = 0;
  if (e !== undefined) {
    if (typeof e.value !== 'string') return wrongType(s);
    const parsed = parseInt64(e.value);
    if (parsed === null) return s.w.error(ERR.notInteger);
    current = parsed;
  }
  let result: number | bigint;
  if (typeof current === 'number' && typeof delta === 'number' && Number.isSafeInteger(current + delta)) {
    result = current + delta;
  } else {
    const big = BigInt(current) + BigInt(delta);
    if (big > INT64_MAX || big < INT64_MIN) return s.w.error(ERR.overflow);
    result = big;
  }
  const text = String(result);
  if (e === undefined) {
    newEvent(s, key);
    db.add(key, text);
  } else e.value = text;
  s.server.changed(db, key);
  keyEvent(s, NOTIFY_STRING, 'incrby', key);
  if (typeof result === 'number') s.w.integer(result);
  else s.w.bigInteger(result);
}

function incrbyCommand(s: Session, args: string[]): void {
  const delta = int64Arg(s, args[2]!);
  if (delta !== null) incrByGeneric(s, args[1]!, delta);
}

function decrbyCommand(s: Session, args: string[]): void {
  const delta = int64Arg(s, args[2]!);
  if (delta === null) return;
  // Negating INT64_MIN overflows in Redis too.
  if (typeof delta === 'bigint' && delta === INT64_MIN) return s.w.error('ERR decrement would overflow');
  incrByGeneric(s, args[1]!, typeof delta === 'number' ? -delta : -delta);
}

function incrbyfloatCommand(s: Session, args: string[]): void {
  // Redis's order: the key's type, then its value, then the increment.
  const db = s.db;
  const e = db.lookup(args[1]!);
  if (e !== undefined && typeof e.value !== 'string') return wrongType(s);
  if (e !== undefined && parseFloatStrict(e.value as string) === null) return s.w.error(ERR.notFloat);
  if (floatArg(s, args[2]!) === null) return;
  // inf parses as a float but any sum with it is infinite (parseLongDouble refuses it).
  const current: LongDouble | null = e === undefined ? { m: 0n, e: 0 } : parseLongDouble(e.value as string);
  const incr = parseLongDouble(args[2]!);
  if (current === null || incr === null) return s.w.error(ERR.nanOrInf);
  const result = addLongDouble(current, incr);
  if (isInfiniteLongDouble(result)) return s.w.error(ERR.nanOrInf);
  const text = formatLongDoubleHuman(result);
  if (e === undefined) {
    newEvent(s, args[1]!);
    db.add(args[1]!, text);
  } else e.value = text;
  s.server.changed(db, args[1]!);
  keyEvent(s, NOTIFY_STRING, 'incrbyfloat', args[1]!);
  // Replicas must not redo float math: send the result, keeping the TTL.
  s.propagateAs = [['SET', args[1]!, text, 'KEEPTTL']];
  s.w.bulk(text);
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] */
function lcsCommand(s: Session, args: string[]): void {
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  // Redis checks the keys' types before it reads the options, and says so with ERR.
  const a = s.db.getString(args[1]!);
  const b = s.db.getString(args[2]!);
  if (a === WRONG_TYPE || b === WRONG_TYPE) return s.w.error('ERR The specified keys must contain string values');
  for (let i = 3; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && i + 1 < args.length) {
      const n = intArg(s, args[++i]!);
      if (n === null) return;
      minMatchLen = Math.max(0, n);
    } else return syntaxError(s);
  }
  if (getIdx && getLen) return s.w.error('ERR If you want both the length and indexes, please just use IDX.');
  const x = a ?? '';
  const y = b ?? '';
  const n = x.length;
  const m = y.length;
  // Classic DP table of LCS lengths, (n+1) x (m+1), as Redis does.
  const dp = new Uint32Array((n + 1) * (m + 1));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      dp[i * (m + 1) + j] = x.charCodeAt(i - 1) === y.charCodeAt(j - 1)
        ? dp[(i - 1) * (m + 1) + j - 1]! + 1
        : Math.max(dp[(i - 1) * (m + 1) + j]!, dp[i * (m + 1) + j - 1]!);
    }
  }
  const total = dp[n * (m + 1) + m]!;
  if (getLen) return s.w.integer(total);
  let lcs = '';
  const matches: Array<[number, number, number, number]> = [];
  let i = n;
  let j = m;
  let arange: [number, number] | null = null;
  let brange: [number, number] | null = null;
  const emit = () => {
    if (arange && brange) {
      const len = arange[1] - arange[0] + 1;
      if (minMatchLen === 0 || len >= minMatchLen) matches.push([arange[0], arange[1], brange[0], brange[1]]);
    }
    arange = brange = null;
  };
  while (i > 0 && j > 0) {
    if (x.charCodeAt(i - 1) === y.charCodeAt(j - 1)) {
      lcs = x[i - 1] + lcs;
      if (arange && arange[0] === i && brange && brange[0] === j) {
        arange[0] = i - 1;
        brange[0] = j - 1;
      } else {
        emit();
        arange = [i - 1, i - 1];
        brange = [j - 1, j - 1];
      }
      i--;
      j--;
    } else if (dp[(i - 1) * (m + 1) + j]! > dp[i * (m + 1) + j - 1]!) {
      i--;
    } else {
      j--;
    }
  }
  emit();
  if (!getIdx) return s.w.bulk(lcs);
  s.w.map(2);
  s.w.bulk('matches');
  s.w.array(matches.length);
  for (const [a0, a1, b0, b1] of matches) {
    s.w.array(withMatchLen ? 3 : 2);
    s.w.array(2);
    s.w.integer(a0);
    s.w.integer(a1);
    s.w.array(2);
    s.w.integer(b0);
    s.w.integer(b1);
    if (withMatchLen) s.w.integer(a1 - a0 + 1);
  }
  s.w.bulk('len');
  s.w.integer(total);
}

export const stringHandlers: HandlerMap = {
  get: getCommand,
  set: setCommand,
  setnx: setnxCommand,
  setex: (s, a) => setexGeneric(s, a, 1000, 'setex'),
  psetex: (s, a) => setexGeneric(s, a, 1, 'psetex'),
  getex: getexCommand,
  getdel: getdelCommand,
  getset: getsetCommand,
  mget: mgetCommand,
  mset: msetCommand,
  msetnx: msetnxCommand,
  append: appendCommand,
  strlen: strlenCommand,
  getrange: getrangeCommand,
  substr: getrangeCommand,
  setrange: setrangeCommand,
  incr: (s, a) => incrByGeneric(s, a[1]!, 1),
  decr: (s, a) => incrByGeneric(s, a[1]!, -1),
  incrby: incrbyCommand,
  decrby: decrbyCommand,
  incrbyfloat: incrbyfloatCommand,
  lcs: lcsCommand,
};
