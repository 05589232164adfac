// Reads shared by the sorted-set handlers and the geo handlers (a geo set is a zset): a score
// argument parsed as Redis's getDoubleFromObject does, and the zset at a key.
import { WRONG_TYPE } from '../keyspace/db.js';
import { strtodFull } from '../keyspace/sort.js';
import type { ZSetValue } from '../keyspace/types/zset-value.js';
import type { Session } from '../session.js';
import { wrongType } from './handler.js';

/** What C strtod would read a decimal from (leading white space allowed): a finite text strtodFull may refuse as ERANGE. */
export const DECIMAL_RE = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * getDoubleFromObject: C strtod over the whole string (hex and inf included); NaN, overflow and
 * underflow to zero refused, but denormals (ERANGE with a non-zero value) accepted.
 */
export function parseDouble(text: string): number | null {
  if (text.length === 0 || /^\s/.test(text)) return null;
  const n = strtodFull(text);
  if (n !== null || !DECIMAL_RE.test(text)) return n;
  const d = Number(text);
  return Number.isFinite(d) && d !== 0 ? d : null;
}

/** The zset at `key`: undefined when missing, null after replying WRONGTYPE. */
export function zsetAt(s: Session, key: string): ZSetValue | undefined | null {
  const z = s.db.getZSet(key);
  if (z !== WRONG_TYPE) return z;
  wrongType(s);
  return null;
}
