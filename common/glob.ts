// Redis's glob-style pattern matching (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET) on latin1 strings.

/** Redis's stringmatchlen for ASCII patterns: * ? [abc] [^a-z] and \ escapes. */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  return globAt(pattern, 0, text, 0, nocase);
}

function globAt(p: string, pi: number, s: string, si: number, nocase: boolean): boolean {
  while (pi < p.length) {
    const pc = p[pi]!;
    if (pc === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (globAt(p, pi + 1, s, k, nocase)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (pc === '?') {
      pi++;
      si++;
      continue;
    }
    if (pc === '[') {
      let j = pi + 1;
      const not = p[j] === '^';
      if (not) j++;
      let matched = false;
      for (;;) {
        if (j >= p.length) {
          j--;
          break;
        }
        if (p[j] === '\\' && j + 1 < p.length) {
          j++;
          if (eq(p[j]!, s[si]!, nocase)) matched = true;
        } else if (p[j] === ']') {
          break;
        } else if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
          let lo = p.charCodeAt(j);
          let hi = p.charCodeAt(j + 2);
          let c = s.charCodeAt(si);
          if (lo > hi) [lo, hi] = [hi, lo];
          if (nocase) {
            lo = lower(lo);
            hi = lower(hi);
            c = lower(c);
          }
          if (c >= lo && c <= hi) matched = true;
          j += 2;
        } else if (eq(p[j]!, s[si]!, nocase)) {
          matched = true;
        }
        j++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      pi = j + 1;
      si++;
      continue;
    }
    if (pc === '\\' && pi + 1 < p.length) pi++;
    if (!eq(p[pi]!, s[si]!, nocase)) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function eq(a: string, b: string, nocase: boolean): boolean {
  return nocase ? lower(a.charCodeAt(0)) === lower(b.charCodeAt(0)) : a === b;
}
