// Keyspace commands (Redis group generic: DEL … SORT, plus DBSIZE/FLUSHDB/FLUSHALL/SWAPDB) and the
// Codis-style SLOTSINFO/SLOTSSCAN over the per-slot index. Replies follow Redis 7.0.15 byte for byte.
import { ERR, invalidExpire } from '../../common/errors.js';
import { globMatch } from '../../common/glob.js';
import { SLOT_COUNT } from '../../common/slots.js';
import { type Db, type Entry, MAX_DEADLINE_MS } from '../keyspace/db.js';
import { type SortOptions, type Sortable, sortValue } from '../keyspace/sort.js';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../keyspace/types/canonical-int.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import { encodingOf, typeNameOf } from '../keyspace/types/value.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import { idleSeconds, isLfuPolicy, lfuFrequency, lfuStamp, lruStampForIdle } from '../eviction.js';
import { cloneValue } from '../keyspace/value-clone.js';
import { createDumpPayload, parseDumpPayload } from '../persistence/dump.js';
import type { Session } from '../session.js';
import { type ScanOptions, parseScanCursor, scanOptions } from './scan-args.js';
import { type HandlerMap, intArg, is, syntaxError, wrongType } from './handler.js';
import { NOTIFY_GENERIC, delEvent, keyEvent, keyMissEvent, newEvent, newEventIfAbsent } from './key-events.js';

const INT32_MAX = 2 ** 31 - 1;
/** Refcount Redis reports for its shared small integers (OBJ_SHARED_REFCOUNT = INT_MAX). */
const SHARED_REFCOUNT = 2147483647;
const SHARED_INTEGERS = 10000;

const E = {
  sameObject: 'ERR source and destination objects are the same',
  invalidCursor: 'ERR invalid cursor',
  invalidTtl: 'ERR Invalid TTL value, must be >= 0',
  invalidIdle: 'ERR Invalid IDLETIME value, must be >= 0',
  invalidFreq: 'ERR Invalid FREQ value, must be >= 0 and <= 255',
  notDouble: "ERR One or more scores can't be converted into double",
  nxWithOthers: 'ERR NX and XX, GT or LT options at the same time are not compatible',
  gtAndLt: 'ERR GT and LT options at the same time are not compatible',
  lfuNotSelected:
    'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
  lfuSelected:
    'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
  invalidSlot: 'ERR invalid slot number',
  notInt32: 'ERR value is out of range, value must between -2147483648 and 2147483647',
} as const;

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

// ---------------------------------------------------------------- existence and deletion

function delCommand(s: Session, args: string[]): void {
  const db = s.db;
  let deleted = 0;
  for (let i = 1; i < args.length; i++) {
    if (db.delete(args[i]!)) {
      s.server.changed(db, args[i]!);
      delEvent(s, args[i]!);
      deleted++;
    }
  }
  s.w.integer(deleted);
}

function existsCommand(s: Session, args: string[]): void {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (s.db.peek(args[i]!) !== undefined) n++;
  s.w.integer(n);
}

function touchCommand(s: Session, args: string[]): void {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (s.db.lookup(args[i]!) !== undefined) n++;
  s.w.integer(n);
}

function typeCommand(s: Session, args: string[]): void {
  const e = s.db.peek(args[1]!);
  s.w.simple(e === undefined ? 'none' : typeNameOf(e.value));
}

// ---------------------------------------------------------------- TTLs

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** NX|XX|GT|LT after the time argument (parseExtendedExpireArgumentsOrReply); null after an error. */
function expireFlags(s: Session, args: string[]): number | null {
  let flags = 0;
  for (let i = 3; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (opt === 'nx') flags |= EXPIRE_NX;
    else if (opt === 'xx') flags |= EXPIRE_XX;
    else if (opt === 'gt') flags |= EXPIRE_GT;
    else if (opt === 'lt') flags |= EXPIRE_LT;
    else {
      s.w.error(`ERR Unsupported option ${args[i]!}`);
      return null;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    s.w.error(E.nxWithOthers);
    return null;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    s.w.error(E.gtAndLt);
    return null;
  }
  return flags;
}

/** Whether the NX/XX/GT/LT conditions allow replacing deadline `current` (-1 = none) by `when`. */
function expireAllowed(flags: number, current: number, when: bigint): boolean {
  if (flags & EXPIRE_NX && current !== -1) return false;
  if (flags & EXPIRE_XX && current === -1) return false;
  if (flags & EXPIRE_GT && (current === -1 || when <= BigInt(current))) return false;
  if (flags & EXPIRE_LT && current !== -1 && when >= BigInt(current)) return false;
  return true;
}

/** expireGenericCommand: EXPIRE/PEXPIRE (relative) and EXPIREAT/PEXPIREAT (absolute). */
function expireGeneric(s: Session, args: string[], unitMs: 1 | 1000, absolute: boolean): void {
  const flags = expireFlags(s, args);
  if (flags === null) return;
  const parsed = parseInt64(args[2]!);
  if (parsed === null) return s.w.error(ERR.notInteger);
  let when = BigInt(parsed);
  const command = args[0]!.toLowerCase();
  // Refuse what would overflow a signed 64-bit ms deadline, like Redis.
  if (unitMs === 1000) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) return s.w.error(invalidExpire(command));
    when *= 1000n;
  }
  const base = absolute ? 0n : BigInt(s.server.now);
  if (when > INT64_MAX - base) return s.w.error(invalidExpire(command));
  when += base;
  const key = args[1]!;
  const db = s.db;
  const e = db.lookup(key);
  if (e === undefined) return s.w.integer(0);
  if (flags !== 0 && !expireAllowed(flags, e.expireAt === 0 ? -1 : e.expireAt, when)) return s.w.integer(0);
  if (when <= BigInt(s.server.now) && db.deletesExpired()) {
    // A deadline already past deletes the key; replicas and the AOF see the DEL. (Not while the
    // AOF loads: the key stays for its later commands there, and expires once loading is done.)
    db.delete(key);
    s.server.changed(db, key);
    delEvent(s, key);
    s.propagateAs = [['DEL', key]];
    return s.w.integer(1);
  }
  const at = Number(when);
  db.setExpire(key, e, at);
  s.server.changed(db, key);
  keyEvent(s, NOTIFY_GENERIC, 'expire', key);
  s.propagateAs = [['PEXPIREAT', key, when.toString()]];
  s.w.integer(1);
}

/** ttlGenericCommand: TTL/PTTL (remaining) and EXPIRETIME/PEXPIRETIME (absolute). */
function ttlGeneric(s: Session, args: string[], inMs: boolean, absolute: boolean): void {
  const e = s.db.peek(args[1]!);
  if (e === undefined) return s.w.integer(-2);
  if (e.expireAt === 0) return s.w.integer(-1);
  if (absolute) return s.w.integer(inMs ? e.expireAt : Math.floor(e.expireAt / 1000));
  const ttl = Math.max(0, e.expireAt - s.server.now);
  s.w.integer(inMs ? ttl : Math.floor((ttl + 500) / 1000));
}

function persistCommand(s: Session, args: string[]): void {
  const e = s.db.lookup(args[1]!);
  if (e === undefined || !s.db.persist(e)) return s.w.integer(0);
  s.server.changed(s.db, args[1]!);
  keyEvent(s, NOTIFY_GENERIC, 'persist', args[1]!);
  s.w.integer(1);
}

// ---------------------------------------------------------------- renaming, moving, copying

function renameGeneric(s: Session, args: string[], nx: boolean): void {
  const [, from, to] = args as [string, string, string];
  const db = s.db;
  const e = db.lookup(from);
  if (e === undefined) return s.w.error(ERR.noSuchKey);
  if (from === to) return nx ? s.w.integer(0) : s.w.ok();
  if (db.lookup(to) !== undefined && nx) return s.w.integer(0);
  const lru = e.lru;
  newEvent(s, to); // Redis adds the value under the new name (dbAdd) even over an existing key
  db.rename(from, e, to);
  db.peek(to)!.lru = lru; // the value keeps its access history, as the robj does in Redis
  s.server.changed(db, from);
  s.server.changed(db, to, 0);
  if (s.server.notifyFlags !== 0) {
    keyEvent(s, NOTIFY_GENERIC, 'rename_from', from);
    keyEvent(s, NOTIFY_GENERIC, 'rename_to', to);
  }
  if (nx) s.w.integer(1);
  else s.w.ok();
}

/** A db index argument (getIntFromObjectOrReply + selectDb); null after replying the error. */
function dbArg(s: Session, text: string): Db | null {
  const n = parseInt64(text);
  if (n === null) {
    s.w.error(ERR.notInteger);
    return null;
  }
  if (typeof n === 'bigint' || n > INT32_MAX || n < -INT32_MAX - 1) {
    s.w.error(E.notInt32);
    return null;
  }
  const db = s.server.dbs[n];
  if (db === undefined) {
    s.w.error(ERR.dbIndexOutOfRange);
    return null;
  }
  return db;
}

/** Adds `value` under `key` in `db` with the given deadline and access stamp. */
function addWithTtl(db: Db, key: string, value: Entry['value'], expireAt: number, lru: number): Entry {
  const e = db.add(key, value);
  if (expireAt !== 0) db.setExpire(key, e, expireAt);
  e.lru = lru;
  return e;
}

function moveCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const src = s.db;
  const dst = dbArg(s, args[2]!);
  if (dst === null) return;
  if (dst === src) return s.w.error(E.sameObject);
  const e = src.lookup(key);
  if (e === undefined || dst.lookup(key) !== undefined) return s.w.integer(0);
  newEvent(s, key, dst.id);
  addWithTtl(dst, key, e.value, e.expireAt, e.lru);
  src.delete(key);
  s.server.changed(src, key);
  s.server.changed(dst, key, 0);
  if (s.server.notifyFlags !== 0) {
    keyEvent(s, NOTIFY_GENERIC, 'move_from', key, src.id);
    keyEvent(s, NOTIFY_GENERIC, 'move_to', key, dst.id);
  }
  s.w.integer(1);
}

/** COPY source destination [DB destination-db] [REPLACE] */
function copyCommand(s: Session, args: string[]): void {
  const src = s.db;
  let dst = src;
  let replace = false;
  for (let i = 3; i < args.length; i++) {
    if (is(args[i], 'replace')) replace = true;
    else if (is(args[i], 'db') && i + 1 < args.length) {
      const db = dbArg(s, args[++i]!);
      if (db === null) return;
      dst = db;
    } else return syntaxError(s);
  }
  const [, from, to] = args as [string, string, string];
  if (src === dst && from === to) return s.w.error(E.sameObject);
  const e = src.lookup(from);
  if (e === undefined) {
    keyMissEvent(s, from);
    return s.w.integer(0);
  }
  if (dst.lookup(to) !== undefined) {
    if (!replace) return s.w.integer(0);
    dst.delete(to);
  }
  newEvent(s, to, dst.id);
  addWithTtl(dst, to, cloneValue(e.value), e.expireAt, s.server.eviction.accessClock(null));
  s.server.changed(dst, to);
  keyEvent(s, NOTIFY_GENERIC, 'copy_to', to, dst.id);
  s.w.integer(1);
}

// ---------------------------------------------------------------- iteration

function keysCommand(s: Session, args: string[]): void {
  const pattern = args[1]!;
  const all = pattern === '*';
  const now = s.server.now;
  const out: string[] = [];
  // Like Redis, expired keys are skipped but not deleted here.
  for (const [key, e] of s.db.dict) {
    if (e.expireAt !== 0 && e.expireAt <= now) continue;
    if (s.db.isHidden(key)) continue; // a partial import (keyspace/slot-index.ts)
    if (all || globMatch(pattern, key)) out.push(key);
  }
  s.w.bulkArray(out);
}

/** A SCAN cursor as strtoul reads it ("" is 0, a leading sign is allowed); null if invalid. */
/** Drops keys that miss the pattern or type, and (lazily expiring them) keys past their TTL. */
function filterScanned(db: Db, keys: string[], opts: ScanOptions): string[] {
  const out: string[] = [];
  for (const key of keys) {
    if (opts.pattern !== null && !globMatch(opts.pattern, key)) continue;
    const e = db.peek(key);
    if (e === undefined) continue;
    if (opts.type !== null && typeNameOf(e.value) !== opts.type) continue;
    out.push(key);
  }
  return out;
}

function writeScanReply(s: Session, cursor: number, keys: string[]): void {
  s.w.array(2);
  s.w.bulk(String(cursor));
  s.w.bulkArray(keys);
}

function scanCommand(s: Session, args: string[]): void {
  const cursor = parseScanCursor(args[1]!);
  if (cursor === null) return s.w.error(E.invalidCursor);
  const opts = scanOptions(s, args, 2, { match: true, type: true });
  if (opts === null) return;
  const db = s.db;
  const visited: string[] = [];
  // Collect first, filter after: lazily expiring keys must not disturb the slot walk.
  const next = db.scan(cursor, opts.count, (key) => visited.push(key));
  writeScanReply(s, next, filterScanned(db, visited, opts));
}

function randomkeyCommand(s: Session): void {
  s.w.bulkOrNull(s.db.randomKey());
}

// ---------------------------------------------------------------- whole databases

function dbsizeCommand(s: Session): void {
  s.w.integer(s.db.size);
}

/** [ASYNC|SYNC] of FLUSHDB/FLUSHALL: both free synchronously here; false after a syntax error. */
function flushArgsOk(s: Session, args: string[]): boolean {
  if (args.length === 1 || (args.length === 2 && (is(args[1], 'sync') || is(args[1], 'async')))) return true;
  syntaxError(s);
  return false;
}

/** Empties a db, failing the EXEC of clients watching a key it held; returns the keys removed. */
function emptyDb(s: Session, db: Db): number {
  const removed = db.size;
  s.server.watch.touchDb(db.id, (key) => db.dict.has(key));
  s.server.blocking.signalWaitedKeys(db); // a blocked XREADGROUP's stream goes: -UNBLOCKED
  db.flush();
  return removed;
}

function flushdbCommand(s: Session, args: string[]): void {
  if (!flushArgsOk(s, args)) return;
  // Always propagated, even when the db was empty (forceCommandPropagation).
  s.server.dirty += Math.max(1, emptyDb(s, s.db));
  s.server.tracking.flushed();
  s.w.ok();
}

function flushallCommand(s: Session, args: string[]): void {
  if (!flushArgsOk(s, args)) return;
  const server = s.server;
  // A snapshot of the old data must not land on disk after the flush (Redis kills its RDB child).
  server.snapshots.abortBackground('Killing the background save: FLUSHALL emptied the dataset');
  const dirtyBefore = server.dirty;
  let removed = 0;
  for (const db of server.dbs) removed += emptyDb(s, db);
  server.tracking.flushed();
  server.dirty += removed;
  // With save points the empty dataset is saved at once (Redis 7.0's flushAllDataAndResetRDB):
  // that save resets dirty and, unlike SAVE, is not counted in rdb_saves.
  const snapshots = server.snapshots;
  if (snapshots.saveRules().length > 0) {
    const saves = snapshots.saves;
    snapshots.saveSync();
    snapshots.saves = saves;
  }
  // Redis always propagates FLUSHALL (forceCommandPropagation); the dispatcher propagates
  // when dirty moved, so make sure it did.
  if (server.dirty === dirtyBefore) server.dirty++;
  s.w.ok();
}

function swapdbCommand(s: Session, args: string[]): void {
  const a = dbIndexFor(s, args[1]!, 'ERR invalid first DB index');
  if (a === null) return;
  const b = dbIndexFor(s, args[2]!, 'ERR invalid second DB index');
  if (b === null) return;
  const dbs = s.server.dbs;
  const da = dbs[a];
  const db = dbs[b];
  if (da === undefined || db === undefined) return s.w.error(ERR.dbIndexOutOfRange);
  if (da !== db) {
    // A watched key changes if it exists on either side (touchAllWatchedKeysInDb).
    const inEither = (key: string) => da.dict.has(key) || db.dict.has(key);
    s.server.watch.touchDb(a, inEither);
    s.server.watch.touchDb(b, inEither);
    da.swapWith(db);
    // Clients blocked on a key that now exists may be served (scanDatabaseForReadyKeys), and a
    // blocked XREADGROUP whose stream left answers -UNBLOCKED (scanDatabaseForDeletedStreams).
    for (const d of [da, db]) s.server.blocking.signalWaitedKeys(d);
  }
  s.server.dirty++;
  s.w.ok();
}

function dbIndexFor(s: Session, text: string, error: string): number | null {
  const n = parseInt64(text);
  if (n === null || typeof n === 'bigint' || n > INT32_MAX || n < -INT32_MAX - 1) {
    s.w.error(error);
    return null;
  }
  return n;
}

// ---------------------------------------------------------------- OBJECT

function objectEntry(s: Session, args: string[]): Entry | undefined {
  const e = s.db.peek(args[2]!);
  if (e === undefined) s.w.null();
  return e;
}

function objectEncodingCommand(s: Session, args: string[]): void {
  const e = objectEntry(s, args);
  if (e !== undefined) s.w.bulk(encodingOf(e.value));
}

function objectRefcountCommand(s: Session, args: string[]): void {
  const e = objectEntry(s, args);
  if (e === undefined) return;
  s.w.integer(isSharedInteger(s, e.value) ? SHARED_REFCOUNT : 1);
}

/** Redis shares the objects of integers 0..9999 unless maxmemory needs per-key LRU/LFU data. */
function isSharedInteger(s: Session, value: Entry['value']): boolean {
  if (typeof value !== 'string' || encodingOf(value) !== 'int') return false;
  const n = Number(value);
  if (n < 0 || n >= SHARED_INTEGERS) return false;
  const policy = s.server.config.get('maxmemory-policy');
  return s.server.config.getInt('maxmemory') === 0 || !(policy.endsWith('-lru') || policy.endsWith('-lfu'));
}

function objectIdletimeCommand(s: Session, args: string[]): void {
  const e = objectEntry(s, args);
  if (e === undefined) return;
  if (isLfuPolicy(s.server.config.get('maxmemory-policy'))) return s.w.error(E.lfuSelected);
  s.w.integer(idleSeconds(e, s.server.now));
}

function objectFreqCommand(s: Session, args: string[]): void {
  const e = objectEntry(s, args);
  if (e === undefined) return;
  if (!isLfuPolicy(s.server.config.get('maxmemory-policy'))) return s.w.error(E.lfuNotSelected);
  s.w.integer(lfuFrequency(e, s.server.now));
}

function objectHelpCommand(s: Session): void {
  s.w.array(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) s.w.simple(line);
}

// ---------------------------------------------------------------- DUMP / RESTORE

function dumpCommand(s: Session, args: string[]): void {
  const e = s.db.lookup(args[1]!);
  if (e === undefined) return s.w.null();
  s.w.bulkBuffer(createDumpPayload(e.value, { compression: s.server.config.getBool('rdbcompression') }));
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restoreCommand(s: Session, args: string[]): void {
  let replace = false;
  let absTtl = false;
  let idle = -1;
  let freq = -1;
  for (let i = 4; i < args.length; i++) {
    const hasValue = i + 1 < args.length;
    if (is(args[i], 'replace')) replace = true;
    else if (is(args[i], 'absttl')) absTtl = true;
    else if (is(args[i], 'idletime') && hasValue && freq === -1) {
      const n = intArg(s, args[++i]!);
      if (n === null) return;
      if (n < 0) return s.w.error(E.invalidIdle);
      idle = n;
    } else if (is(args[i], 'freq') && hasValue && idle === -1) {
      const n = intArg(s, args[++i]!);
      if (n === null) return;
      if (n < 0 || n > 255) return s.w.error(E.invalidFreq);
      freq = n;
    } else return syntaxError(s);
  }
  const key = args[1]!;
  const db = s.db;
  if (!replace && db.lookup(key) !== undefined) return s.w.error(ERR.busyKey);
  const ttlParsed = parseInt64(args[2]!);
  if (ttlParsed === null) return s.w.error(ERR.notInteger);
  let ttl = Number(ttlParsed);
  if (ttl < 0) return s.w.error(E.invalidTtl);
  const parsed = parseDumpPayload(Buffer.from(args[3]!, 'latin1'));
  if (!parsed.ok) return s.w.error(parsed.error);
  const deleted = replace && db.delete(key);
  if (ttl !== 0 && !absTtl) {
    // Exact, as Redis's long long sum: one past the long long range wraps negative there, which
    // reads as already expired; a deadline kept is one replicas and the AOF can parse back.
    const at = BigInt(ttlParsed) + BigInt(s.server.now);
    ttl = at > INT64_MAX ? -1 : Math.min(Number(at), MAX_DEADLINE_MS);
  }
  if (ttl !== 0 && ttl <= s.server.now && db.deletesExpired()) {
    // Already expired: nothing is created; a replaced key is gone, which replicas learn as a DEL.
    if (deleted) {
      s.server.changed(db, key);
      delEvent(s, key);
      s.propagateAs = [['DEL', key]];
    }
    return s.w.ok();
  }
  newEvent(s, key);
  const e = addWithTtl(db, key, parsed.value, ttl, s.server.eviction.accessClock(null));
  applyAccessHints(s, e, idle, freq);
  s.server.changed(db, key);
  keyEvent(s, NOTIFY_GENERIC, 'restore', key);
  if (ttl !== 0 && !absTtl) {
    const argv = args.slice();
    argv[2] = String(ttl);
    argv.push('ABSTTL');
    s.propagateAs = [argv];
  }
  s.w.ok();
}

/** objectSetLRUOrLFU: IDLETIME counts under LRU policies, FREQ under LFU ones. */
function applyAccessHints(s: Session, e: Entry, idle: number, freq: number): void {
  if (isLfuPolicy(s.server.config.get('maxmemory-policy'))) {
    if (freq >= 0) e.lru = lfuStamp(freq, s.server.now);
  } else if (idle >= 0) {
    e.lru = lruStampForIdle(idle, s.server.now);
  }
}

// ---------------------------------------------------------------- SORT

/** Parses SORT's options; null after replying the error. */
function sortOptions(s: Session, args: string[], readonly: boolean): SortOptions | null {
  const opts: SortOptions = { desc: false, alpha: false, limitStart: 0, limitCount: -1, by: null, gets: [], store: null };
  for (let j = 2; j < args.length; j++) {
    const left = args.length - j - 1;
    const opt = args[j]!.toLowerCase();
    if (opt === 'asc') opts.desc = false;
    else if (opt === 'desc') opts.desc = true;
    else if (opt === 'alpha') opts.alpha = true;
    else if (opt === 'limit' && left >= 2) {
      const start = intArg(s, args[j + 1]!);
      if (start === null) return null;
      const count = intArg(s, args[j + 2]!);
      if (count === null) return null;
      opts.limitStart = start;
      opts.limitCount = count;
      j += 2;
    } else if (!readonly && opt === 'store' && left >= 1) {
      opts.store = args[++j]!;
    } else if (opt === 'by' && left >= 1) {
      opts.by = args[++j]!;
    } else if (opt === 'get' && left >= 1) {
      opts.gets.push(args[++j]!);
    } else {
      syntaxError(s);
      return null;
    }
  }
  return opts;
}

function sortGeneric(s: Session, args: string[], readonly: boolean): void {
  const opts = sortOptions(s, args, readonly);
  if (opts === null) return;
  const db = s.db;
  // Its reads (the key, BY and GET patterns) count as keyspace hits/misses, as in Redis, though
  // SORT is a write command (the dispatcher stops the counting after the handler).
  s.server.clock.countingReads = true;
  const e = db.lookup(args[1]!);
  if (e === undefined && !readonly) keyMissEvent(s, args[1]!); // SORT_RO's is the dispatcher's
  let value: Sortable | undefined;
  if (e !== undefined) {
    const v = e.value;
    if (!(v instanceof ListValue || v instanceof SetValue || v instanceof ZSetValue)) return wrongType(s);
    value = v;
  }
  const result = sortValue(db, value, opts);
  s.server.clock.countingReads = false;
  if (!result.ok) return s.w.error(E.notDouble);
  const items = result.items;
  if (opts.store === null) {
    s.w.array(items.length);
    for (const item of items) s.w.bulkOrNull(item);
    return;
  }
  const dest = opts.store;
  if (items.length > 0) {
    newEventIfAbsent(s, db, dest);
    db.set(dest, ListValue.from(items.map((item) => item ?? '')));
    s.server.changed(db, dest, items.length);
    keyEvent(s, NOTIFY_GENERIC, 'sortstore', dest);
  } else if (db.delete(dest)) {
    s.server.changed(db, dest);
    delEvent(s, dest);
  }
  s.w.integer(items.length);
}

// ---------------------------------------------------------------- Codis slot commands

/** A slot number argument; null after replying the error. */
function slotArg(s: Session, text: string): number | null {
  const n = parseInt64(text);
  if (n === null || typeof n === 'bigint' || n < 0 || n >= SLOT_COUNT) {
    s.w.error(E.invalidSlot);
    return null;
  }
  return n;
}

/** SLOTSINFO [start [count]]: [slot, keys] for every non-empty slot in [start, start + count). */
function slotsinfoCommand(s: Session, args: string[]): void {
  if (args.length > 3) return syntaxError(s);
  let start = 0;
  let end = SLOT_COUNT;
  if (args.length >= 2) {
    const n = slotArg(s, args[1]!);
    if (n === null) return;
    start = n;
  }
  if (args.length === 3) {
    const count = intArg(s, args[2]!);
    if (count === null) return;
    if (count < 0) return s.w.error(ERR.positiveCount);
    end = Math.min(SLOT_COUNT, start + count);
  }
  const slots = s.db.slots;
  const found: number[] = [];
  for (let slot = start; slot < end; slot++) if (slots.count(slot) > 0) found.push(slot);
  s.w.array(found.length);
  for (const slot of found) {
    s.w.array(2);
    s.w.integer(slot);
    s.w.integer(slots.count(slot));
  }
}

/** SLOTSSCAN slot cursor [COUNT n]: [next cursor, keys] over one slot's live keys. */
function slotsscanCommand(s: Session, args: string[]): void {
  const slot = slotArg(s, args[1]!);
  if (slot === null) return;
  const cursor = parseScanCursor(args[2]!);
  if (cursor === null) return s.w.error(E.invalidCursor);
  const opts = scanOptions(s, args, 3, { match: false, type: false });
  if (opts === null) return;
  const db = s.db;
  const visited: string[] = [];
  const next = db.slots.scanSlot(slot, cursor, opts.count, (key) => visited.push(key));
  writeScanReply(s, next, filterScanned(db, visited, opts));
}

export const keyHandlers: HandlerMap = {
  del: delCommand,
  unlink: delCommand,
  exists: existsCommand,
  touch: touchCommand,
  type: typeCommand,
  expire: (s, a) => expireGeneric(s, a, 1000, false),
  pexpire: (s, a) => expireGeneric(s, a, 1, false),
  expireat: (s, a) => expireGeneric(s, a, 1000, true),
  pexpireat: (s, a) => expireGeneric(s, a, 1, true),
  ttl: (s, a) => ttlGeneric(s, a, false, false),
  pttl: (s, a) => ttlGeneric(s, a, true, false),
  expiretime: (s, a) => ttlGeneric(s, a, false, true),
  pexpiretime: (s, a) => ttlGeneric(s, a, true, true),
  persist: persistCommand,
  rename: (s, a) => renameGeneric(s, a, false),
  renamenx: (s, a) => renameGeneric(s, a, true),
  move: moveCommand,
  copy: copyCommand,
  keys: keysCommand,
  scan: scanCommand,
  randomkey: randomkeyCommand,
  dbsize: dbsizeCommand,
  flushdb: flushdbCommand,
  flushall: flushallCommand,
  swapdb: swapdbCommand,
  'object|encoding': objectEncodingCommand,
  'object|refcount': objectRefcountCommand,
  'object|idletime': objectIdletimeCommand,
  'object|freq': objectFreqCommand,
  'object|help': objectHelpCommand,
  dump: dumpCommand,
  restore: restoreCommand,
  sort: (s, a) => sortGeneric(s, a, false),
  sort_ro: (s, a) => sortGeneric(s, a, true),
  slotsinfo: slotsinfoCommand,
  slotsscan: slotsscanCommand,
};
