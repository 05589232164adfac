// A stream ⇄ its RDB object body in Redis 7.0's layout (RDB_TYPE_STREAM_LISTPACKS_2; types 15 and
// 21 are read too). The body is a rax of nodes — per node the 16-byte big-endian master id, then a
// listpack — followed by length, last id, first id, max deleted id, entries added and the consumer
// groups: per group its name, last id, entries read, PEL (16-byte id, delivery time, delivery count)
// and consumers (name, seen time, [7.2's type 21: active time], PEL ids resolved in the group's).
//
// A node's listpack (t_stream.c's layout): the master entry [count, deleted, n master fields,
// the fields…, 0], then per entry [flags, ms-diff, seq-diff, (n fields, field, value… | values…
// when SAMEFIELDS), lp-count], diffs relative to the master id, lp-count the entry's element count
// so readers can walk backwards.

import { StreamValue, type StreamEntry, type StreamId, estimateDistanceFromFirstEverEntry } from '../keyspace/types/stream.js';
import { StreamGroups, type StreamNack } from '../keyspace/types/stream-groups.js';
import { ListpackBuilder, parseListpack } from './listpack.js';
import { RDB_64BITLEN, RDB_TYPE, RdbFormatError } from './rdb-constants.js';
import type { RdbReader } from './rdb-reader.js';
import type { RdbWriter } from './rdb-writer.js';

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const MASTER_ID_BYTES = 16;


export function writeStream(w: RdbWriter, s: StreamValue): void {
  w.writeLength(s.nodeCount);
  for (const entries of s.nodeEntries()) {
    const master = entries[0]!;
    const key = Buffer.allocUnsafe(MASTER_ID_BYTES);
    key.writeBigUInt64BE(master.ms, 0);
    key.writeBigUInt64BE(master.seq, 8);
    w.writeBlob(key);
    w.writeBlob(nodeListpack(entries));
  }
  w.writeLength(s.length);
  writeId(w, s.lastId);
  writeId(w, s.firstId());
  writeId(w, s.maxDeletedId);
  writeU64(w, s.entriesAdded);
  writeGroups(w, s);
}

/** The consumer groups, in name order (rdbSaveObject's stream part, type 19). */
function writeGroups(w: RdbWriter, s: StreamValue): void {
  const groups = s.groups === null ? [] : s.groups.sorted();
  w.writeLength(groups.length);
  for (const g of groups) {
    w.writeString(g.name);
    writeU64(w, g.lastId.ms);
    writeU64(w, g.lastId.seq);
    writeU64(w, BigInt.asUintN(64, g.entriesRead)); // -1 (unknown) is saved as 2^64-1, like rdbSaveLen of it
    w.writeLength(g.pel.size);
    for (const n of g.pel.values()) {
      w.writeBytes(rawId(n.id));
      w.writeMillisecondTime(n.deliveryTime);
      writeU64(w, BigInt(n.deliveryCount));
    }
    const consumers = g.consumers();
    w.writeLength(consumers.length);
    for (const c of consumers) {
      w.writeString(c.name);
      w.writeMillisecondTime(c.seenTime);
      w.writeLength(c.pel.size);
      for (const n of c.pel.values()) w.writeBytes(rawId(n.id));
    }
  }
}

function rawId(id: StreamId): Buffer {
  const b = Buffer.allocUnsafe(MASTER_ID_BYTES);
  b.writeBigUInt64BE(id.ms, 0);
  b.writeBigUInt64BE(id.seq, 8);
  return b;
}

function readRawId(r: RdbReader): StreamId {
  const b = r.readBytes(MASTER_ID_BYTES);
  return { ms: b.readBigUInt64BE(0), seq: b.readBigUInt64BE(8) };
}

/** Reads the groups part (rdbLoadObject): type 15 has no entries-read, type 21 adds consumers' active time. */
function readGroups(r: RdbReader, s: StreamValue, type: number): void {
  const count = r.readCount();
  if (count === 0) return;
  const groups = new StreamGroups();
  for (let i = 0; i < count; i++) {
    const name = r.readString();
    const lastId = { ms: readU64(r), seq: readU64(r) };
    const entriesRead = type === RDB_TYPE.STREAM_LISTPACKS ? estimateDistanceFromFirstEverEntry(s, lastId) : BigInt.asIntN(64, readU64(r));
    const g = groups.create(name, lastId, entriesRead);
    if (g === undefined) throw new RdbFormatError(`duplicated consumer group name ${name}`);
    const pelSize = r.readCount();
    for (let j = 0; j < pelSize; j++) {
      const id = readRawId(r);
      const nack: StreamNack = { id, deliveryTime: r.readMillisecondTime(), deliveryCount: Number(readU64(r)), consumer: null };
      if (!g.pel.insert(nack)) throw new RdbFormatError('duplicated global PEL entry loading stream consumer group');
    }
    const consumers = r.readCount();
    for (let j = 0; j < consumers; j++) {
      const cname = r.readString();
      const seen = r.readMillisecondTime();
      if (type === RDB_TYPE.STREAM_LISTPACKS_3) r.readMillisecondTime(); // active time (7.2): not kept
      const c = g.createConsumer(cname, seen);
      if (c === undefined) throw new RdbFormatError('duplicate stream consumer detected');
      const n = r.readCount();
      for (let k = 0; k < n; k++) {
        const nack = g.pel.get(readRawId(r));
        if (nack === undefined) throw new RdbFormatError('consumer entry not found in group global PEL');
        if (nack.consumer !== null || !c.pel.insert(nack)) throw new RdbFormatError('duplicated consumer PEL entry loading a stream consumer group');
        nack.consumer = c;
      }
    }
    for (const nack of g.pel.values()) if (nack.consumer === null) throw new RdbFormatError('stream CG PEL entry without consumer');
  }
  s.groups = groups;
}

/** The node's listpack; master fields are the first entry's, as Redis fixes them at node creation. */
function nodeListpack(entries: readonly StreamEntry[]): Buffer {
  const master = entries[0]!;
  const masterFields = master.fields;
  const nMaster = masterFields.length / 2;
  let live = 0;
  for (const e of entries) if (!e.deleted) live++;
  const lp = new ListpackBuilder();
  lp.append(String(live));
  lp.append(String(entries.length - live));
  lp.append(String(nMaster));
  for (let i = 0; i < masterFields.length; i += 2) lp.append(masterFields[i]!);
  lp.append('0');
  for (const e of entries) {
    const n = e.fields.length / 2;
    const same = sameFields(e.fields, masterFields);
    lp.append(String((e.deleted ? FLAG_DELETED : 0) | (same ? FLAG_SAMEFIELDS : 0)));
    // int64 two's complement, like lpAppendInteger of the C difference.
    lp.append(String(BigInt.asIntN(64, e.ms - master.ms)));
    lp.append(String(BigInt.asIntN(64, e.seq - master.seq)));
    if (same) {
      for (let i = 1; i < e.fields.length; i += 2) lp.append(e.fields[i]!);
    } else {
      lp.append(String(n));
      for (const x of e.fields) lp.append(x);
    }
    lp.append(String(same ? n + 3 : 2 * n + 4));
  }
  return lp.finish();
}

function sameFields(fields: string[], master: string[]): boolean {
  if (fields.length !== master.length) return false;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] !== master[i]) return false;
  return true;
}

function writeId(w: RdbWriter, id: StreamId): void {
  writeU64(w, id.ms);
  writeU64(w, id.seq);
}

/** rdbSaveLen of an unsigned 64-bit value (writeLength takes numbers only). */
function writeU64(w: RdbWriter, v: bigint): void {
  if (v <= 0xffffffffn) return w.writeLength(Number(v));
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v, 0);
  w.writeByte(RDB_64BITLEN);
  w.writeBytes(b);
}

function readU64(r: RdbReader): bigint {
  if (r.remaining > 0 && r.buf[r.pos] === RDB_64BITLEN) {
    r.pos++;
    return r.readBytes(8).readBigUInt64BE(0);
  }
  return BigInt(r.readLength());
}

function readId(r: RdbReader): StreamId {
  const ms = readU64(r);
  return { ms, seq: readU64(r) };
}

/** Reads a stream body of `type` (15, 19 or 21); throws RdbFormatError when malformed. */
export function readStream(r: RdbReader, type: number): StreamValue {
  const s = new StreamValue();
  const nodes = r.readCount();
  let prev: StreamId | null = null;
  for (let i = 0; i < nodes; i++) {
    const key = r.readStringBytes();
    if (key.length !== MASTER_ID_BYTES) throw new RdbFormatError('stream node key is not a 128-bit id');
    const master = { ms: key.readBigUInt64BE(0), seq: key.readBigUInt64BE(8) };
    const entries = parseNode(parseListpack(r.readStringBytes()), master);
    for (const e of entries) {
      if (prev !== null && !idAbove(e, prev)) throw new RdbFormatError('stream entries out of order');
      prev = e;
    }
    s.loadNode(entries);
  }
  const length = r.readLength();
  if (length !== s.length) throw new RdbFormatError('stream length does not match its entries');
  s.lastId = readId(r);
  if (prev !== null && idAbove(prev, s.lastId)) throw new RdbFormatError('stream last id below an entry');
  if (type === RDB_TYPE.STREAM_LISTPACKS) {
    // Redis 7.0 upgrades an old stream the same way: no known tombstones, every entry counted as added.
    s.entriesAdded = BigInt(length);
  } else {
    readId(r); // first id: derived from the entries here
    s.maxDeletedId = readId(r);
    s.entriesAdded = readU64(r);
  }
  readGroups(r, s, type);
  return s;
}

function idAbove(a: StreamId, b: StreamId): boolean {
  return a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq);
}

/** A node's listpack items → its entries (tombstones included), checking the counts. */
function parseNode(items: string[], master: StreamId): StreamEntry[] {
  if (items.length === 0) throw new RdbFormatError('empty listpack inside stream');
  let p = 0;
  const next = (): string => {
    const x = items[p++];
    if (x === undefined) throw new RdbFormatError('stream listpack truncated');
    return x;
  };
  const int = (): bigint => {
    const x = next();
    if (!/^-?\d{1,20}$/.test(x)) throw new RdbFormatError('stream listpack: integer expected');
    return BigInt(x);
  };
  const count = int();
  const deleted = int();
  const nMaster = Number(int());
  if (nMaster < 0 || nMaster > items.length) throw new RdbFormatError('stream listpack: bad master field count');
  const masterFields: string[] = [];
  for (let i = 0; i < nMaster; i++) masterFields.push(next());
  if (int() !== 0n) throw new RdbFormatError('stream listpack: bad master terminator');
  const entries: StreamEntry[] = [];
  let live = 0n;
  while (p < items.length) {
    const flags = Number(int());
    const ms = BigInt.asUintN(64, master.ms + int());
    const seq = BigInt.asUintN(64, master.seq + int());
    const fields: string[] = [];
    let n: number;
    if (flags & FLAG_SAMEFIELDS) {
      n = nMaster;
      for (let i = 0; i < n; i++) fields.push(masterFields[i]!, next());
    } else {
      n = Number(int());
      if (n < 0 || n > items.length) throw new RdbFormatError('stream listpack: bad field count');
      for (let i = 0; i < 2 * n; i++) fields.push(next());
    }
    const lpCount = Number(int());
    if (lpCount !== (flags & FLAG_SAMEFIELDS ? n + 3 : 2 * n + 4)) throw new RdbFormatError('stream listpack: bad lp-count');
    const isDeleted = (flags & FLAG_DELETED) !== 0;
    if (!isDeleted) live++;
    entries.push({ ms, seq, fields, deleted: isDeleted });
  }
  if (live !== count || BigInt(entries.length) - live !== deleted) throw new RdbFormatError('stream listpack: entry counts mismatch');
  if (entries.length === 0) throw new RdbFormatError('stream node without entries');
  return entries;
}
