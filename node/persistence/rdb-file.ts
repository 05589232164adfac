// Whole RDB files as Redis 7.0 writes them: header + AUX fields, per-db sections, EOF and the
// CRC-64 trailer (RdbOutput hands them out as checksummed chunks), and the loader that parses
// files written by real redis-server (every encoding up to RDB 10). Pure: no sockets, no files.

import type { Db } from '../keyspace/db.js';
import type { StoredValue } from '../keyspace/types/value.js';
import { crc64Update, writeCrc64LE, type Crc64State } from './crc64.js';
import { RDB_OPCODE, RDB_VERSION, RdbFormatError } from './rdb-constants.js';
import { RdbReader } from './rdb-reader.js';
import { rdbTypeOf, readValue, writeObject } from './rdb-value.js';
import { RdbWriter } from './rdb-writer.js';

/** "REDIS" + 4-digit version. */
const MAGIC = 'REDIS';
const HEADER_LENGTH = 9;
/** RDB versions before 5 had no checksum trailer. */
const FIRST_CHECKSUMMED_VERSION = 5;

/** What the AUX fields at the top of the file say (rdbSaveInfoAuxFields). */
export interface RdbAuxInfo {
  redisVersion: string;
  /** Seconds since the epoch when the save started. */
  ctimeSec: number;
  usedMemBytes: number;
  replStreamDb: number;
  replId: string;
  replOffset: number;
  /** 1 when the file is an AOF base, 0 for a plain snapshot. */
  aofBase: number;
  /** Tessera's own fields (tessera-slots); Redis skips AUX fields it does not know. */
  extra?: ReadonlyArray<readonly [string, string]>;
  /** Function libraries' payloads (FUNCTION LOAD's argument), written after the AUX fields. */
  functions?: readonly string[];
}

/** Magic, version and the AUX fields, in Redis 7.0's order. */
export function writeRdbHeader(w: RdbWriter, aux: RdbAuxInfo): void {
  w.writeBytes(Buffer.from(`${MAGIC}${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
  writeAux(w, 'redis-ver', aux.redisVersion);
  writeAux(w, 'redis-bits', '64');
  writeAux(w, 'ctime', String(aux.ctimeSec));
  writeAux(w, 'used-mem', String(aux.usedMemBytes));
  writeAux(w, 'repl-stream-db', String(aux.replStreamDb));
  writeAux(w, 'repl-id', aux.replId);
  writeAux(w, 'repl-offset', String(aux.replOffset));
  writeAux(w, 'aof-base', String(aux.aofBase));
  for (const [key, value] of aux.extra ?? []) writeAux(w, key, value);
  // rdbSaveFunctions: one FUNCTION2 opcode + the library's payload each, before any db.
  for (const code of aux.functions ?? []) {
    w.writeByte(RDB_OPCODE.FUNCTION2);
    w.writeString(code);
  }
}

function writeAux(w: RdbWriter, key: string, value: string): void {
  w.writeByte(RDB_OPCODE.AUX);
  w.writeString(key);
  w.writeString(value); // numbers go out int-encoded, as rdbSaveAuxFieldStrInt does
}

/** SELECTDB + RESIZEDB hints opening a database section. */
export function writeDbSelector(w: RdbWriter, dbIndex: number, keys: number, expires: number): void {
  w.writeByte(RDB_OPCODE.SELECTDB);
  w.writeLength(dbIndex);
  w.writeByte(RDB_OPCODE.RESIZEDB);
  w.writeLength(keys);
  w.writeLength(expires);
}

/** One key: optional EXPIRETIME_MS, then type, key and object (rdbSaveKeyValuePair). */
export function writeKeyValue(w: RdbWriter, key: string, value: StoredValue, expireAtMs: number): void {
  if (expireAtMs !== 0) {
    w.writeByte(RDB_OPCODE.EXPIRETIME_MS);
    w.writeMillisecondTime(expireAtMs);
  }
  const type = rdbTypeOf(value);
  w.writeByte(type);
  w.writeString(key);
  writeObject(w, value, type);
}

/**
 * A checksummed byte stream over an RdbWriter: writers append, takeChunk() hands the bytes so
 * far to a sink (feeding the CRC) and starts a fresh buffer, so no chunk is ever mutated later.
 */
export class RdbOutput {
  w: RdbWriter;
  private readonly crc: Crc64State = { lo: 0, hi: 0 };
  bytesOut = 0;

  constructor(
    private readonly compression: boolean,
    private readonly chunkCapacity = 64 * 1024,
  ) {
    this.w = new RdbWriter({ compression, initialCapacity: chunkCapacity });
  }

  get pending(): number {
    return this.w.length;
  }

  /** The bytes written since the last call (null when none). */
  takeChunk(): Buffer | null {
    if (this.w.length === 0) return null;
    const chunk = this.w.view();
    crc64Update(this.crc, chunk);
    this.bytesOut += chunk.length;
    this.w = new RdbWriter({ compression: this.compression, initialCapacity: this.chunkCapacity });
    return chunk;
  }

  /** EOF opcode + CRC-64 trailer (zero when checksums are off, which loaders then skip). */
  finish(checksum: boolean): Buffer {
    this.w.writeByte(RDB_OPCODE.EOF);
    const last = this.takeChunk()!;
    const trailer = Buffer.alloc(8);
    if (checksum) writeCrc64LE(this.crc, trailer, 0);
    this.bytesOut += 8;
    return Buffer.concat([last, trailer]);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface RdbParseOptions {
  /** Databases the server has; a SELECTDB beyond is an error (as in Redis). */
  databases: number;
  /** rdbchecksum: verify the trailer (a zero trailer means "not computed" and is accepted). */
  verifyChecksum: boolean;
}

export interface RdbParseResult {
  version: number;
  aux: Map<string, string>;
  /** Keys visited (including any the visitor dropped). */
  keys: number;
  /** Function libraries' payloads, in file order (the caller installs them). */
  functions: string[];
}

/** Called for each key; expireAtMs is 0 when the key has no TTL. */
export type RdbKeyVisitor = (dbIndex: number, key: string, value: StoredValue, expireAtMs: number) => void;

/** Parses a whole RDB file, calling `visit` per key. Throws RdbFormatError on any malformation. */
export function parseRdb(buf: Buffer, options: RdbParseOptions, visit: RdbKeyVisitor): RdbParseResult {
  if (buf.length < HEADER_LENGTH || buf.latin1Slice(0, 5) !== MAGIC) throw new RdbFormatError('Wrong signature trying to load DB from file');
  const versionText = buf.latin1Slice(5, HEADER_LENGTH);
  const version = /^\d{4}$/.test(versionText) ? Number(versionText) : NaN;
  if (!(version >= 1 && version <= RDB_VERSION)) throw new RdbFormatError(`Can't handle RDB format version ${versionText}`);
  const r = new RdbReader(buf, HEADER_LENGTH);
  const aux = new Map<string, string>();
  let dbIndex = 0;
  let expireAt = -1;
  let keys = 0;
  const functions: string[] = [];
  for (;;) {
    const type = r.readByte();
    switch (type) {
      case RDB_OPCODE.EXPIRETIME_MS:
        expireAt = r.readMillisecondTime();
        continue;
      case RDB_OPCODE.EXPIRETIME:
        expireAt = r.readSecondTime() * 1000;
        continue;
      case RDB_OPCODE.FREQ:
        r.readByte(); // LFU counter: our access clock starts fresh
        continue;
      case RDB_OPCODE.IDLE:
        r.readLength(); // LRU idle seconds: likewise
        continue;
      case RDB_OPCODE.SELECTDB:
        dbIndex = r.readLength();
        if (dbIndex >= options.databases) {
          throw new RdbFormatError(`FATAL: Data file was created with a Redis server configured to handle more than ${options.databases} databases. Exiting`);
        }
        continue;
      case RDB_OPCODE.RESIZEDB:
        r.readLength();
        r.readLength();
        continue;
      case RDB_OPCODE.AUX: {
        const k = r.readString();
        aux.set(k, r.readString());
        continue;
      }
      case RDB_OPCODE.MODULE_AUX:
        throw new RdbFormatError('The RDB file contains module AUX data (MODULE_AUX), but Tessera does not support Redis modules');
      case RDB_OPCODE.FUNCTION:
      case RDB_OPCODE.FUNCTION2:
        functions.push(readLibrary(r, type));
        continue;
      case RDB_OPCODE.EOF:
        verifyTrailer(buf, r, version, options.verifyChecksum);
        return { version, aux, keys, functions };
      default:
        break;
    }
    const key = r.readString();
    let value: StoredValue;
    try {
      value = readValue(r, type);
    } catch (err) {
      // Redis 7.0 skips empty keys (written by old versions) instead of failing the load.
      if (err instanceof RdbFormatError && err.message === 'empty key') {
        expireAt = -1;
        continue;
      }
      throw err;
    }
    keys++;
    visit(dbIndex, key, value, expireAt === -1 ? 0 : expireAt);
    expireAt = -1;
  }
}

/**
 * One function library after its opcode (rdbFunctionLoad): FUNCTION2 is the payload itself; the
 * FUNCTION of Redis 7.0's release candidates is name, engine, optional description and code,
 * rebuilt into a payload with its shebang line (the description is dropped, as Redis does).
 */
export function readLibrary(r: RdbReader, type: number): string {
  try {
    if (type === RDB_OPCODE.FUNCTION2) return r.readString();
    const name = r.readString();
    const engine = r.readString();
    if (r.readLength() !== 0) r.readString();
    return `#!${engine} name=${name}\n${r.readString()}`;
  } catch (err) {
    if (err instanceof RdbFormatError) throw new RdbFormatError(`Failed loading library payload (FUNCTION2): ${err.message}`);
    throw err;
  }
}

function verifyTrailer(buf: Buffer, r: RdbReader, version: number, verify: boolean): void {
  if (version < FIRST_CHECKSUMMED_VERSION) return;
  const end = r.pos;
  r.need(8);
  const lo = buf.readUInt32LE(end);
  const hi = buf.readUInt32LE(end + 4);
  if (!verify || (lo === 0 && hi === 0)) return;
  const state = crc64Update({ lo: 0, hi: 0 }, buf, 0, end);
  if (state.lo !== lo || state.hi !== hi) {
    throw new RdbFormatError(`Wrong RDB checksum expected: (${hex64(hi, lo)}) got (${hex64(state.hi, state.lo)}). Aborting now.`);
  }
}

function hex64(hi: number, lo: number): string {
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString(16);
}

export interface RdbLoadResult extends RdbParseResult {
  loaded: number;
  expired: number;
}

export interface RdbLoadOptions extends RdbParseOptions {
  now: number;
  /** Masters drop keys already expired; replicas keep them for the master's DEL (as Redis). */
  dropExpired: boolean;
  /** DEBUG RELOAD MERGE: a key already present is replaced instead of failing the load. */
  allowDuplicates?: boolean;
}

/** Loads a whole RDB file into `dbs` (normally empty). */
export function loadRdbIntoDbs(buf: Buffer, dbs: readonly Db[], options: RdbLoadOptions): RdbLoadResult {
  let loaded = 0;
  let expired = 0;
  const result = parseRdb(buf, options, (dbIndex, key, value, expireAt) => {
    if (options.dropExpired && expireAt !== 0 && expireAt < options.now) {
      expired++;
      return;
    }
    const db = dbs[dbIndex]!;
    if (db.dict.has(key)) {
      if (!options.allowDuplicates) throw new RdbFormatError(`RDB has duplicated key '${key}' in DB ${dbIndex}`);
      db.delete(key);
    }
    const entry = db.add(key, value);
    if (expireAt !== 0) db.setExpire(key, entry, expireAt);
    loaded++;
  });
  return { ...result, loaded, expired };
}
