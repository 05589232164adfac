// The RDB image exchanged by a full resync, built and parsed with persistence/rdb-file.ts: the
// whole dataset as one buffer (with the repl-id / repl-offset / repl-stream-db aux fields), and
// loading such a buffer into fresh Dbs. Never touches the live keyspace.
import { Db, type KeyspaceEnv } from '../keyspace/db.js';
import { loadRdbIntoDbs, RdbOutput, writeDbSelector, writeKeyValue, writeRdbHeader } from '../persistence/rdb-file.js';
import { VERSION } from '../version.js';

export interface ReplPosition {
  replId: string;
  offset: number;
  /** The db the stream that follows the image is in (the replica's master client starts there). */
  streamDb: number;
}

/** Serialises every db synchronously, so the image is exactly the dataset at `pos.offset`. */
export function buildSyncRdb(
  dbs: readonly Db[], pos: ReplPosition, compression: boolean, extra: ReadonlyArray<readonly [string, string]> = [],
  functions: readonly string[] = [],
): Buffer {
  const out = new RdbOutput(compression, 1024 * 1024);
  writeRdbHeader(out.w, {
    redisVersion: VERSION,
    ctimeSec: Math.floor(Date.now() / 1000),
    usedMemBytes: process.memoryUsage().heapUsed,
    replStreamDb: pos.streamDb,
    replId: pos.replId,
    replOffset: pos.offset,
    aofBase: 0,
    extra,
    functions,
  });
  const chunks: Buffer[] = [];
  for (const db of dbs) {
    if (db.size === 0) continue;
    writeDbSelector(out.w, db.id, db.size, db.volatileCount);
    for (const [key, entry] of db.dict) {
      writeKeyValue(out.w, key, entry.value, entry.expireAt);
      if (out.pending >= 1024 * 1024) chunks.push(out.takeChunk()!);
    }
  }
  chunks.push(out.finish(true));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export interface LoadedRdb {
  dbs: Db[];
  keys: number;
  aux: Map<string, string>;
  /** The master's function libraries (installed by the caller with the dataset). */
  functions: string[];
}

/**
 * Parses a whole image into new Dbs (expired keys kept: the master's DELs will come). Throws on
 * anything malformed, so a broken transfer never reaches the live keyspace.
 */
export function loadSyncRdb(payload: Buffer, dbCount: number, env: KeyspaceEnv): LoadedRdb {
  const dbs: Db[] = [];
  for (let i = 0; i < dbCount; i++) dbs.push(new Db(i, env));
  const result = loadRdbIntoDbs(payload, dbs, { databases: dbCount, verifyChecksum: true, now: Date.now(), dropExpired: false });
  return { dbs, keys: result.loaded, aux: result.aux, functions: result.functions };
}
