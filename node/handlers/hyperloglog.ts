// HyperLogLog commands (hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST. Values are plain
// strings in Redis's HLL format (keyspace/types/hyperloglog.ts does the byte work); this file
// checks arguments, looks keys up, stores results and replies, in Redis's order.
import type { Db } from '../keyspace/db.js';
import {
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  HllBuffer,
  INVALID_HLL,
  NOT_AN_HLL,
  denseAddIsNoop,
  emptyHllBytes,
  estimateFromHistogram,
  hllEncodingOf,
  rawHistogram,
} from '../keyspace/types/hyperloglog.js';
import type { Session } from '../session.js';
import { type HandlerMap, wrongType } from './handler.js';
import { pfselftestCommand } from './hyperloglog-selftest.js';
import { NOTIFY_STRING, keyEvent, keyMissEvent, newEvent } from './key-events.js';

function sparseMaxBytes(s: Session): number {
  return s.server.config.getInt('hll-sparse-max-bytes');
}

/**
 * The HLL value at `key` (isHLLObjectOrReply): undefined when missing, null after replying
 * WRONGTYPE (another type, or a string that is not an HLL).
 */
function hllAt(s: Session, key: string): string | undefined | null {
  const v = s.db.getString(key);
  if (v === undefined) return undefined;
  if (typeof v === 'symbol') {
    wrongType(s);
    return null;
  }
  if (hllEncodingOf(v) === null) {
    s.w.error(NOT_AN_HLL);
    return null;
  }
  return v;
}

/** Stores a changed HLL (keeping the key's TTL); peek, so the read is not counted twice. */
function storeHll(s: Session, db: Db, key: string, hll: HllBuffer): void {
  const e = db.peek(key);
  if (e === undefined) {
    newEvent(s, key, db.id);
    db.add(key, hll.toValue());
  } else e.value = hll.toValue();
}

/** Write commands read their sources with Redis's lookupKeyRead, which counts hits and misses. */
function countRead(s: Session, found: boolean): void {
  if (found) s.server.stats.keyspaceHits++;
  else s.server.stats.keyspaceMisses++;
}

/** PFADD key [element …] */
function pfaddCommand(s: Session, args: string[]): void {
  const key = args[1]!;
  const db = s.db;
  const existing = hllAt(s, key);
  if (existing === null) return;
  // Most adds to a big (dense) HLL change nothing: answer those without copying the value.
  if (existing !== undefined && existing.charCodeAt(4) === HLL_DENSE && denseAddIsNoop(existing, args, 2)) return s.w.integer(0);
  let updated = 0;
  let hll: HllBuffer;
  if (existing === undefined) {
    hll = HllBuffer.from(emptyHllBytes());
    updated++;
  } else {
    hll = HllBuffer.from(existing);
  }
  const maxBytes = sparseMaxBytes(s);
  for (let i = 2; i < args.length; i++) {
    const r = hll.add(args[i]!, maxBytes);
    if (r === 1) updated++;
    else if (r === -1) {
      // Redis changed the value in place up to the corrupt register and signals nothing.
      storeHll(s, db, key, hll);
      return s.w.error(INVALID_HLL);
    }
  }
  if (updated > 0) {
    hll.invalidateCache();
    storeHll(s, db, key, hll);
    s.server.changed(db, key, updated);
    keyEvent(s, NOTIFY_STRING, 'pfadd', key);
  }
  s.w.integer(updated > 0 ? 1 : 0);
}

/** The cached cardinality straight from the value's header, or null when it is invalid. */
function cachedCard(v: string): number | bigint | null {
  if (v.charCodeAt(15) & 0x80) return null;
  let card = 0n;
  for (let i = 15; i >= 8; i--) card = (card << 8n) | BigInt(v.charCodeAt(i));
  return card <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(card) : card;
}

/** PFCOUNT key [key …]: one key answers from (and refreshes) its cache; several, their union. */
function pfcountCommand(s: Session, args: string[]): void {
  if (args.length > 2) return pfcountUnion(s, args);
  const key = args[1]!;
  const v = hllAt(s, key);
  if (v === null) return;
  if (v === undefined) return s.w.integer(0);
  const cached = cachedCard(v);
  if (cached !== null) {
    if (typeof cached === 'bigint') return s.w.bigInteger(cached);
    return s.w.integer(cached);
  }
  const hll = HllBuffer.from(v);
  const histo = hll.histogram();
  if (histo === null) return s.w.error(INVALID_HLL);
  const card = estimateFromHistogram(histo);
  // Writing the cache changes the value: it is propagated (replicas store the same bytes).
  hll.setCachedCount(card);
  storeHll(s, s.db, key, hll);
  s.server.changed(s.db, key);
  s.w.integer(card);
}

/** The union's cardinality: max of every register over the keys (O(16384) per key). */
function pfcountUnion(s: Session, args: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  for (let i = 1; i < args.length; i++) {
    const v = hllAt(s, args[i]!);
    if (v === null) return;
    if (v === undefined) continue;
    if (!HllBuffer.from(v).mergeInto(max)) return s.w.error(INVALID_HLL);
  }
  s.w.integer(estimateFromHistogram(rawHistogram(max)));
}

/** PFMERGE destkey [sourcekey …]: the destination is one of the sources. */
function pfmergeCommand(s: Session, args: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let i = 1; i < args.length; i++) {
    const v = hllAt(s, args[i]!);
    if (v === null) return;
    countRead(s, v !== undefined);
    if (v === undefined) {
      keyMissEvent(s, args[i]!); // the destination too: Redis reads every key with lookupKeyRead
      continue;
    }
    const hll = HllBuffer.from(v);
    if (hll.encoding === HLL_DENSE) useDense = true;
    if (!hll.mergeInto(max)) return s.w.error(INVALID_HLL);
  }
  const key = args[1]!;
  const db = s.db;
  const e = db.lookup(key);
  // An existing destination was checked as a source above.
  const hll = HllBuffer.from(e === undefined ? emptyHllBytes() : (e.value as string));
  if (useDense && !hll.toDense()) return s.w.error(INVALID_HLL);
  const maxBytes = sparseMaxBytes(s);
  for (let j = 0; j < HLL_REGISTERS; j++) if (max[j] !== 0) hll.raise(j, max[j]!, maxBytes);
  hll.invalidateCache();
  storeHll(s, db, key, hll);
  s.server.changed(db, key);
  keyEvent(s, NOTIFY_STRING, 'pfadd', key);
  s.w.ok();
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
function pfdebugCommand(s: Session, args: string[]): void {
  const sub = args[1]!;
  const key = args[2]!;
  const db = s.db;
  const e = db.lookup(key);
  if (e === undefined) return s.w.error('ERR The specified key does not exist');
  if (typeof e.value !== 'string') return wrongType(s);
  if (hllEncodingOf(e.value) === null) return s.w.error(NOT_AN_HLL);
  const hll = HllBuffer.from(e.value);
  switch (sub.toLowerCase()) {
    case 'getreg':
      if (hll.encoding === HLL_SPARSE) {
        if (!hll.toDense()) return s.w.error(INVALID_HLL);
        e.value = hll.toValue();
        s.server.changed(db, key); // the encoding change is propagated
      }
      s.w.array(HLL_REGISTERS);
      for (const r of hll.registers()) s.w.integer(r);
      return;
    case 'decode':
      if (hll.encoding !== HLL_SPARSE) return s.w.error('ERR HLL encoding is not sparse');
      return s.w.bulk(hll.decodeSparse());
    case 'encoding':
      return s.w.simple(hll.encoding === HLL_DENSE ? 'dense' : 'sparse');
    case 'todense': {
      if (hll.encoding !== HLL_SPARSE) return s.w.integer(0);
      if (!hll.toDense()) return s.w.error(INVALID_HLL);
      e.value = hll.toValue();
      s.server.changed(db, key);
      return s.w.integer(1);
    }
    default:
      return s.w.error(`ERR Unknown PFDEBUG subcommand '${sub.split('\0')[0]!.replace(/[\r\n]/g, ' ')}'`);
  }
}

export const hyperloglogHandlers: HandlerMap = {
  pfadd: pfaddCommand,
  pfcount: pfcountCommand,
  pfmerge: pfmergeCommand,
  pfdebug: pfdebugCommand,
  pfselftest: pfselftestCommand,
};
