// The target side of the slot mover for big keys: TESSERA.IMPORT CHUNK appends elements of a key
// being moved to a temporary key of the same slot, TESSERA.IMPORT COMMIT renames it into place
// with the key's absolute expiry, TESSERA.IMPORT ABORT drops it. Small keys need nothing of ours:
// the source sends ASKING + RESTORE key <abs-ms> payload ABSTTL REPLACE.
//
// The temporary key lives in the keyspace (so replicas, the AOF and snapshots carry it with the
// ordinary commands it is propagated as: DEL, RPUSH/HSET/SADD/ZADD, PEXPIREAT, RENAME), in the
// same slot as the key, under a name no client uses (NUL + "tessera-import"), and it expires by
// itself ABANDON_MS after its last chunk, so a move abandoned by a crashed source leaves nothing
// behind. KEYS/SCAN can see it while the move runs (it is not hidden from them).
import { hashTag, slotOf } from '../../common/slots.js';
import type { Db } from '../keyspace/db.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import type { StoredValue } from '../keyspace/types/value.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import type { Session } from '../session.js';
import { SlotState } from './ownership.js';

/** A partial key expires this long after its last chunk. */
export const ABANDON_MS = 120_000;
const SUFFIX = '\x00tessera-import';

export type ChunkType = 'list' | 'hash' | 'set' | 'zset';

/** The temporary name of a key being imported: deterministic, and in the key's slot. */
export function tempNameFor(key: string): string {
  const slot = slotOf(key);
  const tag = hashTag(key);
  const direct = `{${tag}}${SUFFIX}`;
  if (slotOf(direct) === slot) return direct;
  // A tag containing '}' cannot be wrapped again: find a suffix that lands in the slot (about
  // 1024 CRCs of a short string at worst; rare keys only).
  for (let i = 0; ; i++) {
    const name = `${SUFFIX}:${i}`;
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
 * TESSERA.IMPORT CHUNK <key> <list|hash|set|zset> <first:0|1> <elements…>: hash elements are
 * field value pairs, zset ones member score pairs. first=1 starts over (drops a partial key left
 * by an interrupted attempt). Replies the partial key's element count.
 */
export function importChunk(s: Session, args: string[]): void {
  const key = args[2]!;
  const type = args[3]!.toLowerCase() as ChunkType;
  const first = args[4] === '1';
  if (!(type in PUSH)) return s.w.error(`ERR unknown chunk type '${args[3]}'`);
  const paired = type === 'hash' || type === 'zset';
  const elems = args.length - 5;
  if (paired && elems % 2 !== 0) return s.w.error('ERR wrong number of chunk elements');
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const db = s.db;
  const tmp = tempNameFor(key);
  const out: string[][] = [];
  let e = db.peek(tmp);
  if (e !== undefined && (first || !matches(e.value, type))) {
    db.delete(tmp);
    e = undefined;
  }
  if (first) out.push(['DEL', tmp]);
  else if (e === undefined) return s.w.error(`ERR no partial import for key, start over`);
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
 * TESSERA.IMPORT COMMIT <key> <abs-ms|0> <elements>: renames the partial key into place, replacing
 * any older copy, with the key's absolute expiry (0 = none). The element count must match what
 * arrived, else the move starts over. An expiry already past removes both.
 */
export function importCommit(s: Session, args: string[]): void {
  const key = args[2]!;
  const at = Number(args[3]);
  const expected = Number(args[4]);
  if (!Number.isSafeInteger(at) || at < 0 || !Number.isSafeInteger(expected)) return s.w.error('ERR value is not an integer or out of range');
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const db = s.db;
  const tmp = tempNameFor(key);
  const e = db.peek(tmp);
  if (e === undefined || sizeOf(e.value) !== expected) return s.w.error('ERR no complete partial import for key, start over');
  if (at !== 0 && at <= s.server.now) {
    db.delete(tmp);
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
  s.w.ok();
}

/** TESSERA.IMPORT ABORT <key>: drops the partial key of an import that will not finish. */
export function importAbort(s: Session, args: string[]): void {
  const key = args[2]!;
  const refused = importingError(s, key);
  if (refused) return s.w.error(refused);
  const tmp = tempNameFor(key);
  if (dropTemp(s.db, tmp)) {
    s.server.changed(s.db, tmp);
    s.propagateAs = [['DEL', tmp]];
  }
  s.w.ok();
}

function dropTemp(db: Db, tmp: string): boolean {
  return db.delete(tmp);
}
