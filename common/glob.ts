// Redis's glob-style pattern matching (KEYS, SCAN MATCH, PSUBSCRIBE, PUBSUB CHANNELS, CONFIG GET,
// COMMAND LIST FILTERBY PATTERN) on latin1 strings: one char = one byte of the key, channel or name.
//
// Semantics are those of Redis 7's stringmatchlen (util.c), quirks included:
// - `*` any run, `?` one char, `\x` the char x, a trailing `\` is a literal backslash;
// - `[abc]`, `[^abc]`, ranges `[a-z]` whose bounds may be reversed (`[z-a]`) and compare as C's
//   signed chars (bytes >= 0x80 sort below 0), `\]` inside a class compares exactly even with
//   nocase, `[a-]` takes `]` as the range's upper bound, and an unterminated `[` runs to the end of
//   the pattern (`[` alone never matches, `[^` matches any one char);
// - an empty text matches only the empty pattern (Redis's loop never starts; KEYS/SCAN shortcut
//   the lone `*` before matching, PUBLISH does not);
// - nesting limit: Redis gives up (no match) when its recursion passes the 1000th `*` that has
//   more pattern after it; we count the same stars.
//
// Algorithm: no recursion and no backtracking beyond the LAST star seen ("greedy last star"). Every
// element other than `*` consumes exactly one char, so when the pattern after star k fails at
// every text position from some point on, no longer match of an earlier star can help (it would
// only start star k's remainder later) — the same argument as Redis's skipLongerMatches.
//
// Bound: call an "attempt" the run between two backtracks. Within an attempt the pattern index
// only moves forward, so it examines at most m pattern chars (class chars included, a failing
// element included) plus one probe at the end of the pattern: <= m + 1 units. Each backtrack
// moves the last star's text position strictly forward and it never moves back (a new star starts
// at the current text position, which is >= it), so there are at most n backtracks and n + 1
// attempts. Total work <= (m + 1) * (n + 1) units, counted in `work` below and exposed to tests.

const STAR = 42; // *
const QUESTION = 63; // ?
const OPEN = 91; // [
const CLOSE = 93; // ]
const CARET = 94; // ^
const BACKSLASH = 92; // \
const DASH = 45; // -

/** Redis's recursion gives up past this many nested stars (stringmatchlen_impl's nesting check). */
const NESTING_LIMIT = 1000;

let lastWork = 0;

/** Work units (pattern chars examined) of the last globMatch call: <= (pattern+1)*(text+1). */
export function globWorkOfLastMatch(): number {
  return lastWork;
}

/** True when `text` matches the glob `pattern`, exactly as Redis's stringmatchlen decides. */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  const m = pattern.length;
  const n = text.length;
  lastWork = 0;
  if (n === 0) return m === 0; // Redis's loop never starts on an empty text
  let work = 0;
  let pi = 0;
  let si = 0;
  let starP = -1; // pattern index just after the last star run, -1 before any star
  let starS = 0; // text index the last star's remainder is being tried from
  let stars = 0; // star runs passed, each with more pattern after it: Redis's recursion depth
  let matched = false;
  for (;;) {
    if (si === n) {
      // Text consumed: only stars may be left.
      while (pi < m && pattern.charCodeAt(pi) === STAR) {
        pi++;
        work++;
      }
      matched = pi === m;
      break;
    }
    if (pi < m && pattern.charCodeAt(pi) === STAR) {
      while (pi < m && pattern.charCodeAt(pi) === STAR) {
        pi++;
        work++;
      }
      if (pi === m) {
        matched = true; // a trailing star takes the rest of the text
        break;
      }
      if (++stars > NESTING_LIMIT) break;
      starP = pi;
      starS = si;
      continue;
    }
    if (pi < m) {
      const end = elementEnd(pattern, pi, text.charCodeAt(si), nocase);
      const next = end < 0 ? ~end : end;
      work += next - pi;
      if (end >= 0) {
        pi = end;
        si++;
        continue;
      }
    } else {
      work++; // the probe that found the pattern exhausted with text left
    }
    if (starP < 0) break;
    pi = starP;
    si = ++starS;
  }
  lastWork = work;
  return matched;
}

/**
 * Matches the one non-star element at `pi` against char `c`: the index just after the element
 * when it matches, or ~(that index) when it does not (a class is scanned whole either way).
 */
function elementEnd(p: string, pi: number, c: number, nocase: boolean): number {
  const pc = p.charCodeAt(pi);
  if (pc === QUESTION) return pi + 1;
  if (pc === OPEN) return classEnd(p, pi, c, nocase);
  let at = pi;
  if (pc === BACKSLASH && p.length - pi >= 2) at++;
  return sameChar(p.charCodeAt(at), c, nocase) ? at + 1 : ~(at + 1);
}

/** A `[...]` class at `pi` against char `c`, scanned the way stringmatchlen scans it. */
function classEnd(p: string, pi: number, c: number, nocase: boolean): number {
  const m = p.length;
  let j = pi + 1;
  const not = j < m && p.charCodeAt(j) === CARET;
  if (not) j++;
  let match = false;
  for (;;) {
    if (j >= m) {
      // Unterminated: the class ends with the pattern (Redis steps back so its pattern++ lands there).
      j--;
      break;
    }
    const pc = p.charCodeAt(j);
    if (pc === BACKSLASH && m - j >= 2) {
      j++;
      // Redis compares escaped class members exactly, even with nocase.
      if (p.charCodeAt(j) === c) match = true;
    } else if (pc === CLOSE) {
      break;
    } else if (m - j >= 3 && p.charCodeAt(j + 1) === DASH) {
      if (inRange(pc, p.charCodeAt(j + 2), c, nocase)) match = true;
      j += 2;
    } else if (sameChar(pc, c, nocase)) {
      match = true;
    }
    j++;
  }
  if (not) match = !match;
  return match ? j + 1 : ~(j + 1);
}

/** A range as Redis tests it: bounds swapped when reversed, compared as signed chars. */
function inRange(from: number, to: number, c: number, nocase: boolean): boolean {
  let lo = signedChar(from);
  let hi = signedChar(to);
  let x = signedChar(c);
  if (lo > hi) {
    const t = lo;
    lo = hi;
    hi = t;
  }
  if (nocase) {
    lo = lower(lo);
    hi = lower(hi);
    x = lower(x);
  }
  return x >= lo && x <= hi;
}

/** A latin1 char as C's (signed) char sees it: 0x80..0xff are -128..-1. */
function signedChar(c: number): number {
  return (c << 24) >> 24;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function sameChar(a: number, b: number, nocase: boolean): boolean {
  return a === b || (nocase && lower(a) === lower(b));
}
