// Sorted-set commands, including the blocking ones (BZPOPMIN/BZPOPMAX/BZMPOP), ported from Redis
// 7.0.15's t_zset.c: same argument order of checks, same error texts, same RESP2/RESP3 shapes.
// Storage lives in ZSetValue; this file only parses, decides and replies.
import { ERR } from '../../common/errors.js';
import { formatDouble } from '../../common/resp/reply-writer.js';
import { globMatch } from '../../common/glob.js';
import { WRONG_TYPE } from '../keyspace/db.js';
import type { Db } from '../keyspace/db.js';
import { INT64_MAX, parseInt64 } from '../keyspace/types/canonical-int.js';
import { SetValue } from '../keyspace/types/set-value.js';
import { type LexRange, type ScoreRange, type ZSetEntry, ZSetValue, parseLexBound } from '../keyspace/types/zset-value.js';
import { strtodFull } from '../keyspace/sort.js';
import { encodingLimits } from '../keyspace/types/encoding-limits.js';
import type { Session } from '../session.js';
import { isInExec } from './transactions.js';
import { emptyScanReply, parseScanCursor, scanOptions } from './scan-args.js';
import { type HandlerMap, intArg, is, normaliseRange, syntaxError, timeoutArg, wrongType } from './handler.js';
import { DECIMAL_RE, parseDouble, zsetAt } from './zset-args.js';
import { NOTIFY_ZSET, delEvent, keyEvent, keyMissEvent, newEvent, newEventIfAbsent } from './key-events.js';

const NAN_SCORE = 'ERR resulting score is not a number (NaN)';
const XX_AND_NX = 'ERR XX and NX options at the same time are not compatible';
const GT_LT_NX = 'ERR GT, LT, and/or NX options at the same time are not compatible';
const INCR_SINGLE_PAIR = 'ERR INCR option supports a single increment-element pair';
const LIMIT_NEEDS_BY = 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const WITHSCORES_BYLEX = 'ERR syntax error, WITHSCORES not supported in combination with BYLEX';
const WEIGHT_NOT_FLOAT = 'ERR weight value is not a float';
const COUNT_NOT_POSITIVE = 'ERR count should be greater than 0';
const LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
const INVALID_CURSOR = 'ERR invalid cursor';
const OUT_OF_RANGE = 'ERR value is out of range';

/* ---------------------------------------------------------------- parsing */

/** One zslParseRange bound: plain strtod, so "" reads 0 and overflow reads ±inf; NaN refused. */
function parseScoreBound(text: string): number | null {
  if (text.length === 0) return 0;
  const n = strtodFull(text);
  if (n !== null) return n;
  return DECIMAL_RE.test(text) ? Number(text) : null; // ERANGE results strtod still returns
}

function parseScoreRange(minText: string, maxText: string): ScoreRange | null {
  const minExclusive = minText.charCodeAt(0) === 40; /* ( */
  const maxExclusive = maxText.charCodeAt(0) === 40;
  const min = parseScoreBound(minExclusive ? minText.slice(1) : minText);
  const max = parseScoreBound(maxExclusive ? maxText.slice(1) : maxText);
  if (min === null || max === null) return null;
  return { min, max, minExclusive, maxExclusive };
}

function parseLexRange(minText: string, maxText: string): LexRange | null {
  const min = parseLexBound(minText);
  const max = parseLexBound(maxText);
  if (min === null || max === null) return null;
  return { min: min.value, max: max.value, minExclusive: min.exclusive, maxExclusive: max.exclusive };
}

/** getRangeLongFromObjectOrReply with a custom message: any failure replies `message`. */
function rangedLong(s: Session, text: string, min: number, message: string): number | null {
  const n = parseInt64(text);
  if (n === null || n < BigInt(min)) {
    s.w.error(message);
    return null;
  }
  return Number(n);
}

/**
 * The score as Redis would read it back: a listpack keeps scores as text that loses the sign of
 * -0, a skiplist keeps the double. Replies computed before storing still show "-0".
 */
function storedScore(score: number, listpack: boolean): number {
  return listpack && score === 0 ? 0 : score;
}

/** A new zset holding `entries`, encoded as Redis encodes a stored result of that size. */
function buildStored(entries: readonly ZSetEntry[]): ZSetValue {
  const listpack =
    entries.length <= encodingLimits.zsetMaxListpackEntries &&
    entries.every((e) => e.member.length <= encodingLimits.zsetMaxListpackValue);
  const z = new ZSetValue();
  for (const e of entries) z.set(e.member, storedScore(e.score, listpack));
  return z;
}

/* ---------------------------------------------------------------- lookups and replies */

/**
 * The Db counts keyspace hits and misses only while a read-only command runs, but Redis's STORE
 * forms (ZRANGESTORE, ZUNIONSTORE …) read their sources with lookupKeyRead too: count those here.
 */
function countSourceLookup(s: Session, found: boolean, key: string): void {
  if (found) s.server.stats.keyspaceHits++;
  else {
    s.server.stats.keyspaceMisses++;
    keyMissEvent(s, key);
  }
}

/** Members (and scores) in the shape ZRANGE uses: RESP3 pairs [member, double], RESP2 flat. */
function replyEntries(s: Session, entries: readonly ZSetEntry[], withScores: boolean): void {
  const w = s.w;
  if (!withScores) {
    w.array(entries.length);
    for (const e of entries) w.bulk(e.member);
    return;
  }
  const nested = w.resp === 3;
  w.array(nested ? entries.length : entries.length * 2);
  for (const e of entries) {
    if (nested) w.array(2);
    w.bulk(e.member);
    w.double(e.score);
  }
}

/** Stores `entries` at `dst` (replacing any value and TTL), or deletes `dst` when empty; replies the size. */
function storeResult(s: Session, dst: string, entries: readonly ZSetEntry[], event: string): void {
  const db = s.db;
  const z = buildStored(entries);
  if (z.size > 0) {
    newEventIfAbsent(s, db, dst);
    db.set(dst, z);
    s.server.changed(db, dst);
    keyEvent(s, NOTIFY_ZSET, event, dst);
  } else if (db.delete(dst)) {
    s.server.changed(db, dst);
    delEvent(s, dst);
  }
  s.w.integer(z.size);
}

/**
 * After members left a zset: the command's event, then `key` deleted with a `del` event when the
 * zset became empty (Redis never keeps an empty container).
 */
function membersRemoved(s: Session, db: Db, key: string, z: ZSetValue, event: string): void {
  keyEvent(s, NOTIFY_ZSET, event, key, db.id);
  if (z.size === 0) {
    db.delete(key);
    delEvent(s, key, db.id);
  }
}

/* ---------------------------------------------------------------- ZADD / ZINCRBY */

interface ZAddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  incr: boolean;
}

type AddOutcome = 'added' | 'updated' | 'nop' | 'nan' | 'same';

/** zsetAdd: applies one element under the flags; `out.score` receives the resulting score. */
function zsetAdd(z: ZSetValue, score: number, member: string, f: ZAddFlags, out: { score: number }): AddOutcome {
  const slot = z.slotOf(member); // one lookup serves the read and the write
  if (slot !== undefined) {
    const current = z.scoreAt(slot);
    if (f.nx) return 'nop';
    if (f.incr) {
      score += current;
      if (Number.isNaN(score)) return 'nan';
    }
    if ((f.lt && score >= current) || (f.gt && score <= current)) return 'nop';
    out.score = score;
    if (score === current) return 'same';
    z.updateAt(slot, storedScore(score, z.encoding() === 'listpack'));
    return 'updated';
  }
  if (f.xx) return 'nop';
  out.score = score;
  const staysListpack =
    z.encoding() === 'listpack' && z.size < encodingLimits.zsetMaxListpackEntries && member.length <= encodingLimits.zsetMaxListpackValue;
  z.addAbsent(member, storedScore(score, staysListpack));
  return 'added';
}

/**
 * Scratch reused by every ZADD (handlers run one at a time, synchronously): the flags, the parsed
 * scores and the resulting score, so the common ZADD allocates nothing of its own.
 */
const zaddFlags: ZAddFlags = { nx: false, xx: false, gt: false, lt: false, incr: false };
const zaddScores: number[] = [];
/** Bound of the kept score scratch: a bigger ZADD parses into an array of its own. */
const ZADD_SCRATCH_MAX = 1024;
const zaddOut = { score: 0 };

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …, and ZINCRBY (incr preset). */
function zaddGeneric(s: Session, args: string[], presetIncr: boolean): void {
  const f = zaddFlags;
  f.nx = f.xx = f.gt = f.lt = false;
  f.incr = presetIncr;
  let ch = false;
  let i = 2;
  for (; i < args.length; i++) {
    const first = args[i]!.charCodeAt(0) | 0x20;
    if (first < 97 || first > 122) break; // a score, not a flag: skip the lower-casing copy
    const opt = args[i]!.toLowerCase();
    if (opt === 'nx') f.nx = true;
    else if (opt === 'xx') f.xx = true;
    else if (opt === 'ch') ch = true;
    else if (opt === 'incr') f.incr = true;
    else if (opt === 'gt') f.gt = true;
    else if (opt === 'lt') f.lt = true;
    else break;
  }
  const pairs = args.length - i;
  if (pairs === 0 || pairs % 2 !== 0) return syntaxError(s);
  if (f.nx && f.xx) return s.w.error(XX_AND_NX);
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) return s.w.error(GT_LT_NX);
  if (f.incr && pairs > 2) return s.w.error(INCR_SINGLE_PAIR);
  const n = pairs / 2;
  const scores = n <= ZADD_SCRATCH_MAX ? zaddScores : new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const score = parseDouble(args[i + j * 2]!);
    if (score === null) return s.w.error(ERR.notFloat);
    scores[j] = score;
  }
  const key = args[1]!;
  const db = s.db;
  let z = zsetAt(s, key);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  const out = zaddOut;
  out.score = 0;
  if (z === undefined && !f.xx) {
    z = new ZSetValue();
    newEvent(s, key);
    db.add(key, z);
  }
  if (z !== undefined) {
    for (let j = 0; j < n; j++) {
      const outcome = zsetAdd(z, scores[j]!, args[i + j * 2 + 1]!, f, out);
      // Only INCR on an existing member reaches NaN, and INCR has a single pair: nothing changed.
      if (outcome === 'nan') return s.w.error(NAN_SCORE);
      if (outcome === 'added') added++;
      else if (outcome === 'updated') updated++;
      if (outcome !== 'nop') processed++;
    }
  }
  // Read the scratch before `changed` (which may serve blocked clients) can run other handlers.
  const incr = f.incr;
  const result = out.score;
  if (z !== undefined && added + updated > 0) {
    s.server.changed(db, key, added + updated);
    keyEvent(s, NOTIFY_ZSET, incr ? 'zincr' : 'zadd', key);
  }
  if (incr) {
    if (processed > 0) s.w.double(result);
    else s.w.null();
    return;
  }
  s.w.integer(ch ? added + updated : added);
}

/* ---------------------------------------------------------------- simple reads and ZREM */

function zremCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const z = zsetAt(s, key);
  if (z === null) return;
  if (z === undefined) return s.w.integer(0);
  let removed = 0;
  for (let i = 2; i < args.length; i++) {
    if (z.remove(args[i]!)) {
      removed++;
      if (z.size === 0) break;
    }
  }
  if (removed > 0) {
    membersRemoved(s, s.db, key, z, 'zrem');
    s.server.changed(s.db, key, removed);
  }
  s.w.integer(removed);
}

function zscoreCommand(s: Session, args: string[]): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  const score = z?.score(args[2]!);
  if (score === undefined) s.w.null();
  else s.w.double(score);
}

function zmscoreCommand(s: Session, args: string[]): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = z?.score(args[i]!);
    if (score === undefined) s.w.null();
    else s.w.double(score);
  }
}

function zcardCommand(s: Session, args: string[]): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.integer(z?.size ?? 0);
}

function zcountCommand(s: Session, args: string[]): void {
  const range = parseScoreRange(args[2]!, args[3]!);
  if (range === null) return s.w.error(ERR.minMaxNotFloat);
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.integer(z === undefined ? 0 : z.countInScoreRange(range));
}

function zlexcountCommand(s: Session, args: string[]): void {
  const range = parseLexRange(args[2]!, args[3]!);
  if (range === null) return s.w.error(ERR.minMaxLex);
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.integer(z === undefined ? 0 : z.countInLexRange(range));
}

function zrankGeneric(s: Session, args: string[], reverse: boolean): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  const rank = z?.rank(args[2]!, reverse);
  if (rank === undefined) s.w.null();
  else s.w.integer(rank);
}

/* ---------------------------------------------------------------- ZRANGE family */

type RangeType = 'auto' | 'rank' | 'score' | 'lex';

interface RangeRequest {
  /** Index of the source key in args; min and max follow it. */
  keyIndex: number;
  /** ZRANGESTORE's destination, or null to reply the elements. */
  dst: string | null;
  rangeType: RangeType;
  /** null = not fixed by the command name (ZRANGE/ZRANGESTORE accept REV). */
  reverse: boolean | null;
}

/** zrangeGenericCommand: options, conflicts, range parsing, then the lookup, in Redis's order. */
function zrangeGeneric(s: Session, args: string[], req: RangeRequest): void {
  let rangeType = req.rangeType;
  let reverse = req.reverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = req.keyIndex + 3; j < args.length; j++) {
    const left = args.length - j - 1;
    const opt = args[j]!;
    if (req.dst === null && is(opt, 'withscores')) withScores = true;
    else if (is(opt, 'limit') && left >= 2) {
      const o = intArg(s, args[j + 1]!);
      if (o === null) return;
      const l = intArg(s, args[j + 2]!);
      if (l === null) return;
      offset = o;
      limit = l;
      j += 2;
    } else if (reverse === null && is(opt, 'rev')) reverse = true;
    else if (rangeType === 'auto' && is(opt, 'bylex')) rangeType = 'lex';
    else if (rangeType === 'auto' && is(opt, 'byscore')) rangeType = 'score';
    else return syntaxError(s);
  }
  const rev = reverse ?? false;
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') return s.w.error(LIMIT_NEEDS_BY);
  if (withScores && rangeType === 'lex') return s.w.error(WITHSCORES_BYLEX);
  // BY* ranges are written [max, min] when reversed.
  let minText = args[req.keyIndex + 1]!;
  let maxText = args[req.keyIndex + 2]!;
  if (rev && rangeType !== 'rank') [minText, maxText] = [maxText, minText];

  let rankRange: [number, number] = [0, 0];
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (rangeType === 'rank') {
    const start = intArg(s, minText);
    if (start === null) return;
    const stop = intArg(s, maxText);
    if (stop === null) return;
    rankRange = [start, stop];
  } else if (rangeType === 'score') {
    scoreRange = parseScoreRange(minText, maxText);
    if (scoreRange === null) return s.w.error(ERR.minMaxNotFloat);
  } else {
    lexRange = parseLexRange(minText, maxText);
    if (lexRange === null) return s.w.error(ERR.minMaxLex);
  }

  const z = zsetAt(s, args[req.keyIndex]!);
  if (req.dst !== null) countSourceLookup(s, z !== undefined, args[req.keyIndex]!);
  if (z === null) return;
  let entries: readonly ZSetEntry[] = [];
  if (z !== undefined) {
    if (rangeType === 'rank') {
      const r = normaliseRange(rankRange[0], rankRange[1], z.size);
      if (r !== null) entries = z.rangeByRank(r[0], r[1], rev);
    } else if (offset >= 0) {
      // A negative offset skips everything in Redis's loop; a negative limit means no limit.
      const options = { offset, limit, reverse: rev };
      entries = scoreRange !== null ? z.rangeByScore(scoreRange, options) : z.rangeByLex(lexRange!, options);
    }
  }
  if (req.dst === null) return replyEntries(s, entries, withScores);
  storeResult(s, req.dst, entries, 'zrangestore');
}

const rangeCommand =
  (keyIndex: number, rangeType: RangeType, reverse: boolean | null, store = false) =>
  (s: Session, args: string[]): void =>
    zrangeGeneric(s, args, { keyIndex, dst: store ? args[1]! : null, rangeType, reverse });

/* ---------------------------------------------------------------- ZREMRANGEBY* */

function zremrangeByRankCommand(s: Session, args: string[]): void {
  const start = intArg(s, args[2]!);
  if (start === null) return;
  const stop = intArg(s, args[3]!);
  if (stop === null) return;
  removeRange(s, args[1]!, 'zremrangebyrank', (z) => {
    const r = normaliseRange(start, stop, z.size);
    return r === null ? 0 : z.removeRangeByRank(r[0], r[1]);
  });
}

function zremrangeByScoreCommand(s: Session, args: string[]): void {
  const range = parseScoreRange(args[2]!, args[3]!);
  if (range === null) return s.w.error(ERR.minMaxNotFloat);
  removeRange(s, args[1]!, 'zremrangebyscore', (z) => z.removeRangeByScore(range));
}

function zremrangeByLexCommand(s: Session, args: string[]): void {
  const range = parseLexRange(args[2]!, args[3]!);
  if (range === null) return s.w.error(ERR.minMaxLex);
  removeRange(s, args[1]!, 'zremrangebylex', (z) => z.removeRangeByLex(range));
}

function removeRange(s: Session, key: string, event: string, remove: (z: ZSetValue) => number): void {
  const z = zsetAt(s, key);
  if (z === null) return;
  if (z === undefined) return s.w.integer(0);
  const removed = remove(z);
  if (removed > 0) {
    membersRemoved(s, s.db, key, z, event);
    s.server.changed(s.db, key, removed);
  }
  s.w.integer(removed);
}

/* ---------------------------------------------------------------- pops */

type PopShape =
  | 'flat' // ZPOPMIN/ZPOPMAX (RESP2, or RESP3 without count): member, score, …
  | 'pairs' // ZPOPMIN/ZPOPMAX with count in RESP3: [member, score], …
  | 'keyed' // BZPOPMIN/BZPOPMAX: key, member, score
  | 'keyedPairs'; // ZMPOP/BZMPOP: key, [[member, score], …]

/** Pops up to `count` from a non-empty zset, replies in `shape`, deletes an emptied key. */
function popAndReply(s: Session, db: Db, key: string, z: ZSetValue, max: boolean, count: number, shape: PopShape): void {
  const popped = max ? z.popMax(count) : z.popMin(count);
  const w = s.w;
  if (shape === 'flat') w.array(popped.length * 2);
  else if (shape === 'pairs') w.array(popped.length);
  else if (shape === 'keyed') {
    w.array(popped.length * 2 + 1);
    w.bulk(key);
  } else {
    w.array(2);
    w.bulk(key);
    w.array(popped.length);
  }
  const nested = shape === 'pairs' || shape === 'keyedPairs';
  for (const e of popped) {
    if (nested) w.array(2);
    w.bulk(e.member);
    w.double(e.score);
  }
  membersRemoved(s, db, key, z, max ? 'zpopmax' : 'zpopmin');
  s.server.changed(db, key, popped.length);
}

function zpopGeneric(s: Session, args: string[], max: boolean): void {
  if (args.length > 3) return syntaxError(s);
  let count = 1;
  const hasCount = args.length === 3;
  if (hasCount) {
    const n = parseInt64(args[2]!);
    if (n === null || n < 0n) return s.w.error(ERR.positiveCount);
    count = Number(n);
  }
  const key = args[1]!;
  const z = zsetAt(s, key);
  if (z === null) return;
  if (z === undefined || count === 0) return s.w.array(0);
  popAndReply(s, s.db, key, z, max, count, hasCount && s.w.resp === 3 ? 'pairs' : 'flat');
}

interface MultiPopRequest {
  keys: string[];
  max: boolean;
  count: number;
}

/** Parses ZMPOP/BZMPOP's `numkeys key… MIN|MAX [COUNT n]` starting at `numkeysIndex`; null after an error. */
function parseMultiPop(s: Session, args: string[], numkeysIndex: number): MultiPopRequest | null {
  const numkeys = rangedLong(s, args[numkeysIndex]!, 1, ERR.numkeysZero);
  if (numkeys === null) return null;
  const whereIndex = numkeysIndex + numkeys + 1;
  if (whereIndex >= args.length) {
    syntaxError(s);
    return null;
  }
  const where = args[whereIndex]!;
  if (!is(where, 'min') && !is(where, 'max')) {
    syntaxError(s);
    return null;
  }
  let count = -1;
  for (let j = whereIndex + 1; j < args.length; j++) {
    if (count === -1 && is(args[j], 'count') && j + 1 < args.length) {
      j++;
      const n = rangedLong(s, args[j]!, 1, COUNT_NOT_POSITIVE);
      if (n === null) return null;
      count = n;
    } else {
      syntaxError(s);
      return null;
    }
  }
  return { keys: args.slice(numkeysIndex + 1, whereIndex), max: is(where, 'max'), count: count === -1 ? 1 : count };
}

/** The first key holding a non-empty zset; null after replying WRONGTYPE for a key met before it. */
function firstNonEmpty(s: Session, keys: readonly string[]): [string, ZSetValue] | undefined | null {
  for (const key of keys) {
    const z = zsetAt(s, key);
    if (z === null) return null;
    if (z !== undefined && z.size > 0) return [key, z];
  }
  return undefined;
}

function zmpopCommand(s: Session, args: string[]): void {
  const req = parseMultiPop(s, args, 1);
  if (req === null) return;
  const found = firstNonEmpty(s, req.keys);
  if (found === null) return;
  if (found === undefined) return s.w.nullArray();
  popAndReply(s, s.db, found[0], found[1], req.max, req.count, 'keyedPairs');
  s.propagateAs = [[req.max ? 'ZPOPMAX' : 'ZPOPMIN', found[0], String(req.count)]];
}

/**
 * Pops now when a key is ready, else parks the client (BZPOPMIN/BZPOPMAX/BZMPOP). The served
 * pop is propagated as ZPOPMIN/ZPOPMAX key [count] so replicas never block.
 */
function blockingPop(s: Session, keys: string[], max: boolean, count: number | null, deadline: number): void {
  const shape: PopShape = count === null ? 'keyed' : 'keyedPairs';
  const popArgv = (key: string): string[] => {
    const argv = [max ? 'ZPOPMAX' : 'ZPOPMIN', key];
    if (count !== null) argv.push(String(count));
    return argv;
  };
  const found = firstNonEmpty(s, keys);
  if (found === null) return;
  if (found !== undefined) {
    popAndReply(s, s.db, found[0], found[1], max, count ?? 1, shape);
    s.propagateAs = [popArgv(found[0])];
    return;
  }
  if (isInExec(s)) return s.w.nullArray(); // inside MULTI: answer as on timeout
  const dbIndex = s.db.id;
  s.server.blocking.block(s, {
    dbIndex,
    keys,
    deadline,
    tryServe(key: string): boolean {
      const db = s.server.dbs[dbIndex]!;
      const z = db.getZSet(key);
      if (z === undefined || z === WRONG_TYPE || z.size === 0) return false;
      popAndReply(s, db, key, z, max, count ?? 1, shape);
      s.server.propagate(dbIndex, popArgv(key));
      return true;
    },
    onTimeout(): void {
      s.w.nullArray();
    },
  });
}

function bzpopGeneric(s: Session, args: string[], max: boolean): void {
  const deadline = timeoutArg(s, args[args.length - 1]!);
  if (deadline === null) return;
  blockingPop(s, args.slice(1, -1), max, null, deadline);
}

function bzmpopCommand(s: Session, args: string[]): void {
  const req = parseMultiPop(s, args, 2);
  if (req === null) return;
  const deadline = timeoutArg(s, args[1]!);
  if (deadline === null) return;
  blockingPop(s, req.keys, req.max, req.count, deadline);
}

/* ---------------------------------------------------------------- ZRANDMEMBER */

function zrandmemberCommand(s: Session, args: string[]): void {
  if (args.length === 2) {
    const z = zsetAt(s, args[1]!);
    if (z === null) return;
    if (z === undefined) return s.w.null();
    return s.w.bulk(z.memberAt(z.randomSlot()));
  }
  const n = parseInt64(args[2]!);
  if (n === null) return s.w.error(ERR.notInteger);
  if (n < -INT64_MAX) return s.w.error(`ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`);
  if (args.length > 4 || (args.length === 4 && !is(args[3], 'withscores'))) return syntaxError(s);
  const withScores = args.length === 4;
  if (withScores && (n < -INT64_MAX / 2n || n > INT64_MAX / 2n)) return s.w.error(OUT_OF_RANGE);
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  if (z === undefined || n === 0n) return s.w.array(0);
  const count = Number(n < 0n ? -n : n);
  const w = s.w;
  const pairReply = (slot: number): void => {
    if (withScores && w.resp === 3) w.array(2);
    w.bulk(z.memberAt(slot));
    if (withScores) w.double(z.scoreAt(slot));
  };
  const header = (items: number): void => w.array(withScores && w.resp === 2 ? items * 2 : items);
  if (n < 0n || count === 1) {
    // Repetitions allowed: independent picks.
    header(count);
    for (let i = 0; i < count; i++) pairReply(z.randomSlot());
    return;
  }
  if (count >= z.size) {
    header(z.size);
    for (const e of z) {
      if (withScores && w.resp === 3) w.array(2);
      w.bulk(e.member);
      if (withScores) w.double(e.score);
    }
    return;
  }
  header(count);
  for (const slot of distinctSlots(z, count)) pairReply(slot);
}

/** `count` distinct random slots (count < size): shuffle when dense, rejection-sample when sparse. */
function distinctSlots(z: ZSetValue, count: number): Iterable<number> {
  const size = z.size;
  if (count * 3 > size) {
    const slots = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    return slots.slice(0, count);
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(z.randomSlot());
  return picked;
}

/* ---------------------------------------------------------------- ZUNION / ZINTER / ZDIFF */

type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** One input of a set operation: a zset, a plain set (every score 1), or a missing key. */
interface OpSource {
  value: ZSetValue | SetValue | undefined;
  weight: number;
}

function sourceSize(src: OpSource): number {
  return src.value?.size ?? 0;
}

function sourceScore(src: OpSource, member: string): number | undefined {
  const v = src.value;
  if (v === undefined) return undefined;
  if (v instanceof SetValue) return v.has(member) ? 1 : undefined;
  return v.score(member);
}

function forEachElement(src: OpSource, visit: (member: string, score: number) => void): void {
  const v = src.value;
  if (v === undefined) return;
  if (v instanceof SetValue) for (const m of v) visit(m, 1);
  else for (const e of v) visit(e.member, e.score);
}

/** zunionInterAggregate: a SUM of inf and -inf is 0, never NaN. */
function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === 'sum') {
    const sum = target + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === 'min') return value < target ? value : target;
  return value > target ? value : target;
}

/** Weighted input score; NaN (0 × inf) counts as 0. */
function weighted(src: OpSource, score: number): number {
  const v = src.weight * score;
  return Number.isNaN(v) ? 0 : v;
}

interface SetOpRequest {
  sources: OpSource[];
  aggregate: Aggregate;
  withScores: boolean;
  limit: number;
}

/**
 * Parses `numkeys key… [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] | [LIMIT n]` as
 * zunionInterDiffGenericCommand does (key types are checked before the options); null after an error.
 */
function parseSetOp(s: Session, args: string[], numkeysIndex: number, op: SetOp, store: boolean, cardOnly: boolean): SetOpRequest | null {
  const setnum = intArg(s, args[numkeysIndex]!);
  if (setnum === null) return null;
  if (setnum < 1) {
    s.w.error(`ERR at least 1 input key is needed for '${args[0]!.toLowerCase()}' command`);
    return null;
  }
  if (setnum > args.length - (numkeysIndex + 1)) {
    syntaxError(s);
    return null;
  }
  const sources: OpSource[] = [];
  let j = numkeysIndex + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const e = s.db.lookup(args[j]!);
    if (store) countSourceLookup(s, e !== undefined, args[j]!);
    if (e !== undefined && !(e.value instanceof ZSetValue) && !(e.value instanceof SetValue)) {
      wrongType(s);
      return null;
    }
    sources.push({ value: e?.value as ZSetValue | SetValue | undefined, weight: 1 });
  }
  const req: SetOpRequest = { sources, aggregate: 'sum', withScores: false, limit: 0 };
  while (j < args.length) {
    const remaining = args.length - j;
    const opt = args[j]!;
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && is(opt, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = parseDouble(args[j]!);
        if (w === null) {
          s.w.error(WEIGHT_NOT_FLOAT);
          return null;
        }
        sources[i]!.weight = w;
      }
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && is(opt, 'aggregate')) {
      const how = args[j + 1]!.toLowerCase();
      if (how !== 'sum' && how !== 'min' && how !== 'max') {
        syntaxError(s);
        return null;
      }
      req.aggregate = how;
      j += 2;
    } else if (!store && !cardOnly && is(opt, 'withscores')) {
      req.withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && is(opt, 'limit')) {
      const n = parseInt64(args[j + 1]!);
      if (n === null || n < 0n) {
        s.w.error(LIMIT_NEGATIVE);
        return null;
      }
      req.limit = Number(n);
      j += 2;
    } else {
      syntaxError(s);
      return null;
    }
  }
  return req;
}

/** Computes the result zset; union and inter visit inputs smallest first, as Redis does (float sums depend on it). */
function computeSetOp(op: SetOp, req: SetOpRequest): ZSetValue {
  const out = new ZSetValue();
  const sources = op === 'diff' ? req.sources : stableSortBySize(req.sources);
  if (op === 'union') {
    const acc = new Map<string, number>();
    for (const src of sources) {
      forEachElement(src, (member, score) => {
        const v = weighted(src, score);
        const prev = acc.get(member);
        acc.set(member, prev === undefined ? v : aggregate(prev, v, req.aggregate));
      });
    }
    for (const [member, score] of acc) out.set(member, score);
  } else if (op === 'inter') {
    const [first, ...rest] = sources;
    if (sourceSize(first!) === 0) return out;
    forEachElement(first!, (member, score) => {
      let acc = weighted(first!, score);
      for (const src of rest) {
        const other = sourceScore(src, member);
        if (other === undefined) return;
        acc = aggregate(acc, src.weight * other, req.aggregate);
      }
      out.set(member, acc);
    });
  } else {
    const [first, ...rest] = sources;
    forEachElement(first!, (member, score) => {
      for (const src of rest) if (sourceScore(src, member) !== undefined) return;
      out.set(member, score);
    });
  }
  return out;
}

function stableSortBySize(sources: OpSource[]): OpSource[] {
  return sources
    .map((src, i) => ({ src, i }))
    .sort((a, b) => sourceSize(a.src) - sourceSize(b.src) || a.i - b.i)
    .map((x) => x.src);
}

const STORE_EVENTS: Record<SetOp, string> = { union: 'zunionstore', inter: 'zinterstore', diff: 'zdiffstore' };

const setOpCommand =
  (op: SetOp, store: boolean) =>
  (s: Session, args: string[]): void => {
    const req = parseSetOp(s, args, store ? 2 : 1, op, store, false);
    if (req === null) return;
    const result = computeSetOp(op, req);
    if (store) return storeResult(s, args[1]!, [...result], STORE_EVENTS[op]);
    replyEntries(s, [...result], req.withScores);
  };

function zintercardCommand(s: Session, args: string[]): void {
  const req = parseSetOp(s, args, 1, 'inter', false, true);
  if (req === null) return;
  const [first, ...rest] = stableSortBySize(req.sources);
  let count = 0;
  if (sourceSize(first!) > 0) {
    const limit = req.limit === 0 ? Infinity : req.limit;
    const members = first!.value instanceof SetValue ? first!.value.toArray() : [...(first!.value as ZSetValue)].map((e) => e.member);
    for (const member of members) {
      if (rest.every((src) => sourceScore(src, member) !== undefined) && ++count >= limit) break;
    }
  }
  s.w.integer(count);
}

/* ---------------------------------------------------------------- ZSCAN */

function zscanCommand(s: Session, args: string[]): void {
  const cursor = parseScanCursor(args[2]!);
  if (cursor === null) return s.w.error(INVALID_CURSOR);
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  if (z === undefined) return emptyScanReply(s);
  const opts = scanOptions(s, args, 3, { match: true, type: false });
  if (opts === null) return;
  const { count, pattern } = opts;
  const step = z.scan(cursor, count);
  const entries = pattern === null ? step.entries : step.entries.filter((e) => globMatch(pattern, e.member));
  s.w.array(2);
  s.w.bulk(String(step.cursor));
  s.w.array(entries.length * 2);
  for (const e of entries) {
    s.w.bulk(e.member);
    s.w.bulk(formatDouble(e.score));
  }
}

/* ---------------------------------------------------------------- table */

export const zsetHandlers: HandlerMap = {
  zadd: (s, args) => zaddGeneric(s, args, false),
  zincrby: (s, args) => zaddGeneric(s, args, true),
  zrem: zremCommand,
  zscore: zscoreCommand,
  zmscore: zmscoreCommand,
  zcard: zcardCommand,
  zcount: zcountCommand,
  zlexcount: zlexcountCommand,
  zrank: (s, args) => zrankGeneric(s, args, false),
  zrevrank: (s, args) => zrankGeneric(s, args, true),
  zrange: rangeCommand(1, 'auto', null),
  zrangestore: rangeCommand(2, 'auto', null, true),
  zrevrange: rangeCommand(1, 'rank', true),
  zrangebyscore: rangeCommand(1, 'score', false),
  zrevrangebyscore: rangeCommand(1, 'score', true),
  zrangebylex: rangeCommand(1, 'lex', false),
  zrevrangebylex: rangeCommand(1, 'lex', true),
  zremrangebyrank: zremrangeByRankCommand,
  zremrangebyscore: zremrangeByScoreCommand,
  zremrangebylex: zremrangeByLexCommand,
  zpopmin: (s, args) => zpopGeneric(s, args, false),
  zpopmax: (s, args) => zpopGeneric(s, args, true),
  zmpop: zmpopCommand,
  bzpopmin: (s, args) => bzpopGeneric(s, args, false),
  bzpopmax: (s, args) => bzpopGeneric(s, args, true),
  bzmpop: bzmpopCommand,
  zrandmember: zrandmemberCommand,
  zunion: setOpCommand('union', false),
  zinter: setOpCommand('inter', false),
  zdiff: setOpCommand('diff', false),
  zunionstore: setOpCommand('union', true),
  zinterstore: setOpCommand('inter', true),
  zdiffstore: setOpCommand('diff', true),
  zintercard: zintercardCommand,
  zscan: zscanCommand,
};
