// The Redis 7 multi-part AOF manifest: which base and incr files make up the log, in order.
// Pure parsing/formatting of `file <name> seq <n> type <b|h|i>` lines; no file system access.
import { splitInlineArgs } from '../../common/resp/request-decoder.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

export interface AofManifest {
  base: AofFileInfo | null;
  /** Incremental files, oldest first: loaded after the base, appended to is the last one. */
  incrs: AofFileInfo[];
  /** Files replaced by a rewrite but not deleted yet (Redis deletes them in the background). */
  history: AofFileInfo[];
}

export class ManifestError extends Error {}

export function emptyManifest(): AofManifest {
  return { base: null, incrs: [], history: [] };
}

export function baseFileName(prefix: string, seq: number): string {
  return `${prefix}.${seq}.base.aof`;
}

export function incrFileName(prefix: string, seq: number): string {
  return `${prefix}.${seq}.incr.aof`;
}

export function manifestFileName(prefix: string): string {
  return `${prefix}.manifest`;
}

/** Parses a manifest like Redis's aofLoadManifestFromFile; throws ManifestError with Redis's texts. */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const args = splitInlineArgs(line);
    if (!args || args.length % 2 !== 0) throw new ManifestError('Invalid AOF manifest file format');
    const fields = new Map<string, string>();
    for (let j = 0; j < args.length; j += 2) fields.set(args[j]!, args[j + 1]!);
    const name = fields.get('file');
    const seq = Number(fields.get('seq'));
    const type = fields.get('type');
    if (name === undefined || !Number.isInteger(seq) || seq < 0 || type === undefined) {
      throw new ManifestError('Invalid AOF manifest file format');
    }
    const info: AofFileInfo = { name, seq, type: type as AofFileType };
    if (type === 'b') {
      if (m.base !== null) throw new ManifestError('Found duplicate base file information');
      m.base = info;
    } else if (type === 'h') m.history.push(info);
    else if (type === 'i') {
      const last = m.incrs[m.incrs.length - 1];
      if (last !== undefined && seq <= last.seq) throw new ManifestError('Found a non-monotonic sequence number');
      m.incrs.push(info);
    } else throw new ManifestError('Unknown AOF file type');
    seen++;
  }
  if (seen === 0) throw new ManifestError('Found an empty AOF manifest');
  return m;
}

/** Renders a manifest the way Redis writes it: base, then history, then incr files. */
export function formatManifest(m: AofManifest): string {
  let out = '';
  const line = (f: AofFileInfo) => {
    out += `file ${quoteName(f.name)} seq ${f.seq} type ${f.type}\n`;
  };
  if (m.base) line(m.base);
  for (const h of m.history) line(h);
  for (const f of m.incrs) line(f);
  return out;
}

function quoteName(name: string): string {
  // Redis writes names with spaces or quotes in sdscatrepr form.
  if (!/[\s"'\\]/.test(name)) return name;
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
