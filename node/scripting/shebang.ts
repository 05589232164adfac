// Shebang lines: FUNCTION LOAD's "#!lua name=<lib>" (functions.ts) and EVAL's optional
// "#!lua flags=no-writes,…" (evalExtractShebangFlags), both split as sdssplitargs does.
import { SCRIPT_FLAGS, type ScriptFlag } from './library-load.js';

/** sdssplitargs, enough for a shebang: words, "double" (with \ escapes) and 'single' quotes; null if unbalanced. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    let quote: '"' | "'" | null = null;
    for (; i < line.length; i++) {
      const ch = line[i]!;
      if (quote === null) {
        if (/\s/.test(ch)) break;
        if (ch === '"' || ch === "'") quote = ch;
        else word += ch;
      } else if (quote === '"' && ch === '\\' && i + 1 < line.length) {
        word += line[++i]!;
      } else if (ch === quote) {
        // A closing quote must be followed by a space or the end (sdssplitargs).
        if (i + 1 < line.length && !/\s/.test(line[i + 1]!)) return null;
        quote = null;
      } else {
        word += ch;
      }
    }
    if (quote !== null) return null;
    out.push(word);
  }
  return out;
}

/**
 * EVAL's shebang: none → compat mode (flags null, nothing to skip); else the declared flags and
 * how many characters to skip before compiling (the line, not its newline: line numbers stay).
 */
export function evalShebang(body: string): { flags: ReadonlySet<ScriptFlag> | null; skip: number } | { error: string } {
  if (!body.startsWith('#!')) return { flags: null, skip: 0 };
  const eol = body.indexOf('\n');
  if (eol < 0) return { error: 'ERR Invalid script shebang' };
  const parts = splitArgs(body.slice(0, eol));
  if (parts === null || parts.length === 0) return { error: 'ERR Invalid engine in script shebang' };
  if (parts[0] !== '#!lua') return { error: `ERR Unexpected engine in script shebang: ${parts[0]}` };
  const flags = new Set<ScriptFlag>();
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return { error: `ERR Unknown lua shebang option: ${part}` };
    const list = part.slice(6);
    for (const name of list.length === 0 ? [] : list.split(',')) {
      const flag = SCRIPT_FLAGS.find((f) => f === name); // case-sensitive here, unlike register_function
      if (flag === undefined) return { error: `ERR Unexpected flag in script shebang: ${name}` };
      flags.add(flag);
    }
  }
  return { flags, skip: eol };
}
