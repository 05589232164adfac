// Arguments shared by SCAN, HSCAN, SSCAN, ZSCAN and SLOTSSCAN: the cursor (parsed as Redis's
// strtoul does) and the COUNT / MATCH / TYPE options.
import { ERR } from '../../common/errors.js';
import type { Session } from '../session.js';
import { intArg, is } from './handler.js';

const DEFAULT_COUNT = 10;
const ULONG_MAX = 2n ** 64n - 1n;

/**
 * A cursor as parseScanCursorOrReply reads it: decimal, optional sign (negatives wrap like
 * strtoul), empty = 0; null when invalid (junk, a lone sign, spaces, beyond 2^64-1).
 */
export function parseScanCursor(text: string): number | null {
  if (text === '') return 0;
  if (!/^[+-]?\d+$/.test(text)) return null;
  const magnitude = BigInt(text.replace(/^[+-]/, ''));
  if (magnitude > ULONG_MAX) return null;
  return Number(text[0] === '-' ? (ULONG_MAX + 1n - magnitude) % (ULONG_MAX + 1n) : magnitude);
}

export interface ScanOptions {
  count: number;
  /** null = match everything (no pattern, or "*"). */
  pattern: string | null;
  /** TYPE filter (SCAN only), lower case; null = any. */
  type: string | null;
}

/**
 * COUNT n, MATCH p (when `match`) and TYPE t (when `type`) from `from` on; null after replying
 * the error (a syntax error for anything else, as Redis does).
 */
export function scanOptions(s: Session, args: string[], from: number, allow: { match: boolean; type: boolean }): ScanOptions | null {
  const opts: ScanOptions = { count: DEFAULT_COUNT, pattern: null, type: null };
  for (let i = from; i < args.length; i += 2) {
    const hasValue = i + 1 < args.length;
    if (is(args[i], 'count') && hasValue) {
      const n = intArg(s, args[i + 1]!);
      if (n === null) return null;
      if (n < 1) {
        s.w.error(ERR.syntax);
        return null;
      }
      opts.count = n;
    } else if (allow.match && is(args[i], 'match') && hasValue) {
      opts.pattern = args[i + 1] === '*' ? null : args[i + 1]!;
    } else if (allow.type && is(args[i], 'type') && hasValue) {
      opts.type = args[i + 1]!.toLowerCase();
    } else {
      s.w.error(ERR.syntax);
      return null;
    }
  }
  return opts;
}

/** The reply for a scan of a missing key: [ "0", [] ]. */
export function emptyScanReply(s: Session): void {
  s.w.array(2);
  s.w.bulk('0');
  s.w.array(0);
}
