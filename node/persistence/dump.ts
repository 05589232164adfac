// DUMP/RESTORE payloads in Redis 7.0's format: type + object + RDB version (u16 LE) + CRC-64 (LE).
// Pure functions; the DUMP/RESTORE command handlers turn the results into replies.

import type { StoredValue } from '../keyspace/types/value.js';
import { crc64Update, writeCrc64LE } from './crc64.js';
import { RDB_VERSION, RdbFormatError } from './rdb-constants.js';
import { RdbReader } from './rdb-reader.js';
import { isLoadableType, readValue, writeValue } from './rdb-value.js';
import { RdbWriter } from './rdb-writer.js';

/** RESTORE's reply texts (error replies, "-" not included). */
export const DUMP_ERR_VERSION_OR_CHECKSUM = 'ERR DUMP payload version or checksum are wrong';
export const DUMP_ERR_BAD_FORMAT = 'ERR Bad data format';

const FOOTER_SIZE = 10; // 2 bytes RDB version + 8 bytes CRC-64

export interface DumpOptions {
  /** rdbcompression (default true). */
  compression?: boolean;
}

export type DumpParseResult = { ok: true; value: StoredValue } | { ok: false; error: string };

/** Serialises `value` exactly like Redis 7.0's DUMP. */
export function createDumpPayload(value: StoredValue, options: DumpOptions = {}): Buffer {
  const w = new RdbWriter({ compression: options.compression ?? true });
  writeValue(w, value);
  w.writeUInt16LE(RDB_VERSION);
  const body = w.view();
  const state = crc64Update({ lo: 0, hi: 0 }, body);
  const out = Buffer.allocUnsafe(body.length + 8);
  body.copy(out, 0);
  writeCrc64LE(state, out, body.length);
  return out;
}

/** verifyDumpPayload: footer version ≤ ours and checksum over everything before it. */
export function verifyDumpPayload(payload: Uint8Array): boolean {
  const len = payload.length;
  if (len < FOOTER_SIZE) return false;
  const version = payload[len - FOOTER_SIZE] | (payload[len - FOOTER_SIZE + 1] << 8);
  if (version > RDB_VERSION) return false;
  const state = crc64Update({ lo: 0, hi: 0 }, payload, 0, len - 8);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return view.getUint32(len - 8, true) === state.lo && view.getUint32(len - 4, true) === state.hi;
}

/** Decodes a RESTORE payload into a value, or the error reply Redis would give. */
export function parseDumpPayload(payload: Buffer): DumpParseResult {
  if (!verifyDumpPayload(payload)) return { ok: false, error: DUMP_ERR_VERSION_OR_CHECKSUM };
  const r = new RdbReader(payload, 0, payload.length - FOOTER_SIZE);
  try {
    const type = r.readByte();
    if (!isLoadableType(type)) return { ok: false, error: DUMP_ERR_BAD_FORMAT };
    return { ok: true, value: readValue(r, type) };
  } catch (err) {
    if (err instanceof RdbFormatError) return { ok: false, error: DUMP_ERR_BAD_FORMAT };
    throw err;
  }
}
