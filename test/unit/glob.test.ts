// The shared glob matcher: agrees with a line-by-line port of Redis 7.0's recursive stringmatchlen
// (the reference, run on small inputs only) and does bounded work, <= (pattern+1)*(text+1), on any
// input, adversarial ones included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatch, globWorkOfLastMatch } from '../../common/glob.js';

// ---- Reference: Redis 7.0.15 util.c stringmatchlen_impl, ported as literally as JS allows. ----
// Strings become byte arrays with a trailing NUL, because the C code reads the terminator.

const STAR = 42;
const CARET = 94;
const BACKSLASH = 92;
const CLOSE = 93;
const DASH = 45;

function bytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
  out.push(0);
  return out;
}

const signed = (c: number) => (c << 24) >> 24;
const tolower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

function redisStringMatch(pattern: string, text: string, nocase: boolean): boolean {
  return impl(bytes(pattern), 0, pattern.length, bytes(text), 0, text.length, nocase, { skipLongerMatches: false }, 0);
}

function impl(p: number[], pi: number, plen: number, s: number[], si: number, slen: number, nocase: boolean, st: { skipLongerMatches: boolean }, nesting: number): boolean {
  if (nesting > 1000) return false;
  while (plen && slen) {
    switch (p[pi]) {
      case STAR:
        while (plen && p[pi + 1] === STAR) {
          pi++;
          plen--;
        }
        if (plen === 1) return true;
        while (slen) {
          if (impl(p, pi + 1, plen - 1, s, si, slen, nocase, st, nesting + 1)) return true;
          if (st.skipLongerMatches) return false;
          si++;
          slen--;
        }
        st.skipLongerMatches = true;
        return false;
      case 63: // ?
        si++;
        slen--;
        break;
      case 91: { // [
        pi++;
        plen--;
        const not = p[pi] === CARET;
        if (not) {
          pi++;
          plen--;
        }
        let match = false;
        for (;;) {
          if (p[pi] === BACKSLASH && plen >= 2) {
            pi++;
            plen--;
            if (p[pi] === s[si]) match = true;
          } else if (p[pi] === CLOSE) {
            break;
          } else if (plen === 0) {
            pi--;
            plen++;
            break;
          } else if (plen >= 3 && p[pi + 1] === DASH) {
            let start = signed(p[pi]!);
            let end = signed(p[pi + 2]!);
            let c = signed(s[si]!);
            if (start > end) [start, end] = [end, start];
            if (nocase) {
              start = tolower(start);
              end = tolower(end);
              c = tolower(c);
            }
            pi += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (!nocase ? p[pi] === s[si] : tolower(p[pi]!) === tolower(s[si]!)) {
            match = true;
          }
          pi++;
          plen--;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        slen--;
        break;
      }
      default:
        if (p[pi] === BACKSLASH && plen >= 2) {
          pi++;
          plen--;
        }
        if (!nocase ? p[pi] !== s[si] : tolower(p[pi]!) !== tolower(s[si]!)) return false;
        si++;
        slen--;
        break;
    }
    pi++;
    plen--;
    if (slen === 0) {
      while (p[pi] === STAR) {
        pi++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}

// ---- Generators over a small alphabet with every special character. ----

const PATTERN_CHARS = ['a', 'b', 'A', '*', '?', '[', ']', '^', '-', '\\', '\x80', '\xff'];
const TEXT_CHARS = ['a', 'b', 'A', 'B', '*', '?', '[', ']', '^', '-', '\\', '\x80', '\xff'];
const pattern = fc.array(fc.constantFrom(...PATTERN_CHARS), { maxLength: 10 }).map((a) => a.join(''));
const text = fc.array(fc.constantFrom(...TEXT_CHARS), { maxLength: 10 }).map((a) => a.join(''));

function checkedMatch(p: string, t: string, nocase: boolean): boolean {
  const result = globMatch(p, t, nocase);
  expect(globWorkOfLastMatch()).toBeLessThanOrEqual((p.length + 1) * (t.length + 1));
  return result;
}

describe('globMatch agrees with Redis stringmatchlen', () => {
  it('on random patterns and texts (case-sensitive)', () => {
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(checkedMatch(p, t, false)).toBe(redisStringMatch(p, t, false));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on random patterns and texts (nocase, as CONFIG GET uses it)', () => {
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(checkedMatch(p, t, true)).toBe(redisStringMatch(p, t, true));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on texts built to match: a random pattern with its stars and classes filled in', () => {
    // Random pairs rarely match once stars are rare; derive matching-ish texts from the pattern.
    const derived = pattern.chain((p) =>
      fc.tuple(fc.constant(p), fc.array(fc.constantFrom(...TEXT_CHARS), { minLength: p.length, maxLength: p.length })).map(([pp, fill]) => {
        let t = '';
        for (let i = 0; i < pp.length; i++) {
          const c = pp[i]!;
          if (c === '*') t += fill[i]!.repeat(i % 3);
          else if (c === '?' || c === '[' || c === ']') t += fill[i]!;
          else if (c !== '\\') t += c;
        }
        return [pp, t] as const;
      }),
    );
    fc.assert(
      fc.property(derived, ([p, t]) => {
        expect(checkedMatch(p, t, false)).toBe(redisStringMatch(p, t, false));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['*', '', false], ['', '', true], ['', 'a', false], ['**', 'x', true], ['a*', 'a', true], ['*a', 'ba', true],
    ['h?llo', 'hello', true], ['h[ae]llo', 'hallo', true], ['h[^e]llo', 'hello', false], ['h[a-b]llo', 'hbllo', true],
    ['[z-a]', 'm', true], ['[a-]', ']', true], ['[a-]', '-', false], ['[abc', 'c', true], ['[', '[', false],
    ['[^', 'q', true], ['\\*', '*', true], ['\\*', 'a', false], ['a\\', 'a\\', true], ['[\\]]', ']', true],
    ['[a-\xff]', 'b', false], ['[a-\xff]', 'A', true], ['[a-\xff]', '\xff', true], ['[\x80-\xff]', '\x90', true],
  ])('%j against %j is %s', (p, t, expected) => {
    expect(globMatch(p, t)).toBe(expected);
    expect(redisStringMatch(p, t, false)).toBe(expected);
  });

  it('keeps Redis quirks under nocase: escaped class members compare exactly, ranges fold after swapping', () => {
    expect(globMatch('[\\A]', 'a', true)).toBe(false);
    expect(globMatch('[A]', 'a', true)).toBe(true);
    expect(globMatch('[A-z]', '_', false)).toBe(true);
    expect(globMatch('[A-z]', '_', true)).toBe(false);
    expect(globMatch('\\A', 'a', true)).toBe(true);
  });

  it('gives up past 1000 nested stars, like Redis', () => {
    const text = 'a'.repeat(1001);
    expect(globMatch('*a'.repeat(1000), text)).toBe(true);
    expect(redisStringMatch('*a'.repeat(1000), text, false)).toBe(true);
    expect(globMatch('*a'.repeat(1001), text)).toBe(false);
    expect(redisStringMatch('*a'.repeat(1001), text, false)).toBe(false);
    // A trailing star run does not count: Redis returns before recursing.
    expect(globMatch(`${'*a'.repeat(1000)}*`, text)).toBe(true);
    expect(redisStringMatch(`${'*a'.repeat(1000)}*`, text, false)).toBe(true);
  });
});

describe('globMatch work is bounded by (pattern+1)*(text+1)', () => {
  // The issue's freezing pattern: a*a*…*a*b (20 stars) against 64 'a's. The old backtracking
  // matcher took exponential time on it; this one is linear in the product.
  const stars20 = `${'a*'.repeat(20)}b`;
  const key64 = 'a'.repeat(64);

  it('on a*a*…*a*b with 20 stars against a 64-char key', () => {
    const t0 = performance.now();
    expect(globMatch(stars20, key64)).toBe(false);
    const ms = performance.now() - t0;
    expect(globWorkOfLastMatch()).toBeLessThanOrEqual((stars20.length + 1) * (key64.length + 1));
    expect(ms).toBeLessThan(50);
  });

  it('on adversarial families, as they grow', () => {
    const families: Array<(k: number) => [string, string]> = [
      (k) => [`${'a*'.repeat(k)}b`, 'a'.repeat(4 * k)],
      (k) => [`${'*a'.repeat(k)}b`, 'a'.repeat(4 * k)],
      (k) => [`${'*?'.repeat(k)}[b]`, 'a'.repeat(4 * k)],
      (k) => [`*${'[a-z]'.repeat(k)}*b`, 'a'.repeat(4 * k)],
      (k) => [`${'*[^b]'.repeat(k)}b`, 'a'.repeat(4 * k)],
    ];
    for (const family of families) {
      for (const k of [5, 20, 100, 500]) {
        const [p, t] = family(k);
        globMatch(p, t);
        expect(globWorkOfLastMatch()).toBeLessThanOrEqual((p.length + 1) * (t.length + 1));
      }
    }
  });

  it('on random long inputs', () => {
    const longPattern = fc.array(fc.constantFrom('a', '*', '?', '[a]', 'b'), { maxLength: 200 }).map((a) => a.join(''));
    const longText = fc.array(fc.constantFrom('a', 'b'), { maxLength: 500 }).map((a) => a.join(''));
    fc.assert(
      fc.property(longPattern, longText, fc.boolean(), (p, t, nocase) => {
        checkedMatch(p, t, nocase);
      }),
      { numRuns: 2_000 },
    );
  });
});
