// A small TOML reader for our config files: `key = value` with strings, integers, floats,
// booleans and arrays of those, `[table]` headers (flattened as "table.key"), and # comments.

export type TomlValue = string | number | boolean | TomlValue[];

export function parseToml(text: string): Record<string, TomlValue> {
  const out: Record<string, TomlValue> = {};
  let prefix = '';
  text.split('\n').forEach((rawLine, i) => {
    const line = stripComment(rawLine).trim();
    if (line === '') return;
    const table = /^\[([A-Za-z0-9_.-]+)\]$/.exec(line);
    if (table) {
      prefix = `${table[1]}.`;
      return;
    }
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: expected key = value`);
    const key = prefix + m[1];
    if (key in out) throw new Error(`line ${i + 1}: duplicate key '${key}'`);
    out[key] = parseValue(m[2]!.trim(), i + 1);
  });
  return out;
}

function stripComment(line: string): string {
  let inString: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\' && inString === '"') i++;
      else if (c === inString) inString = null;
    } else if (c === '"' || c === "'") inString = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function parseValue(v: string, line: number): TomlValue {
  if (v.startsWith('"')) {
    if (!v.endsWith('"') || v.length < 2) throw new Error(`line ${line}: unterminated string`);
    return JSON.parse(v) as string;
  }
  if (v.startsWith("'")) {
    if (!v.endsWith("'") || v.length < 2) throw new Error(`line ${line}: unterminated string`);
    return v.slice(1, -1);
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v.startsWith('[')) {
    if (!v.endsWith(']')) throw new Error(`line ${line}: unterminated array`);
    const inner = v.slice(1, -1).trim();
    if (inner === '') return [];
    return splitTopLevel(inner).map((x) => parseValue(x.trim(), line));
  }
  const n = Number(v.replace(/_/g, ''));
  if (v !== '' && Number.isFinite(n)) return n;
  throw new Error(`line ${line}: cannot read value '${v}'`);
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString: string | null = null;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\' && inString === '"') i++;
      else if (c === inString) inString = null;
    } else if (c === '"' || c === "'") inString = c;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (s.slice(start).trim() !== '') parts.push(s.slice(start));
  return parts;
}
