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
  const int = plainInteger(text);
  if (int !== null) return int;
  if (text.length === 0 || /^\s/.test(text)) return null;
  const n = strtodFull(text);
  if (n !== null || !DECIMAL_RE.test(text)) return n;
  const d = Number(text);
  return Number.isFinite(d) && d !== 0 ? d : null;
}

/**
 * The common score shape, an optionally negative run of at most 15 decimal digits, read without
 * regular expressions (ZADD's hot path); exact, since such integers are below 2^53. Else null.
 */
function plainInteger(text: string): number | null {
  const len = text.length;
  const neg = len > 1 && text.charCodeAt(0) === 45; /* - */
  const from = neg ? 1 : 0;
  if (len === 0 || len - from > 15) return null;
  let n = 0;
  for (let i = from; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

/** The zset at `key`: undefined when missing, null after replying WRONGTYPE. */
export function zsetAt(s: Session, key: string): ZSetValue | undefined | null {
  const z = s.db.getZSet(key);
  if (z !== WRONG_TYPE) return z;
  wrongType(s);
  return null;
}
