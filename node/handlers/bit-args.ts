// Argument and value helpers shared by the bit commands (bitmaps.ts, bitfield.ts): bit offsets as
// Redis's getBitOffsetFromArgument reads them, and the padded string a bit write works on.
import { constants as bufferConstants } from 'node:buffer';
import { ERR } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import type { Session } from '../session.js';
import { wrongType } from './handler.js';
import { NOTIFY_STRING, keyEvent, newEvent } from './key-events.js';

const BIT_OFFSET_ERR = 'ERR bit offset is not an integer or out of range';
/** V8's longest string: a value cannot grow past this (Redis's own limit, 512 MB, is 24 bytes more). */
export const MAX_VALUE_BYTES = bufferConstants.MAX_STRING_LENGTH;

/**
 * getBitOffsetFromArgument: a bit offset ≥ 0 whose byte is below proto-max-bulk-len (the master
 * link and the AOF are exempt, as in Redis); with `bits` > 0, "#n" means n·bits. null after replying.
 */
export function bitOffsetArg(s: Session, text: string, bits = 0): number | null {
  const useHash = bits > 0 && text.charCodeAt(0) === 35; /* # */
  const parsed = parseInt64(useHash ? text.slice(1) : text);
  if (parsed === null) {
    s.w.error(BIT_OFFSET_ERR);
    return null;
  }
  const maxBytes = s.server.config.getInt('proto-max-bulk-len');
  // The common case in plain numbers: a small non-negative offset, no '#'.
  if (!useHash && typeof parsed === 'number' && parsed >= 0 && Math.floor(parsed / 8) < maxBytes) return parsed;
  // C multiplies in int64 (wrapping); do the same before the range check.
  const offset = useHash ? BigInt.asIntN(64, BigInt(parsed) * BigInt(bits)) : BigInt(parsed);
  const obeyed = s.server.suppressPropagation || s.server.replication.isMasterClient(s);
  if (offset < 0n || (!obeyed && offset >> 3n >= BigInt(maxBytes))) {
    s.w.error(BIT_OFFSET_ERR);
    return null;
  }
  return Number(offset);
}

/**
 * The string at `key` for a bit write (lookupStringForBitCommand): created or zero-padded so byte
 * `maxBit >> 3` exists. null after replying (wrong type, or longer than a JS string can be).
 */
export function stringForBitWrite(s: Session, key: string, maxBit: number): { value: string; dirty: boolean } | null {
  const e = s.db.lookup(key);
  if (e !== undefined && typeof e.value !== 'string') {
    wrongType(s);
    return null;
  }
  const need = Math.floor(maxBit / 8) + 1;
  const old = (e?.value as string | undefined) ?? '';
  if (old.length >= need) return { value: old, dirty: e === undefined };
  if (need > MAX_VALUE_BYTES) {
    s.w.error(ERR.stringTooLong);
    return null;
  }
  return { value: old + '\0'.repeat(need - old.length), dirty: true };
}

/** Stores a bit command's result string (the key's TTL stays) and signals the change. */
export function storeBitValue(s: Session, key: string, value: string, dirty: number): void {
  const db = s.db;
  const e = db.peek(key); // already looked up (and counted) by the command
  if (e === undefined) {
    newEvent(s, key);
    db.add(key, value);
  } else e.value = value;
  if (dirty > 0) {
    s.server.changed(db, key, dirty);
    keyEvent(s, NOTIFY_STRING, 'setbit', key); // SETBIT and BITFIELD both fire setbit
  }
}
