// One value ⇄ its RDB object encoding: writes exactly the type Redis 7.0 would for the value's
// encoding, and reads every non-module type Redis 7.0 can load (streams: rdb-stream.ts).

import { HashValue } from '../keyspace/types/hash-value.js';
import { encodingLimits } from '../keyspace/types/encoding-limits.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import type { StoredValue } from '../keyspace/types/value.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import { StreamValue } from '../keyspace/types/stream.js';
import { buildIntset, parseIntset } from './intset.js';
import { readStream, writeStream } from './rdb-stream.js';
import { ListpackBuilder, parseListpack } from './listpack.js';
import {
  QUICKLIST_NODE_CONTAINER_PACKED,
  QUICKLIST_NODE_CONTAINER_PLAIN,
  RDB_TYPE,
  RdbFormatError,
} from './rdb-constants.js';
import { parseDoubleText, type RdbReader } from './rdb-reader.js';
import { formatDouble17g, type RdbWriter } from './rdb-writer.js';
import { parseZiplist } from './ziplist.js';
import { parseZipmap } from './zipmap.js';

/** Quicklist node byte limits for negative list-max-listpack-size values (-1 … -5). */
const QUICKLIST_OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];
const QUICKLIST_SIZE_SAFETY_LIMIT = 8192;
const QUICKLIST_SIZE_ESTIMATE_OVERHEAD = 8;
/** Elements at least this long get a PLAIN quicklist node of their own (Redis 7.0: 1 GiB). */
export const QUICKLIST_PACKED_THRESHOLD = 1 << 30;

/** The RDB type byte Redis 7.0 writes for this value in its current encoding. */
export function rdbTypeOf(value: StoredValue): number {
  if (typeof value === 'string') return RDB_TYPE.STRING;
  if (value instanceof ListValue) return RDB_TYPE.LIST_QUICKLIST_2;
  if (value instanceof HashValue) return value.encoding() === 'listpack' ? RDB_TYPE.HASH_LISTPACK : RDB_TYPE.HASH;
  if (value instanceof SetValue) return value.encoding() === 'intset' ? RDB_TYPE.SET_INTSET : RDB_TYPE.SET;
  if (value instanceof StreamValue) return RDB_TYPE.STREAM_LISTPACKS_2;
  return value.encoding() === 'listpack' ? RDB_TYPE.ZSET_LISTPACK : RDB_TYPE.ZSET_2;
}

/** Writes the type byte and the object (rdbSaveObjectType + rdbSaveObject). */
export function writeValue(w: RdbWriter, value: StoredValue): void {
  const type = rdbTypeOf(value);
  w.writeByte(type);
  writeObject(w, value, type);
}

/** Writes the object body for `type` (as returned by rdbTypeOf). */
export function writeObject(w: RdbWriter, value: StoredValue, type = rdbTypeOf(value)): void {
  if (typeof value === 'string') return w.writeString(value);
  if (value instanceof StreamValue) return writeStream(w, value);
  if (value instanceof ListValue) return writeQuicklist(w, value);
  if (value instanceof HashValue) {
    if (type === RDB_TYPE.HASH_LISTPACK) {
      const lp = new ListpackBuilder();
      for (const [field, v] of value) {
        lp.append(field);
        lp.append(v);
      }
      return w.writeBlob(lp.finish());
    }
    w.writeLength(value.size);
    for (const [field, v] of value) {
      w.writeString(field);
      w.writeString(v);
    }
    return;
  }
  if (value instanceof SetValue) {
    if (type === RDB_TYPE.SET_INTSET) return w.writeBlob(buildIntset(value.toArray()));
    w.writeLength(value.size);
    for (const member of value.members.keys) w.writeString(member);
    return;
  }
  if (type === RDB_TYPE.ZSET_LISTPACK) {
    const lp = new ListpackBuilder();
    for (const entry of value) {
      lp.append(entry.member);
      lp.append(scoreToListpackString(entry.score));
    }
    return w.writeBlob(lp.finish());
  }
  // ZSET_2: highest first, so a loader inserting at the head builds the list in O(1) per element.
  w.writeLength(value.size);
  for (const c = value.cursorAt(value.size - 1); c.valid; c.prev()) {
    w.writeString(c.member);
    w.writeBinaryDouble(c.score);
  }
}

/**
 * Redis 7.0's d2string as used for listpack scores: integers below 2^52 in decimal (so -0 becomes
 * "0", checked against a real server), "inf"/"-inf", else %.17g.
 */
export function scoreToListpackString(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (score === 0) return '0';
  if (score > -4503599627370495 && score < 4503599627370496 && Number.isInteger(score)) return String(score);
  return formatDouble17g(score);
}

/** Splits the list into listpack nodes the way RPUSH fills a quicklist (_quicklistNodeAllowInsert). */
function writeQuicklist(w: RdbWriter, list: ListValue): void {
  const fill = encodingLimits.listMaxListpackSize;
  const nodes: { plain: boolean; bytes: Buffer }[] = [];
  let current: ListpackBuilder | null = null;
  const flush = () => {
    if (current !== null) nodes.push({ plain: false, bytes: current.finish() });
    current = null;
  };
  for (const item of list) {
    const sz = item.length;
    if (sz >= QUICKLIST_PACKED_THRESHOLD) {
      flush();
      nodes.push({ plain: true, bytes: Buffer.from(item, 'latin1') });
      continue;
    }
    if (current === null || !quicklistNodeAllowsInsert(current, fill, sz)) {
      flush();
      current = new ListpackBuilder();
    }
    current.append(item);
  }
  flush();
  w.writeLength(nodes.length);
  for (const node of nodes) {
    w.writeLength(node.plain ? QUICKLIST_NODE_CONTAINER_PLAIN : QUICKLIST_NODE_CONTAINER_PACKED);
    w.writeBlob(node.bytes);
  }
}

function quicklistNodeAllowsInsert(node: ListpackBuilder, fill: number, sz: number): boolean {
  const newSize = node.byteSize + sz + QUICKLIST_SIZE_ESTIMATE_OVERHEAD;
  if (fill < 0) {
    const limit = QUICKLIST_OPTIMIZATION_LEVEL[-fill - 1];
    if (limit !== undefined && newSize <= limit) return true;
  }
  if (newSize > QUICKLIST_SIZE_SAFETY_LIMIT) return false;
  return node.count < fill;
}

/**
 * Reads the object body of RDB `type` (the type byte was already consumed).
 * Throws RdbFormatError on malformed data, empty containers, duplicates or unsupported types.
 */
export function readValue(r: RdbReader, type: number): StoredValue {
  switch (type) {
    case RDB_TYPE.STRING:
      return r.readString();
    case RDB_TYPE.LIST: {
      const list = new ListValue();
      const n = nonEmpty(r.readCount());
      for (let i = 0; i < n; i++) list.pushBack(r.readString());
      return list;
    }
    case RDB_TYPE.SET: {
      const set = new SetValue();
      const n = nonEmpty(r.readCount());
      for (let i = 0; i < n; i++) addMember(set, r.readString());
      return set;
    }
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2: {
      const zset = new ZSetValue();
      const n = nonEmpty(r.readCount());
      for (let i = 0; i < n; i++) {
        const member = r.readString();
        const score = type === RDB_TYPE.ZSET_2 ? r.readBinaryDouble() : r.readStringDouble();
        addZMember(zset, member, score);
      }
      return zset;
    }
    case RDB_TYPE.HASH: {
      const hash = new HashValue();
      const n = nonEmpty(r.readCount());
      for (let i = 0; i < n; i++) {
        const field = r.readString();
        addField(hash, field, r.readString());
      }
      return hash;
    }
    case RDB_TYPE.HASH_ZIPMAP:
      return hashFromPairs(parseZipmap(r.readStringBytes()));
    case RDB_TYPE.LIST_ZIPLIST:
      return ListValue.from(nonEmptyItems(parseZiplist(r.readStringBytes())));
    case RDB_TYPE.SET_INTSET: {
      const set = new SetValue();
      for (const member of nonEmptyItems(parseIntset(r.readStringBytes()))) set.add(member);
      return set;
    }
    case RDB_TYPE.ZSET_ZIPLIST:
      return zsetFromPairs(parseZiplist(r.readStringBytes()));
    case RDB_TYPE.ZSET_LISTPACK:
      return zsetFromPairs(parseListpack(r.readStringBytes()));
    case RDB_TYPE.HASH_ZIPLIST:
      return hashFromPairs(parseZiplist(r.readStringBytes()));
    case RDB_TYPE.HASH_LISTPACK:
      return hashFromPairs(parseListpack(r.readStringBytes()));
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2:
      return readQuicklist(r, type);
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return readStream(r, type);
    case RDB_TYPE.MODULE_2:
      throw new RdbFormatError('module values are not supported');
    default:
      throw new RdbFormatError(`unknown object type ${type}`);
  }
}

/** True for the object type bytes readValue understands (modules excluded). */
export function isLoadableType(type: number): boolean {
  return (type >= 0 && type <= 5) || (type >= 9 && type <= 19) || type === RDB_TYPE.STREAM_LISTPACKS_3;
}

function readQuicklist(r: RdbReader, type: number): ListValue {
  const list = new ListValue();
  const nodes = nonEmpty(r.readCount());
  for (let i = 0; i < nodes; i++) {
    let container = QUICKLIST_NODE_CONTAINER_PACKED;
    if (type === RDB_TYPE.LIST_QUICKLIST_2) {
      container = r.readLength();
      if (container !== QUICKLIST_NODE_CONTAINER_PACKED && container !== QUICKLIST_NODE_CONTAINER_PLAIN) {
        throw new RdbFormatError(`bad quicklist container ${container}`);
      }
    }
    const blob = r.readStringBytes();
    if (container === QUICKLIST_NODE_CONTAINER_PLAIN) {
      list.pushBack(blob.latin1Slice(0, blob.length));
      continue;
    }
    // Redis skips empty nodes silently.
    const items = type === RDB_TYPE.LIST_QUICKLIST ? parseZiplist(blob) : parseListpack(blob);
    for (const item of items) list.pushBack(item);
  }
  if (list.length === 0) throw new RdbFormatError('empty list');
  return list;
}

function hashFromPairs(items: string[]): HashValue {
  if (items.length === 0 || items.length % 2 !== 0) throw new RdbFormatError('bad hash entry count');
  const hash = new HashValue();
  for (let i = 0; i < items.length; i += 2) addField(hash, items[i], items[i + 1]);
  return hash;
}

function zsetFromPairs(items: string[]): ZSetValue {
  if (items.length === 0 || items.length % 2 !== 0) throw new RdbFormatError('bad zset entry count');
  const zset = new ZSetValue();
  for (let i = 0; i < items.length; i += 2) {
    const score = parseDoubleText(items[i + 1]);
    if (score === null) throw new RdbFormatError('bad zset score');
    addZMember(zset, items[i], score);
  }
  return zset;
}

function addField(hash: HashValue, field: string, value: string): void {
  if (!hash.set(field, value)) throw new RdbFormatError('duplicate hash field');
}

function addMember(set: SetValue, member: string): void {
  if (!set.add(member)) throw new RdbFormatError('duplicate set member');
}

function addZMember(zset: ZSetValue, member: string, score: number): void {
  if (Number.isNaN(score)) throw new RdbFormatError('zset score is NaN');
  if (zset.set(member, score) !== 'added') throw new RdbFormatError('duplicate zset member');
}

function nonEmpty(n: number): number {
  if (n === 0) throw new RdbFormatError('empty key');
  return n;
}

function nonEmptyItems<T>(items: T[]): T[] {
  if (items.length === 0) throw new RdbFormatError('empty key');
  return items;
}
