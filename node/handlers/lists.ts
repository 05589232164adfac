// List commands, including the blocking ones (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP). Blocked
// clients park in the BlockingManager with a tryServe that pops, replies and propagates the
// deterministic form (LPOP/RPOP/LMOVE/RPOPLPUSH) itself, as Redis 7.0's serveClientBlockedOnList does.
import { ERR } from '../../common/errors.js';
import { type Db, WRONG_TYPE } from '../keyspace/db.js';
import { INT64_MIN } from '../keyspace/types/canonical-int.js';
import { ListValue } from '../keyspace/types/list-value.js';
import type { BlockedState, Session } from '../session.js';
import { isInExec } from './transactions.js';
import { NOTIFY_LIST, delEvent, keyEvent, newEvent } from './key-events.js';
import { type HandlerMap, int64Arg, intArg, is, normaliseRange, positiveIntArg, syntaxError, timeoutArg, wrongType } from './handler.js';

const RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative";
const COUNT_NOT_POSITIVE = 'ERR count should be greater than 0';

type End = 'left' | 'right';

/** LEFT/RIGHT (any case) or null after replying a syntax error. */
function endArg(s: Session, text: string): End | null {
  if (is(text, 'left')) return 'left';
  if (is(text, 'right')) return 'right';
  syntaxError(s);
  return null;
}

function popEnd(list: ListValue, end: End): string {
  return (end === 'left' ? list.popFront() : list.popBack()) as string;
}

function pushEnd(list: ListValue, end: End, value: string): void {
  if (end === 'left') list.pushFront(value);
  else list.pushBack(value);
}


/**
 * After items left a list (Redis's listElementsRemoved): the command's event, then the list is
 * deleted with a `del` event when empty (Redis never keeps empty containers).
 */
function elementsRemoved(s: Session, db: Db, key: string, list: ListValue, event: string): void {
  keyEvent(s, NOTIFY_LIST, event, key, db.id);
  if (list.length === 0) {
    db.delete(key);
    delEvent(s, key, db.id);
  }
}

function popEvent(end: End): string {
  return end === 'left' ? 'lpop' : 'rpop';
}

function pushEvent(end: End): string {
  return end === 'left' ? 'lpush' : 'rpush';
}

// ---- pushes --------------------------------------------------------------------------------

function pushGeneric(s: Session, args: string[], end: End, onlyIfExists: boolean): void {
  const key = args[1]!;
  let list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) {
    if (onlyIfExists) return s.w.integer(0);
    list = new ListValue();
    newEvent(s, key);
    s.db.add(key, list);
  }
  for (let i = 2; i < args.length; i++) pushEnd(list, end, args[i]!);
  s.server.changed(s.db, key, args.length - 2);
  keyEvent(s, NOTIFY_LIST, pushEvent(end), key);
  s.w.integer(list.length);
}

// ---- pops ----------------------------------------------------------------------------------

/** LPOP/RPOP key [count]: a bulk without count, an array with it (null array when the key is missing). */
function popGeneric(s: Session, args: string[], end: End): void {
  if (args.length > 3) return s.w.error(`ERR wrong number of arguments for '${args[0]!.toLowerCase()}' command`);
  const hasCount = args.length === 3;
  let count = 0;
  if (hasCount) {
    const n = positiveIntArg(s, args[2]!);
    if (n === null) return;
    count = n;
  }
  const key = args[1]!;
  const list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return hasCount ? s.w.nullArray() : s.w.null();
  if (!hasCount) {
    const value = popEnd(list, end);
    elementsRemoved(s, s.db, key, list, popEvent(end));
    s.server.changed(s.db, key);
    return s.w.bulk(value);
  }
  if (count === 0) return s.w.array(0);
  const n = Math.min(count, list.length);
  s.w.array(n);
  for (let i = 0; i < n; i++) s.w.bulk(popEnd(list, end));
  elementsRemoved(s, s.db, key, list, popEvent(end));
  s.server.changed(s.db, key, n);
}

/** Pops up to `count` items of a non-empty list and replies [key, [items…]] (LMPOP/BLMPOP). */
function popRangeWithKey(s: Session, db: Db, key: string, list: ListValue, end: End, count: number): number {
  const n = Math.min(count, list.length);
  s.w.array(2);
  s.w.bulk(key);
  s.w.array(n);
  for (let i = 0; i < n; i++) s.w.bulk(popEnd(list, end));
  elementsRemoved(s, db, key, list, popEvent(end));
  s.server.changed(db, key, n);
  return n;
}

// ---- reads ---------------------------------------------------------------------------------

function llenCommand(s: Session, args: string[]): void {
  const list = s.db.getList(args[1]!);
  if (list === WRONG_TYPE) return wrongType(s);
  s.w.integer(list === undefined ? 0 : list.length);
}

function lrangeCommand(s: Session, args: string[]): void {
  const start = intArg(s, args[2]!);
  if (start === null) return;
  const stop = intArg(s, args[3]!);
  if (stop === null) return;
  const list = s.db.getList(args[1]!);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.array(0);
  const range = normaliseRange(start, stop, list.length);
  if (range === null) return s.w.array(0);
  s.w.bulkArray(list.range(range[0], range[1]));
}

function lindexCommand(s: Session, args: string[]): void {
  const list = s.db.getList(args[1]!);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.null();
  const index = intArg(s, args[2]!);
  if (index === null) return;
  const i = index < 0 ? list.length + index : index;
  if (i < 0 || i >= list.length) return s.w.null();
  s.w.bulk(list.at(i));
}

/** LPOS key element [RANK rank] [COUNT num] [MAXLEN len] */
function lposCommand(s: Session, args: string[]): void {
  let rank = 1;
  let rankIsInt64Min = false;
  let count = -1; // -1: no COUNT option (reply a single index); 0: every match
  let maxlen = 0;
  for (let j = 3; j < args.length; j++) {
    const more = j + 1 < args.length;
    if (is(args[j], 'rank') && more) {
      const n = int64Arg(s, args[++j]!);
      if (n === null) return;
      if (n === 0) return s.w.error(RANK_ZERO);
      rank = Number(n);
      rankIsInt64Min = n === INT64_MIN;
    } else if (is(args[j], 'count') && more) {
      const n = nonNegativeArg(s, args[++j]!, COUNT_NEGATIVE);
      if (n === null) return;
      count = n;
    } else if (is(args[j], 'maxlen') && more) {
      const n = nonNegativeArg(s, args[++j]!, MAXLEN_NEGATIVE);
      if (n === null) return;
      maxlen = n;
    } else {
      return syntaxError(s);
    }
  }
  const list = s.db.getList(args[1]!);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return count === -1 ? s.w.null() : s.w.array(0);
  const element = args[2]!;
  const fromTail = rank < 0;
  // Matches to pass over before reporting. Redis negates RANK in a C long, so LONG_MIN stays
  // negative and then accepts the first match: mirror that overflow.
  const skip = rankIsInt64Min ? 0 : Math.abs(rank) - 1;
  const len = list.length;
  const limit = maxlen === 0 ? len : Math.min(maxlen, len);
  const found: number[] = [];
  let matches = 0;
  for (let scanned = 0; scanned < limit; scanned++) {
    const index = fromTail ? len - 1 - scanned : scanned;
    if (list.at(index) !== element) continue;
    if (matches++ < skip) continue;
    found.push(index);
    if (count === -1 || (count !== 0 && found.length >= count)) break;
  }
  if (count !== -1) {
    s.w.array(found.length);
    for (const index of found) s.w.integer(index);
  } else if (found.length > 0) s.w.integer(found[0]!);
  else s.w.null();
}

/** A count ≥ 0 whose errors (non-integer or negative) both reply `message`. */
function nonNegativeArg(s: Session, text: string, message: string): number | null {
  const n = intArg(s, text, message);
  if (n === null) return null;
  if (n < 0) {
    s.w.error(message);
    return null;
  }
  return n;
}

// ---- in-place writes -----------------------------------------------------------------------

function lsetCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.error(ERR.noSuchKey);
  const index = intArg(s, args[2]!);
  if (index === null) return;
  const i = index < 0 ? list.length + index : index;
  if (i < 0 || i >= list.length) return s.w.error(ERR.indexOutOfRange);
  list.set(i, args[3]!);
  s.server.changed(s.db, key);
  keyEvent(s, NOTIFY_LIST, 'lset', key);
  s.w.ok();
}

function lremCommand(s: Session, args: string[]): void {
  const count = intArg(s, args[2]!);
  if (count === null) return;
  const key = args[1]!;
  const list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.integer(0);
  const removed = list.remove(count, args[3]!);
  if (removed > 0) {
    elementsRemoved(s, s.db, key, list, 'lrem');
    s.server.changed(s.db, key, removed);
  }
  s.w.integer(removed);
}

function ltrimCommand(s: Session, args: string[]): void {
  const start = intArg(s, args[2]!);
  if (start === null) return;
  const stop = intArg(s, args[3]!);
  if (stop === null) return;
  const key = args[1]!;
  const list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.ok();
  const before = list.length;
  const range = normaliseRange(start, stop, before);
  if (range === null) list.clear();
  else if (range[0] > 0 || range[1] < before - 1) list.trim(range[0], range[1]);
  elementsRemoved(s, s.db, key, list, 'ltrim');
  // Redis signals the key even when nothing was trimmed, but only counts removed items as dirty.
  s.server.changed(s.db, key, before - list.length);
  s.w.ok();
}

function linsertCommand(s: Session, args: string[]): void {
  let after: boolean;
  if (is(args[2], 'after')) after = true;
  else if (is(args[2], 'before')) after = false;
  else return syntaxError(s);
  const key = args[1]!;
  const list = s.db.getList(key);
  if (list === WRONG_TYPE) return wrongType(s);
  if (list === undefined) return s.w.integer(0);
  const pivot = list.indexOf(args[3]!);
  if (pivot === -1) return s.w.integer(-1);
  if (after) list.insertAfter(pivot, args[4]!);
  else list.insertBefore(pivot, args[4]!);
  s.server.changed(s.db, key);
  keyEvent(s, NOTIFY_LIST, 'linsert', key);
  s.w.integer(list.length);
}

// ---- moves ---------------------------------------------------------------------------------

/**
 * Moves one item from a non-empty `src` list to `dstKey` (created if missing) and replies it.
 * `dst` was looked up (and type-checked) before the pop, so a same-key move rotates the list.
 */
function moveOne(s: Session, db: Db, srcKey: string, src: ListValue, dstKey: string, dst: ListValue | undefined, from: End, to: End): void {
  const value = popEnd(src, from);
  if (dst === undefined) {
    dst = new ListValue();
    newEvent(s, dstKey, db.id);
    db.add(dstKey, dst);
  }
  pushEnd(dst, to, value);
  // Redis pushes first (lmoveHandlePush: its event on the destination), then the source's pop.
  keyEvent(s, NOTIFY_LIST, pushEvent(to), dstKey, db.id);
  elementsRemoved(s, db, srcKey, src, popEvent(from));
  s.server.changed(db, srcKey);
  if (dstKey !== srcKey) s.server.changed(db, dstKey, 0);
  s.w.bulk(value);
}

/** LMOVE/RPOPLPUSH body; false when nothing was moved (reply already written). */
function moveGeneric(s: Session, srcKey: string, dstKey: string, from: End, to: End): boolean {
  const src = s.db.getList(srcKey);
  if (src === WRONG_TYPE) {
    wrongType(s);
    return false;
  }
  if (src === undefined) {
    s.w.null();
    return false;
  }
  const dst = s.db.getList(dstKey);
  if (dst === WRONG_TYPE) {
    wrongType(s);
    return false;
  }
  moveOne(s, s.db, srcKey, src, dstKey, dst, from, to);
  return true;
}

function rpoplpushCommand(s: Session, args: string[]): void {
  moveGeneric(s, args[1]!, args[2]!, 'right', 'left');
}

function lmoveCommand(s: Session, args: string[]): void {
  const from = endArg(s, args[3]!);
  if (from === null) return;
  const to = endArg(s, args[4]!);
  if (to === null) return;
  moveGeneric(s, args[1]!, args[2]!, from, to);
}

// ---- multi-key pops ------------------------------------------------------------------------

interface MpopArgs {
  keys: string[];
  end: End;
  count: number;
}

/** numkeys key… LEFT|RIGHT [COUNT n], starting at `numkeysIndex`; null after replying an error. */
function mpopArgs(s: Session, args: string[], numkeysIndex: number): MpopArgs | null {
  const numkeys = intArg(s, args[numkeysIndex]!, ERR.numkeysZero);
  if (numkeys === null) return null;
  if (numkeys < 1) {
    s.w.error(ERR.numkeysZero);
    return null;
  }
  const whereIndex = numkeysIndex + numkeys + 1;
  if (whereIndex >= args.length) {
    syntaxError(s);
    return null;
  }
  const end = endArg(s, args[whereIndex]!);
  if (end === null) return null;
  let count = -1;
  for (let j = whereIndex + 1; j < args.length; j++) {
    if (count === -1 && is(args[j], 'count') && j + 1 < args.length) {
      const n = intArg(s, args[++j]!, COUNT_NOT_POSITIVE);
      if (n === null) return null;
      if (n < 1) {
        s.w.error(COUNT_NOT_POSITIVE);
        return null;
      }
      count = n;
    } else {
      syntaxError(s);
      return null;
    }
  }
  return { keys: args.slice(numkeysIndex + 1, whereIndex), end, count: count === -1 ? 1 : count };
}

/** The first non-empty list among `keys`, undefined if none, or WRONG_TYPE (already replied). */
function firstNonEmpty(s: Session, keys: readonly string[]): [string, ListValue] | undefined | typeof WRONG_TYPE {
  for (const key of keys) {
    const list = s.db.getList(key);
    if (list === undefined) continue;
    if (list === WRONG_TYPE) {
      wrongType(s);
      return WRONG_TYPE;
    }
    if (list.length > 0) return [key, list];
  }
  return undefined;
}

/** Pops for LMPOP/BLMPOP from the first non-empty key; true when it replied (data or error). */
function mpopNow(s: Session, { keys, end, count }: MpopArgs): boolean {
  const found = firstNonEmpty(s, keys);
  if (found === WRONG_TYPE) return true;
  if (found === undefined) return false;
  const [key, list] = found;
  const n = popRangeWithKey(s, s.db, key, list, end, count);
  s.propagateAs = [[end === 'left' ? 'LPOP' : 'RPOP', key, String(n)]];
  return true;
}

function lmpopCommand(s: Session, args: string[]): void {
  const parsed = mpopArgs(s, args, 1);
  if (parsed === null) return;
  if (!mpopNow(s, parsed)) s.w.nullArray();
}

// ---- blocking ------------------------------------------------------------------------------

/** Redis denies blocking inside MULTI/EXEC: the command then answers as if it timed out at once. */
function mayBlock(s: Session): boolean {
  return !isInExec(s);
}

/** Parks `s` on `keys`; `serve` pops from a ready key and replies (false if it cannot serve yet). */
function blockOn(s: Session, keys: string[], deadline: number, serve: (db: Db, key: string) => boolean): void {
  const dbIndex = s.db.id;
  const state: BlockedState = {
    dbIndex,
    keys,
    deadline,
    tryServe: (key) => serve(s.server.dbs[dbIndex]!, key),
    // Every list wait times out with a null array, even BLMOVE/BRPOPLPUSH (replyToBlockedClientTimedOut).
    onTimeout: () => s.w.nullArray(),
  };
  s.server.blocking.block(s, state);
}

/** Pops one item of a non-empty list and replies [key, item] (BLPOP/BRPOP). */
function popOneWithKey(s: Session, db: Db, key: string, list: ListValue, end: End): void {
  s.w.array(2);
  s.w.bulk(key);
  s.w.bulk(popEnd(list, end));
  elementsRemoved(s, db, key, list, popEvent(end));
  s.server.changed(db, key);
}

/** BLPOP/BRPOP key… timeout */
function blockingPop(s: Session, args: string[], end: End): void {
  const deadline = timeoutArg(s, args[args.length - 1]!);
  if (deadline === null) return;
  const keys = args.slice(1, -1);
  const popName = end === 'left' ? 'LPOP' : 'RPOP';
  const found = firstNonEmpty(s, keys);
  if (found === WRONG_TYPE) return;
  if (found !== undefined) {
    popOneWithKey(s, s.db, found[0], found[1], end);
    s.propagateAs = [[popName, found[0]]];
    return;
  }
  if (!mayBlock(s)) return s.w.nullArray();
  blockOn(s, keys, deadline, (db, key) => {
    const list = db.getList(key);
    if (list === undefined || list === WRONG_TYPE || list.length === 0) return false;
    s.server.propagate(db.id, [popName, key]);
    popOneWithKey(s, db, key, list, end);
    return true;
  });
}

/** BLMOVE/BRPOPLPUSH: `timeoutText` parsed first, like Redis. `asRpoplpush` picks the propagated form. */
function blockingMove(s: Session, srcKey: string, dstKey: string, from: End, to: End, timeoutText: string, asRpoplpush: boolean): void {
  const deadline = timeoutArg(s, timeoutText);
  if (deadline === null) return;
  const moved = (): string[] => (asRpoplpush ? ['RPOPLPUSH', srcKey, dstKey] : ['LMOVE', srcKey, dstKey, from.toUpperCase(), to.toUpperCase()]);
  const src = s.db.getList(srcKey);
  if (src === WRONG_TYPE) return wrongType(s);
  if (src !== undefined) {
    if (moveGeneric(s, srcKey, dstKey, from, to)) s.propagateAs = [moved()];
    return;
  }
  if (!mayBlock(s)) return s.w.null();
  blockOn(s, [srcKey], deadline, (db, key) => {
    const list = db.getList(key);
    if (list === undefined || list === WRONG_TYPE || list.length === 0) return false;
    const dst = db.getList(dstKey);
    if (dst === WRONG_TYPE) {
      // Redis unblocks the client with the error and leaves the item in place.
      wrongType(s);
      return true;
    }
    s.server.propagate(db.id, moved());
    moveOne(s, db, key, list, dstKey, dst, from, to);
    return true;
  });
}

function brpoplpushCommand(s: Session, args: string[]): void {
  blockingMove(s, args[1]!, args[2]!, 'right', 'left', args[3]!, true);
}

function blmoveCommand(s: Session, args: string[]): void {
  const from = endArg(s, args[3]!);
  if (from === null) return;
  const to = endArg(s, args[4]!);
  if (to === null) return;
  blockingMove(s, args[1]!, args[2]!, from, to, args[5]!, false);
}

/** BLMPOP timeout numkeys key… LEFT|RIGHT [COUNT n]: options are checked before the timeout. */
function blmpopCommand(s: Session, args: string[]): void {
  const parsed = mpopArgs(s, args, 2);
  if (parsed === null) return;
  const deadline = timeoutArg(s, args[1]!);
  if (deadline === null) return;
  if (mpopNow(s, parsed)) return;
  if (!mayBlock(s)) return s.w.nullArray();
  const { end, count } = parsed;
  blockOn(s, parsed.keys, deadline, (db, key) => {
    const list = db.getList(key);
    if (list === undefined || list === WRONG_TYPE || list.length === 0) return false;
    const n = Math.min(count, list.length);
    s.server.propagate(db.id, [end === 'left' ? 'LPOP' : 'RPOP', key, String(n)]);
    popRangeWithKey(s, db, key, list, end, count);
    return true;
  });
}

export const listHandlers: HandlerMap = {
  lpush: (s, args) => pushGeneric(s, args, 'left', false),
  rpush: (s, args) => pushGeneric(s, args, 'right', false),
  lpushx: (s, args) => pushGeneric(s, args, 'left', true),
  rpushx: (s, args) => pushGeneric(s, args, 'right', true),
  lpop: (s, args) => popGeneric(s, args, 'left'),
  rpop: (s, args) => popGeneric(s, args, 'right'),
  llen: llenCommand,
  lrange: lrangeCommand,
  lindex: lindexCommand,
  lset: lsetCommand,
  lrem: lremCommand,
  ltrim: ltrimCommand,
  linsert: linsertCommand,
  lpos: lposCommand,
  rpoplpush: rpoplpushCommand,
  lmove: lmoveCommand,
  lmpop: lmpopCommand,
  blpop: (s, args) => blockingPop(s, args, 'left'),
  brpop: (s, args) => blockingPop(s, args, 'right'),
  brpoplpush: brpoplpushCommand,
  blmove: blmoveCommand,
  blmpop: blmpopCommand,
};
