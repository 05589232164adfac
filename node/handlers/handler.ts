// The handler contract and the small argument parsers every command family shares. A handler
// runs one checked command for a session and writes its reply to `s.w`; it calls
// `s.server.changed(db, key)` for every key it modified.
import { ERR } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import type { Session } from '../session.js';

export type Handler = (s: Session, args: string[]) => void;
export type HandlerMap = Record<string, Handler>;

/** An integer argument (Redis's getLongLongFromObjectOrReply): null after replying the error. */
export function intArg(s: Session, text: string, error: string = ERR.notInteger): number | null {
  const n = parseInt64(text);
  if (n === null) {
    s.w.error(error);
    return null;
  }
  return Number(n);
}

/** An exact int64 argument, as a bigint when beyond 2^53. */
export function int64Arg(s: Session, text: string): number | bigint | null {
  const n = parseInt64(text);
  if (n === null) s.w.error(ERR.notInteger);
  return n;
}

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a float like Redis's strtod-based checks: inf/-inf/+inf accepted, nan and junk refused. */
export function parseFloatStrict(text: string): number | null {
  if (text.length === 0 || text.length > 5000) return null;
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!FLOAT_RE.test(text)) return null;
  const n = Number(text);
  return Number.isNaN(n) ? null : n;
}

/** A float argument (getDoubleFromObjectOrReply): null after replying the error. */
export function floatArg(s: Session, text: string, error: string = ERR.notFloat): number | null {
  const n = parseFloatStrict(text);
  if (n === null) {
    s.w.error(error);
    return null;
  }
  return n;
}

/** A count that must be ≥ 0 (LPOP count, SPOP count…). */
export function positiveIntArg(s: Session, text: string): number | null {
  const n = parseInt64(text);
  if (n === null || Number(n) < 0) {
    s.w.error(ERR.positiveCount);
    return null;
  }
  return Number(n);
}

/** Blocking timeout in seconds (float) → absolute deadline in ms, 0 = forever; null after an error. */
export function timeoutArg(s: Session, text: string): number | null {
  const t = parseFloatStrict(text);
  if (t === null) {
    s.w.error(ERR.timeoutNotFloat);
    return null;
  }
  // Redis turns the timeout into int64 milliseconds; inf and anything past that range come out
  // negative there, hence its "negative" wording for them.
  if (t < 0 || !Number.isFinite(t) || Math.abs(t * 1000) >= 2 ** 63) {
    s.w.error(ERR.timeoutNegative);
    return null;
  }
  if (t === 0) return 0;
  return s.server.now + Math.ceil(t * 1000);
}

/** Normalises a Redis range (start, stop, negatives from the end) over `len` items; null = empty. */
export function normaliseRange(start: number, stop: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (stop < 0) stop = len + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return null;
  if (stop >= len) stop = len - 1;
  return [start, stop];
}

export function wrongType(s: Session): void {
  s.w.error(ERR.wrongType);
}

export function syntaxError(s: Session): void {
  s.w.error(ERR.syntax);
}

/** Case-insensitive compare of an argument with a lower-case keyword. */
export function is(arg: string | undefined, word: string): boolean {
  return arg !== undefined && arg.length === word.length && arg.toLowerCase() === word;
}

/** Redis's HELP replies: a header line then the body, each as a status reply. */
export function helpReply(s: Session, container: string, lines: readonly string[]): void {
  const all = [`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Prints this help.'];
  s.w.array(all.length);
  for (const l of all) s.w.simple(l);
}
