// Sorted-set element and range types shared by the zset value, its handlers and geo: score
// intervals, ZRANGEBYLEX bounds and Redis's lex comparison. Pure values, no storage.

/** A read-only view of one sorted-set element. */
export interface ZSetEntry {
  readonly member: string;
  readonly score: number;
}

/** Score interval; `minExclusive`/`maxExclusive` mirror ZRANGEBYSCORE's "(" prefix. */
export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** Lex bounds: a member string, or the "-" / "+" infinities. */
export const LEX_MIN: unique symbol = Symbol('lex -');
export const LEX_MAX: unique symbol = Symbol('lex +');
export type LexValue = string | typeof LEX_MIN | typeof LEX_MAX;

export interface LexRange {
  min: LexValue;
  max: LexValue;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** Parses one ZRANGEBYLEX bound ("-", "+", "[x", "(x"); null when malformed. */
export function parseLexBound(text: string): { value: LexValue; exclusive: boolean } | null {
  if (text === '-') return { value: LEX_MIN, exclusive: false };
  if (text === '+') return { value: LEX_MAX, exclusive: false };
  const first = text.charCodeAt(0);
  if (first === 91 /* [ */) return { value: text.slice(1), exclusive: false };
  if (first === 40 /* ( */) return { value: text.slice(1), exclusive: true };
  return null;
}

/** Redis's sdscmplex: infinities sort outside every string. */
export function compareLex(a: LexValue, b: LexValue): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}
