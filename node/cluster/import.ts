// The target side of the slot mover. Small keys: TESSERA.IMPORT RESTORE-BATCH (many keys per
// command; RESTORE, one key, from older sources), DUMP payloads with absolute expiry. Big keys:
// TESSERA.IMPORT CHUNK appends elements of a key being moved to a temporary key of the same slot,
// TESSERA.IMPORT COMMIT renames it into place with the key's absolute expiry, TESSERA.IMPORT
// ABORT drops it. None needs ASKING (routing-check.ts lets them through): each checks itself that
// its key's slot is importing, which is stricter.
//
// A key already here is never overwritten by a copy that is older (docs/compatibility.md, "Slot
// ownership"): during a migration a key on both sides means the copy here was written by a client
// (through ASK, once the source had deleted its copy) and is newer; it is kept, and the mover,
// told KEPT, deletes the source's copy. Overwritten only when the copy here is one an earlier
// attempt of the mover wrote and no client has written since (db.untouched: the source's copy is
// the same or newer), or when the source says REPLACE (it knows an earlier send failed and kept
// serving the key meanwhile).
//
// The temporary key lives in the keyspace (so replicas, the AOF and snapshots carry it with the
// ordinary commands it is propagated as: DEL, RPUSH/HSET/SADD/ZADD, PEXPIREAT, RENAME), in the
// same slot as the key, under a reserved name ending in NUL + "tessera-import" that clients never
// see (keyspace/slot-index.ts: KEYS, SCAN, RANDOMKEY, DBSIZE, INFO, SLOTSINFO, lookups by name);
// it expires by itself ABANDON_MS after its last chunk, and is dropped when its slot stops
// importing (cancel), so a move abandoned by a crashed source leaves nothing behind.
import { hashTag, slotOf } from '../../common/slots.js';
import type { Db } from '../keyspace/db.js';
import { HIDDEN_SUFFIX } from '../keyspace/slot-index.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import type { StoredValue } from '../keyspace/types/value.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import { parseDumpPayload } from '../persistence/dump.js';
import type { Session } from '../session.js';
import { SlotState, type SlotOwnership } from './ownership.js';

/** A partial key expires this long after its last chunk. */
export const ABANDON_MS = 120_000;
/** The reply when the copy here was kept (the source deletes its own, as if moved). */
export const KEPT = 'KEPT';
/** The error prefix when a chunk does not continue the partial key (the source starts over or resumes). */
export const PARTIAL_MISMATCH = 'ERR partial import holds';

export type ChunkType = 'list' | 'hash' | 'set' | 'zset';

/** The temporary name of a key being imported: deterministic, in the key's slot, hidden. */
export function tempNameFor(key: string): string {
  const slot = slotOf(key);
  const tag = hashTag(key);
  const direct = `{${tag}}${HIDDEN_SUFFIX}`;
  if (slotOf(direct) === slot) return direct;
  // A tag containing '}' cannot be wrapped again: find a prefix that lands in the slot (about
  // 1024 CRCs of a short string at worst; rare keys only).
  for (let i = 0; ; i++) {
    const name = `${i}${HIDDEN_SUFFIX}`;
    if (slotOf(name) === slot) return name;
  }
}

function importingError(s: Session, key: string): string | null {
  const routing = s.server.dispatcher.routing;
  if (routing === null) return 'ERR slot ownership is disabled on this node: start it with slot-ownership yes';
  // Replayed from the AOF or the master link: the state was checked when it was first applied.
  if (s.server.suppressPropagation || s.server.replication.isMasterClient(s)) return null;
  const slot = slotOf(key);
  return routing.ownership.stateOf(slot) === SlotState.Importing ? null : `ERR slot ${slot} is not importing`;
}

function newValue(type: ChunkType): StoredValue {
  switch (type) {
    case 'list': return new ListValue();
    case 'hash': return new HashValue();
    case 'set': return new SetValue();
    case 'zset': return new ZSetValue();
  }
}

function matches(value: StoredValue, type: ChunkType): boolean {
  switch (type) {
    case 'list': return value instanceof ListValue;
    case 'hash': return value instanceof HashValue;
    case 'set': return value instanceof SetValue;
    case 'zset': return value instanceof ZSetValue;
  }
}

const PUSH: Record<ChunkType, string> = { list: 'RPUSH', hash: 'HSET', set: 'SADD', zset: 'ZADD' };

/** A score as ZADD reads it back (JS's "Infinity" is Redis's "inf"). */
function scoreText(n: number): string {
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/**
 * TESSERA.IMPORT CHUNK <key> <list|hash|set|zset> <from> <elements…>: hash elements are field
 * value pairs, zset ones member score pairs. `from` is the position of the chunk's first element
 * in the source's value: 0 starts over (drops a partial key left by an interrupted attempt); any
 * other value appends only if the partial key holds exactly that many elements, else the reply is
 * `ERR partial import holds <n> elements, not <from>` and nothing changes, so an element is never
 * added twice (the source resumes from n when it knows its value unchanged, else starts over).
 * Replies the partial key's element count.
 */
export function importChunk(s: Session, args: string[]): void {
  const key = args[2]!;
  const type = args[3]!.toLowerCase() as ChunkType;
  const from = parseNonNegative(args[4]);
  if (!(type in PUSH)) return s.w.error(`ERR unknown chunk type '${args[3]}'`);
  if (from === null) return s.w.error('ERR invalid chunk position');
  const paired = type === 'hash' || type === 'zset';
  const elems = args.length - 5;
  if (paired && elems % 2 !== 0) return s.w.error('ERR wrong number of chunk elements');
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const db = s.db;
  const tmp = tempNameFor(key);
  const out: string[][] = [];
  let e = db.peekHidden(tmp);
  if (from !== 0) {
    const have = e === undefined || !matches(e.value, type) ? 0 : sizeOf(e.value);
    if (have !== from) return s.w.error(`${PARTIAL_MISMATCH} ${have} elements, not ${from}`);
  } else if (e !== undefined) {
    db.deleteHidden(tmp);
    e = undefined;
  }
  if (from === 0) out.push(['DEL', tmp]);
  if (e === undefined) e = db.add(tmp, newValue(type));
  const push = [PUSH[type], tmp];
  appendElements(e.value, type, args, 5, push);
  const at = s.server.now + ABANDON_MS;
  db.setExpire(tmp, e, at);
  if (push.length > 2) out.push(push);
  out.push(['PEXPIREAT', tmp, String(at)]);
  s.server.changed(db, tmp);
  s.propagateAs = out;
  s.w.integer(sizeOf(e.value));
}

function parseNonNegative(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

/**
 * Whether a mover's copy may overwrite `key` here: absent, REPLACE, or the copy here is one the
 * mover wrote that no client has written since.
 */
function mayOverwrite(db: Db, key: string, replace: boolean): boolean {
  if (replace) return true;
  const e = db.peek(key);
  return e === undefined || db.isUntouched(key, e);
}

/** The trailing [REPLACE] of IMPORT RESTORE / COMMIT, from args[from] on; null after replying a syntax error. */
function replaceOption(s: Session, args: string[], from: number): boolean | null {
  let replace = false;
  for (let i = from; i < args.length; i++) {
    if (args[i]!.toLowerCase() !== 'replace') {
      s.w.error('ERR syntax error');
      return null;
    }
    replace = true;
  }
  return replace;
}

/** restoreOne's answer when the key was stored (else KEPT, or an error reply's text). */
const OK_OUTCOME = 'OK';

/**
 * One key of TESSERA.IMPORT RESTORE / RESTORE-BATCH: stored (propagated as RESTORE … ABSTTL
 * REPLACE, appended to `out`) unless a newer copy is here (KEPT, nothing changes: see the top of
 * this file). A bad expiry or payload fails this key only.
 */
function restoreOne(s: Session, key: string, atText: string, payload: string, replace: boolean, out: string[][]): string {
  const at = Number(atText);
  if (!Number.isSafeInteger(at) || at < 0) return 'ERR value is not an integer or out of range';
  const refused = importingError(s, key);
  if (refused) return refused;
  const db = s.db;
  if (!mayOverwrite(db, key, replace)) return KEPT;
  const parsed = parseDumpPayload(Buffer.from(payload, 'latin1'));
  if (!parsed.ok) return parsed.error;
  const had = db.delete(key);
  if (at !== 0 && at <= s.server.now) {
    // Expired on the way: nothing is created; a replaced copy is gone (replicas learn it as a DEL).
    if (had) {
      s.server.changed(db, key);
      out.push(['DEL', key]);
    }
    return OK_OUTCOME;
  }
  const e = db.add(key, parsed.value);
  if (at !== 0) db.setExpire(key, e, at);
  s.server.changed(db, key);
  db.noteUntouched(key, e);
  out.push(['RESTORE', key, String(at), payload, 'ABSTTL', 'REPLACE']);
  return OK_OUTCOME;
}

/**
 * TESSERA.IMPORT RESTORE <key> <abs-ms|0> <payload> [REPLACE]: one small key from the mover, in
 * Redis's DUMP format with its absolute expiry: +OK, +KEPT or an error. Kept for sources that
 * predate RESTORE-BATCH.
 */
export function importRestore(s: Session, args: string[]): void {
  const at = Number(args[3]);
  if (!Number.isSafeInteger(at) || at < 0) return s.w.error('ERR value is not an integer or out of range');
  const replace = replaceOption(s, args, 5);
  if (replace === null) return;
  const out: string[][] = [];
  const r = restoreOne(s, args[2]!, args[3]!, args[4]!, replace, out);
  // Set even when empty: what changed is all in `out`, and the command itself must never reach
  // replicas or the AOF (they do not import).
  s.propagateAs = out;
  if (r === OK_OUTCOME) s.w.ok();
  else if (r === KEPT) s.w.simple(KEPT);
  else s.w.error(r);
}

/** Keys one TESSERA.IMPORT RESTORE-BATCH may carry (the mover sends at most this many). */
export const RESTORE_BATCH_MAX_KEYS = 1024;

/**
 * TESSERA.IMPORT RESTORE-BATCH <KEEP|REPLACE> <key> <abs-ms|0> <payload> [<key> <abs-ms|0>
 * <payload> …]: up to RESTORE_BATCH_MAX_KEYS small keys in one command, each exactly as
 * TESSERA.IMPORT RESTORE would take it, REPLACE or not (KEEP keeps a copy a client wrote here).
 * The reply is one array, a result per key in order: +OK, +KEPT or that key's error; a malformed
 * command (mode, argument count, too many keys) is one error and changes nothing. Replicas and
 * the AOF get one RESTORE … ABSTTL REPLACE per key stored, as Redis would send them.
 */
export function importRestoreBatch(s: Session, args: string[]): void {
  const mode = args[2]!.toLowerCase();
  if (mode !== 'keep' && mode !== 'replace') return s.w.error('ERR syntax error: KEEP or REPLACE expected');
  const rest = args.length - 3;
  if (rest % 3 !== 0) return s.w.error("ERR wrong number of arguments for 'tessera.import|restore-batch' command");
  const n = rest / 3;
  if (n > RESTORE_BATCH_MAX_KEYS) return s.w.error(`ERR too many keys for TESSERA.IMPORT RESTORE-BATCH: ${n}, at most ${RESTORE_BATCH_MAX_KEYS}`);
  const replace = mode === 'replace';
  const out: string[][] = [];
  s.w.array(n);
  for (let i = 3; i < args.length; i += 3) {
    const r = restoreOne(s, args[i]!, args[i + 1]!, args[i + 2]!, replace, out);
    if (r === OK_OUTCOME) s.w.ok();
    else if (r === KEPT) s.w.simple(KEPT);
    else s.w.error(r);
  }
  s.propagateAs = out;
}

function appendElements(value: StoredValue, type: ChunkType, args: string[], from: number, push: string[]): void {
  if (type === 'list') {
    const list = value as ListValue;
    for (let i = from; i < args.length; i++) {
      list.pushBack(args[i]!);
      push.push(args[i]!);
    }
  } else if (type === 'set') {
    const set = value as SetValue;
    for (let i = from; i < args.length; i++) {
      set.add(args[i]!);
      push.push(args[i]!);
    }
  } else if (type === 'hash') {
    const hash = value as HashValue;
    for (let i = from; i + 1 < args.length; i += 2) {
      hash.set(args[i]!, args[i + 1]!);
      push.push(args[i]!, args[i + 1]!);
    }
  } else {
    const zset = value as ZSetValue;
    for (let i = from; i + 1 < args.length; i += 2) {
      const score = Number(args[i + 1]!);
      zset.set(args[i]!, score);
      push.push(scoreText(score), args[i]!);
    }
  }
}

function sizeOf(value: StoredValue): number {
  if (value instanceof ListValue) return value.length;
  if (typeof value === 'string') return 1;
  return (value as HashValue | SetValue | ZSetValue).size;
}

/**
 * TESSERA.IMPORT COMMIT <key> <abs-ms|0> <elements> [REPLACE]: renames the partial key into place
 * with the key's absolute expiry (0 = none), over an older copy the mover wrote (or any copy with
 * REPLACE); a newer copy here is kept (+KEPT) and the partial dropped. The element count must
 * match what arrived, else the move starts over. An expiry already past removes both.
 */
export function importCommit(s: Session, args: string[]): void {
  const key = args[2]!;
  const at = Number(args[3]);
  const expected = Number(args[4]);
  if (!Number.isSafeInteger(at) || at < 0 || !Number.isSafeInteger(expected)) return s.w.error('ERR value is not an integer or out of range');
  const replace = replaceOption(s, args, 5);
  if (replace === null) return;
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const db = s.db;
  const tmp = tempNameFor(key);
  const e = db.peekHidden(tmp);
  if (e === undefined || sizeOf(e.value) !== expected) return s.w.error('ERR no complete partial import for key, start over');
  if (!mayOverwrite(db, key, replace)) {
    db.deleteHidden(tmp);
    s.server.changed(db, tmp);
    s.propagateAs = [['DEL', tmp]];
    return s.w.simple(KEPT);
  }
  if (at !== 0 && at <= s.server.now) {
    db.deleteHidden(tmp);
    const had = db.delete(key);
    s.propagateAs = had ? [['DEL', tmp], ['DEL', key]] : [['DEL', tmp]];
    s.server.changed(db, tmp);
    if (had) s.server.changed(db, key);
    return s.w.ok();
  }
  db.rename(tmp, e, key);
  const ne = db.peek(key)!;
  if (at === 0) db.persist(ne);
  else db.setExpire(key, ne, at);
  s.propagateAs = [['RENAME', tmp, key], at === 0 ? ['PERSIST', key] : ['PEXPIREAT', key, String(at)]];
  s.server.changed(db, tmp);
  s.server.changed(db, key);
  db.noteUntouched(key, ne);
  s.w.ok();
}

/** TESSERA.IMPORT ABORT <key>: drops the partial key of an import that will not finish. */
export function importAbort(s: Session, args: string[]): void {
  const key = args[2]!;
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const tmp = tempNameFor(key);
  if (s.db.deleteHidden(tmp)) {
    s.server.changed(s.db, tmp);
    s.propagateAs = [['DEL', tmp]];
  }
  s.w.ok();
}

/**
 * After an ownership change: partial imports of slots no longer importing are dropped (a
 * cancelled move; on a master, the DEL reaches replicas and the AOF through `propagate`), and
 * the untouched marks of slots neither importing nor migrating are forgotten (they only matter
 * while a slot moves). `propagate` is null on a replica, which hears of the DELs from its master.
 */
export function settleImports(db: Db, ownership: SlotOwnership, propagate: ((argv: string[]) => void) | null): void {
  if (db.slots.hiddenCount !== 0 && propagate !== null) {
    const drop: string[] = [];
    for (const [key, slot] of db.slots.hiddenKeys()) if (ownership.stateOf(slot) !== SlotState.Importing) drop.push(key);
    for (const key of drop) {
      db.deleteHidden(key);
      propagate(['DEL', key]);
    }
  }
  const u = db.untouched;
  if (u === null || u.size === 0) return;
  for (const key of u.keys()) {
    const st = ownership.stateOf(slotOf(key));
    if (st !== SlotState.Importing && st !== SlotState.Migrating) u.delete(key);
  }
}
