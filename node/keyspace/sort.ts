// SORT / SORT_RO engine (Redis's sortCommandGeneric after option parsing): loads the elements of
// a list, set or sorted set, weights them (BY pattern, numeric or ALPHA), orders them and applies
// LIMIT and GET patterns. Returns plain results; the handler turns them into a reply or a STORE.
import type { Db } from './db.js';
import { HashValue } from './types/hash-value.js';
import { ListValue } from './types/list-value.js';
import { SetValue } from './types/set-value.js';
import { ZSetValue } from './types/zset-value.js';

export interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  /** -1 = no limit. */
  limitCount: number;
  /** BY pattern, or null to weight elements by themselves. */
  by: string | null;
  /** GET patterns, in order ('#' = the element itself). */
  gets: string[];
  /** The STORE destination (also changes tie handling for sets, as in Redis). */
  store: string | null;
}

export type Sortable = ListValue | SetValue | ZSetValue;

export type SortResult =
  | { ok: true; items: Array<string | null> }
  | { ok: false; error: 'not-a-double' };

interface Weighted {
  element: string;
  score: number;
  /** ALPHA with BY: the looked-up value, null when missing. */
  cmp: string | null;
}

/**
 * Resolves a BY/GET pattern for one element (lookupKeyByPattern): '#' is the element, the first
 * '*' is replaced by it, and "key->field" reads a hash field. Missing keys, wrong types and
 * patterns without '*' give undefined.
 */
export function lookupByPattern(db: Db, pattern: string, element: string): string | undefined {
  if (pattern === '#') return element;
  const star = pattern.indexOf('*');
  if (star < 0) return undefined;
  const arrow = pattern.indexOf('->', star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length;
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, keyEnd);
  const entry = db.lookup(key);
  if (entry === undefined) return undefined;
  if (hasField) return entry.value instanceof HashValue ? entry.value.get(pattern.slice(arrow + 2)) : undefined;
  return typeof entry.value === 'string' ? entry.value : undefined;
}

/** Runs SORT over `value` (undefined = missing key, sorted as an empty list). */
export function sortValue(db: Db, value: Sortable | undefined, opts: SortOptions): SortResult {
  const source = value ?? new ListValue();
  let dontSort = opts.by !== null && !opts.by.includes('*');
  let alpha = opts.alpha;
  let by = opts.by;
  // A set has no natural order: when storing, Redis sorts it so replicas get the same list.
  if (dontSort && source instanceof SetValue && opts.store !== null) {
    dontSort = false;
    alpha = true;
    by = null;
  }
  const total = source instanceof ListValue ? source.length : source.size;
  let [start, end] = limitRange(opts.limitStart, opts.limitCount, total);
  let elements: string[];
  if (dontSort && !(source instanceof SetValue)) {
    // Lists and sorted sets keep their own order, read directly in the LIMIT range.
    elements = end >= start ? nativeRange(source, start, end, opts.desc) : [];
    end -= start;
    start = 0;
  } else {
    elements = loadAll(source);
  }
  if (!dontSort) {
    const weighted = weigh(db, elements, by, alpha);
    if (weighted === null) return { ok: false, error: 'not-a-double' };
    weighted.sort(comparator(alpha, by !== null, opts.desc));
    elements = weighted.map((w) => w.element);
  }
  const items: Array<string | null> = [];
  for (let j = start; j <= end; j++) {
    const element = elements[j]!;
    if (opts.gets.length === 0) items.push(element);
    for (const pattern of opts.gets) items.push(lookupByPattern(db, pattern, element) ?? null);
  }
  return { ok: true, items };
}

/** Redis's LIMIT clamping: [start, end] inclusive, end < start when empty. */
function limitRange(limitStart: number, limitCount: number, len: number): [number, number] {
  const start0 = Math.min(Math.max(limitStart, 0), len);
  const count = Math.min(Math.max(limitCount, -1), len);
  let start = start0;
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;
  return [start, end];
}

function nativeRange(source: ListValue | ZSetValue, start: number, end: number, desc: boolean): string[] {
  if (source instanceof ZSetValue) return source.rangeByRank(start, end, desc).map((e) => e.member);
  const len = source.length;
  if (!desc) return source.range(start, end);
  return source.range(len - 1 - end, len - 1 - start).reverse();
}

function loadAll(source: Sortable): string[] {
  if (source instanceof ListValue) return source.toArray();
  if (source instanceof SetValue) return source.toArray();
  return source.scores.keys.slice();
}

function weigh(db: Db, elements: string[], by: string | null, alpha: boolean): Weighted[] | null {
  const out: Weighted[] = new Array(elements.length);
  let bad = false;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    const w: Weighted = { element, score: 0, cmp: null };
    out[i] = w;
    const byValue = by === null ? element : lookupByPattern(db, by, element);
    if (byValue === undefined) continue;
    if (alpha) {
      if (by !== null) w.cmp = byValue;
    } else {
      const score = strtodFull(byValue);
      if (score === null) bad = true;
      else w.score = score;
    }
  }
  return bad ? null : out;
}

function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sortCompare: numeric ties fall back to comparing the elements, so results are deterministic. */
function comparator(alpha: boolean, byPattern: boolean, desc: boolean): (a: Weighted, b: Weighted) => number {
  const sign = desc ? -1 : 1;
  if (!alpha) {
    return (a, b) => sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : binaryCompare(a.element, b.element));
  }
  if (byPattern) {
    return (a, b) => {
      if (a.cmp === null || b.cmp === null) return sign * (a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1);
      return sign * binaryCompare(a.cmp, b.cmp);
    };
  }
  return (a, b) => sign * binaryCompare(a.element, b.element);
}

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^[+-]?inf(?:inity)?$/i;
const DBL_MIN = 2.2250738585072014e-308;

/**
 * The whole string as C's strtod reads it (leading whitespace, decimal, hex, inf), or null when
 * Redis's SORT rejects it: trailing junk, NaN, or out of range (ERANGE). "" reads as 0, like strtod.
 */
export function strtodFull(text: string): number | null {
  if (text.length === 0) return 0;
  const t = text.replace(/^[ \t\n\v\f\r]+/, '');
  if (t.length === 0) return null;
  if (INF_RE.test(t)) return t[0] === '-' ? -Infinity : Infinity;
  let n: number;
  let nonZeroDigits: boolean;
  if (DECIMAL_RE.test(t)) {
    n = Number(t);
    nonZeroDigits = /[1-9]/.test(t.replace(/[eE].*$/, ''));
  } else {
    const m = HEX_RE.exec(t);
    if (m === null || (m[2]!.length === 0 && (m[3] ?? '').length === 0)) return null;
    const mantissa = parseInt(m[2]! || '0', 16) + (m[3] ? parseInt(m[3], 16) / 16 ** m[3].length : 0);
    n = (m[1] === '-' ? -1 : 1) * mantissa * 2 ** Number(m[4] ?? 0);
    nonZeroDigits = /[1-9a-fA-F]/.test(m[2]! + (m[3] ?? ''));
  }
  if (!Number.isFinite(n)) return null;
  if (nonZeroDigits && Math.abs(n) < DBL_MIN) return null;
  return n;
}
