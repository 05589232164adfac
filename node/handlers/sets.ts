// Set commands (SADD … SSCAN) with Redis 7.0.15's replies: SMEMBERS/SINTER/SUNION/SDIFF/SPOP-count
// are RESP3 sets, SRANDMEMBER-count is an array. SPOP propagates as SREM (or DEL when it empties).
import { ERR } from '../../common/errors.js';
import { globMatch } from '../../common/glob.js';
import { WRONG_TYPE, type WrongType } from '../keyspace/db.js';
import { SetValue } from '../keyspace/types/set-value.js';
import type { Session } from '../session.js';
import { type HandlerMap, intArg, is, positiveIntArg, syntaxError, wrongType } from './handler.js';
import { distinctRandomSlots, randomCountArg } from './hashes.js';
import { NOTIFY_SET, delEvent, keyEvent, keyMissEvent, newEvent, newEventIfAbsent } from './key-events.js';
import { emptyScanReply, parseScanCursor, scanOptions } from './scan-args.js';

const INVALID_CURSOR = 'ERR invalid cursor';
const TOO_MANY_NUMKEYS = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
/** Redis 7.0 splits SPOP's propagated SREM into commands of at most this many members. */
const SPOP_SREM_BATCH = 1024;

/** Writes members as a RESP3 set (~) or RESP2 array. */
function writeSet(s: Session, members: readonly string[]): void {
  s.w.set(members.length);
  for (const m of members) s.w.bulk(m);
}

/** A set built by adding `members` one by one, so its encoding follows them (intset while all-integer). */
function setOf(members: Iterable<string>): SetValue {
  const out = new SetValue();
  for (const m of members) out.add(m);
  return out;
}

// ---- single-key writes ---------------------------------------------------------------------

function saddCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  let set = s.db.getSet(key);
  if (set === WRONG_TYPE) return wrongType(s);
  if (set === undefined) {
    set = new SetValue();
    newEvent(s, key);
    s.db.add(key, set);
  }
  let added = 0;
  for (let i = 2; i < args.length; i++) if (set.add(args[i]!)) added++;
  if (added > 0) {
    s.server.changed(s.db, key, added);
    keyEvent(s, NOTIFY_SET, 'sadd', key);
  }
  s.w.integer(added);
}

function sremCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const set = s.db.getSet(key);
  if (set === WRONG_TYPE) return wrongType(s);
  if (set === undefined) return s.w.integer(0);
  let deleted = 0;
  let removed = false;
  for (let i = 2; i < args.length; i++) {
    if (!set.delete(args[i]!)) continue;
    deleted++;
    if (set.size === 0) {
      s.db.delete(key);
      removed = true;
      break;
    }
  }
  if (deleted > 0) {
    s.server.changed(s.db, key, deleted);
    keyEvent(s, NOTIFY_SET, 'srem', key);
    if (removed) delEvent(s, key);
  }
  s.w.integer(deleted);
}

/** SMOVE src dst member: a missing source wins over a wrong-typed destination (replies 0). */
function smoveCommand(s: Session, args: string[]): void {
  const [, srcKey, dstKey, member] = args as [string, string, string, string];
  const src = s.db.getSet(srcKey);
  const dst = s.db.getSet(dstKey);
  if (src === undefined) return s.w.integer(0);
  if (src === WRONG_TYPE || dst === WRONG_TYPE) return wrongType(s);
  if (src === dst) return s.w.integer(src.has(member) ? 1 : 0);
  if (!src.delete(member)) return s.w.integer(0);
  keyEvent(s, NOTIFY_SET, 'srem', srcKey);
  if (src.size === 0) {
    s.db.delete(srcKey);
    delEvent(s, srcKey);
  }
  s.server.changed(s.db, srcKey);
  let target = dst;
  if (target === undefined) {
    target = new SetValue();
    newEvent(s, dstKey);
    s.db.add(dstKey, target);
  }
  if (target.add(member)) {
    s.server.changed(s.db, dstKey);
    keyEvent(s, NOTIFY_SET, 'sadd', dstKey);
  }
  s.w.integer(1);
}

/** SPOP key [count]: the count form replies a set; both propagate deterministically. */
function spopCommand(s: Session, args: string[]): void {
  if (args.length > 3) return syntaxError(s);
  const key = args[1]!;
  if (args.length === 2) {
    const set = s.db.getSet(key);
    if (set === WRONG_TYPE) return wrongType(s);
    if (set === undefined) return s.w.null();
    const member = set.randomMember();
    set.delete(member);
    keyEvent(s, NOTIFY_SET, 'spop', key);
    if (set.size === 0) {
      s.db.delete(key);
      delEvent(s, key);
    }
    s.server.changed(s.db, key);
    s.propagateAs = [['SREM', key, member]];
    return s.w.bulk(member);
  }
  const count = positiveIntArg(s, args[2]!);
  if (count === null) return;
  const set = s.db.getSet(key);
  if (set === WRONG_TYPE) return wrongType(s);
  if (set === undefined || count === 0) return s.w.set(0);
  keyEvent(s, NOTIFY_SET, 'spop', key);
  if (count >= set.size) {
    // Redis replies through SUNION of the one set, so the reply's order is that of a fresh set.
    writeSet(s, setOf(set.members.keys).toArray());
    s.db.delete(key);
    delEvent(s, key);
    s.server.changed(s.db, key, count);
    s.propagateAs = [['DEL', key]];
    return;
  }
  const popped = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const member = set.memberAt(set.randomSlot());
    set.delete(member);
    popped[i] = member;
  }
  s.server.changed(s.db, key, count);
  const propagate: string[][] = [];
  for (let i = 0; i < count; i += SPOP_SREM_BATCH) propagate.push(['SREM', key, ...popped.slice(i, i + SPOP_SREM_BATCH)]);
  s.propagateAs = propagate;
  writeSet(s, popped);
}

// ---- single-key reads ----------------------------------------------------------------------

function smembersCommand(s: Session, args: string[]): void {
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  writeSet(s, set === undefined ? [] : set.toArray());
}

function sismemberCommand(s: Session, args: string[]): void {
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  s.w.integer(set !== undefined && set.has(args[2]!) ? 1 : 0);
}

function smismemberCommand(s: Session, args: string[]): void {
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) s.w.integer(set !== undefined && set.has(args[i]!) ? 1 : 0);
}

function scardCommand(s: Session, args: string[]): void {
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  s.w.integer(set === undefined ? 0 : set.size);
}

/** SRANDMEMBER key [count]: negative counts may repeat members; the count form is an array. */
function srandmemberCommand(s: Session, args: string[]): void {
  if (args.length > 3) return syntaxError(s);
  if (args.length === 2) {
    const set = s.db.getSet(args[1]!);
    if (set === WRONG_TYPE) return wrongType(s);
    if (set === undefined) return s.w.null();
    return s.w.bulk(set.randomMember());
  }
  const count = randomCountArg(s, args[2]!);
  if (count === null) return;
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  if (set === undefined || count === 0 || count === 0n) return s.w.array(0);
  const unique = count > 0;
  // Counts beyond 2^53 only reach the repeating branch; Redis would stream them forever too.
  const wanted = Number(unique ? count : -count);
  if (!unique || wanted === 1) {
    s.w.array(wanted);
    for (let i = 0; i < wanted; i++) s.w.bulk(set.randomMember());
    return;
  }
  if (wanted >= set.size) return s.w.bulkArray(set.toArray());
  const slots = distinctRandomSlots(set.size, wanted);
  s.w.array(wanted);
  for (const slot of slots) s.w.bulk(set.memberAt(slot));
}

/** SSCAN key cursor [MATCH p] [COUNT n]: an intset answers in one step, sorted. */
function sscanCommand(s: Session, args: string[]): void {
  const cursor = parseScanCursor(args[2]!);
  if (cursor === null) return s.w.error(INVALID_CURSOR);
  const set = s.db.getSet(args[1]!);
  if (set === WRONG_TYPE) return wrongType(s);
  if (set === undefined) return emptyScanReply(s);
  const opts = scanOptions(s, args, 3, { match: true, type: false });
  if (opts === null) return;
  const step = set.scan(cursor, opts.count);
  const pattern = opts.pattern;
  s.w.array(2);
  s.w.bulk(String(step.cursor));
  s.w.bulkArray(pattern === null ? step.items : step.items.filter((m) => globMatch(pattern, m)));
}

// ---- multi-key algebra ---------------------------------------------------------------------

/**
 * Looks up every source like Redis 7.0: all keys are type-checked (a missing key does not stop
 * the checks) and a missing key counts as an empty set. Null after replying WRONGTYPE.
 */
function sourceSets(s: Session, keys: readonly string[], store = false): Array<SetValue | undefined> | null {
  const sets = new Array<SetValue | undefined>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const set = s.db.getSet(keys[i]!);
    if (set === WRONG_TYPE) {
      wrongType(s);
      return null;
    }
    // A read-only command's misses are the dispatcher's keymiss events; a STORE form's are here.
    if (set === undefined && store) keyMissEvent(s, keys[i]!);
    sets[i] = set;
  }
  return sets;
}

/** Members of the intersection in the smallest set's order; stops after `limit` (0 = all). */
function intersect(sets: readonly SetValue[], limit: number): string[] {
  const bySize = sets.slice().sort((a, b) => a.size - b.size);
  const smallest = bySize[0]!;
  const out: string[] = [];
  for (const m of smallest.toArray()) {
    let inAll = true;
    for (let j = 1; j < bySize.length; j++) {
      const other = bySize[j]!;
      if (other !== smallest && !other.has(m)) {
        inAll = false;
        break;
      }
    }
    if (!inAll) continue;
    out.push(m);
    if (limit !== 0 && out.length >= limit) break;
  }
  return out;
}

/** Stores a *STORE result: a non-empty set replaces the destination (TTL dropped), an empty one deletes it. */
function storeResult(s: Session, dstKey: string, result: SetValue, event: string): void {
  if (result.size > 0) {
    newEventIfAbsent(s, s.db, dstKey);
    s.db.set(dstKey, result);
    s.server.changed(s.db, dstKey);
    keyEvent(s, NOTIFY_SET, event, dstKey);
  } else if (s.db.delete(dstKey)) {
    s.server.changed(s.db, dstKey);
    delEvent(s, dstKey);
  }
  s.w.integer(result.size);
}

function sinterGeneric(s: Session, keys: readonly string[], dstKey: string | null): void {
  const sets = sourceSets(s, keys, dstKey !== null);
  if (sets === null) return;
  const present = sets.filter((x): x is SetValue => x !== undefined);
  // Intersecting with a missing (empty) set is empty.
  const members = present.length < sets.length ? [] : intersect(present, 0);
  if (dstKey === null) return writeSet(s, members);
  storeResult(s, dstKey, setOf(members), 'sinterstore');
}

/** SINTERCARD numkeys key [key …] [LIMIT n] */
function sintercardCommand(s: Session, args: string[]): void {
  const numkeys = intArg(s, args[1]!, ERR.numkeysZero);
  if (numkeys === null) return;
  if (numkeys < 1) return s.w.error(ERR.numkeysZero);
  if (numkeys > args.length - 2) return s.w.error(TOO_MANY_NUMKEYS);
  let limit = 0;
  for (let i = 2 + numkeys; i < args.length; i++) {
    if (is(args[i], 'limit') && i + 1 < args.length) {
      const n = intArg(s, args[++i]!, LIMIT_NEGATIVE);
      if (n === null) return;
      if (n < 0) return s.w.error(LIMIT_NEGATIVE);
      limit = n;
    } else return syntaxError(s);
  }
  const sets = sourceSets(s, args.slice(2, 2 + numkeys));
  if (sets === null) return;
  if (sets.includes(undefined)) return s.w.integer(0);
  s.w.integer(intersect(sets as SetValue[], limit).length);
}

function unionOf(sets: ReadonlyArray<SetValue | undefined>): SetValue {
  const out = new SetValue();
  for (const set of sets) if (set !== undefined) for (const m of set.members.keys) out.add(m);
  return out;
}

/** Members of the first set found in none of the others; empty when a later key names the first set. */
function differenceOf(sets: ReadonlyArray<SetValue | undefined>): SetValue {
  const out = new SetValue();
  const first = sets[0];
  if (first === undefined) return out;
  for (let j = 1; j < sets.length; j++) if (sets[j] === first) return out;
  for (const m of first.members.keys) {
    let elsewhere = false;
    for (let j = 1; j < sets.length && !elsewhere; j++) elsewhere = sets[j]?.has(m) === true;
    if (!elsewhere) out.add(m);
  }
  return out;
}

/** SUNION/SDIFF and their STORE forms: the result is a fresh set, so its order is its encoding's. */
function unionDiffGeneric(s: Session, keys: readonly string[], dstKey: string | null, op: 'union' | 'diff'): void {
  const sets = sourceSets(s, keys, dstKey !== null);
  if (sets === null) return;
  const result = op === 'union' ? unionOf(sets) : differenceOf(sets);
  if (dstKey === null) return writeSet(s, result.toArray());
  storeResult(s, dstKey, result, op === 'union' ? 'sunionstore' : 'sdiffstore');
}

export const setHandlers: HandlerMap = {
  sadd: saddCommand,
  srem: sremCommand,
  smove: smoveCommand,
  spop: spopCommand,
  smembers: smembersCommand,
  sismember: sismemberCommand,
  smismember: smismemberCommand,
  scard: scardCommand,
  srandmember: srandmemberCommand,
  sscan: sscanCommand,
  sinter: (s, args) => sinterGeneric(s, args.slice(1), null),
  sinterstore: (s, args) => sinterGeneric(s, args.slice(2), args[1]!),
  sintercard: sintercardCommand,
  sunion: (s, args) => unionDiffGeneric(s, args.slice(1), null, 'union'),
  sunionstore: (s, args) => unionDiffGeneric(s, args.slice(2), args[1]!, 'union'),
  sdiff: (s, args) => unionDiffGeneric(s, args.slice(1), null, 'diff'),
  sdiffstore: (s, args) => unionDiffGeneric(s, args.slice(2), args[1]!, 'diff'),
};
