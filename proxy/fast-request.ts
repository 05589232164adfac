// The proxy's fast path for the commonest requests (GET, SET, INCR, HGET … — the command table's
// `single` policy with one key at argument 1): a request lying whole inside one read is found,
// named and hashed from its bytes, with no string, array or closure made for it. Anything else —
// another policy, a frame split across reads, an inline request, a malformed or unusual frame,
// a wrong argument count — is left to the general decoder (common/resp/request-decoder.ts),
// which gives it its exact reply; this scanner never answers or refuses anything itself.
import { COMMANDS } from '../common/commands/table.js';
import type { CommandSpec } from '../common/commands/spec.js';
import { type MultiKeyScan, multiSpecOf, scanMultiKeyRest } from './fast-multikey.js';
import { lengthLine, lineEnd } from './frame-scan.js';

/** Where one fast-path request lies in its read buffer (filled by scanFastRequest; reused). */
export interface FastRequest {
  spec: CommandSpec | null;
  /** The spec's 'write' and 'readonly' flags (looked up once per command, not per request). */
  write: boolean;
  readonly: boolean;
  /** The key: bytes [keyStart, keyEnd). */
  keyStart: number;
  keyEnd: number;
  /** The frame: bytes [start, end). */
  start: number;
  end: number;
}

export function newFastRequest(): FastRequest {
  return { spec: null, write: false, readonly: false, keyStart: 0, keyEnd: 0, start: 0, end: 0 };
}

// A fast-path request has few arguments (SET key value EX 10 NX GET …); more go the general way.
const MAX_ARGS = 16;
const CR = 13;
const LF = 10;

// The fast commands by name: open addressing on a hash of the lower-cased name.
const TABLE_SIZE = 1024;
const names: Array<Uint8Array | null> = new Array(TABLE_SIZE).fill(null);
const specs: Array<CommandSpec | null> = new Array(TABLE_SIZE).fill(null);
const writes = new Uint8Array(TABLE_SIZE);
const readonlys = new Uint8Array(TABLE_SIZE);
let found = 0;

/** Whether the fast path may take `spec`: one key at argument 1, forwarded whole to its slot. */
export function isFastSpec(spec: CommandSpec): boolean {
  return spec.proxy === 'single' && spec.firstKey === 1 && spec.lastKey === 1 &&
    spec.movableKeys === undefined && spec.subcommands === undefined && !spec.name.includes('|');
}

for (const spec of COMMANDS.values()) {
  if (!isFastSpec(spec)) continue;
  const bytes = Buffer.from(spec.name, 'latin1');
  let i = nameHash(bytes, 0, bytes.length) & (TABLE_SIZE - 1);
  while (names[i] !== null) i = (i + 1) & (TABLE_SIZE - 1);
  names[i] = bytes;
  specs[i] = spec;
  writes[i] = spec.flags.has('write') ? 1 : 0;
  readonlys[i] = spec.flags.has('readonly') ? 1 : 0;
}

/** FNV-1a of bytes [start, end), A-Z folded to a-z. */
function nameHash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** The fast command named by bytes [start, end) in any letter case, or null. */
export function fastSpecOf(buf: Uint8Array, start: number, end: number): CommandSpec | null {
  const len = end - start;
  if (len === 0 || len > 24) return null;
  let i = nameHash(buf, start, end) & (TABLE_SIZE - 1);
  for (;;) {
    const name = names[i];
    if (name === null || name === undefined) return null;
    if (name.length === len && sameFolded(name, buf, start)) {
      found = i;
      return specs[i]!;
    }
    i = (i + 1) & (TABLE_SIZE - 1);
  }
}

function sameFolded(name: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = buf[start + k]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name[k]) return false;
  }
  return true;
}

/**
 * Scans the request at buf[pos]: true, with `out` filled, when it is a well-formed multibulk
 * frame lying whole in buf[pos, end) of a fast command with a valid argument count and no bulk
 * longer than `maxBulk`; false for anything else (nothing consumed: the general path takes it).
 */
export function scanFastRequest(buf: Uint8Array, pos: number, end: number, maxBulk: number, out: FastRequest): boolean {
  return scanRequest(buf, pos, end, maxBulk, out, null) === SINGLE;
}

/** What scanRequest() found: nothing for the fast paths, a one-key request, a per-key one. */
export const NONE = 0;
export const SINGLE = 1;
export const MULTI = 2;

/**
 * scanFastRequest(), and with `multi` also the per-key commands (MSET, MGET, DEL …: see
 * proxy/fast-multikey.ts), read on from their name without reading the header again: SINGLE with
 * `out` filled, MULTI with `multi` (and the scanner's scratch) filled, or NONE.
 */
export function scanRequest(buf: Uint8Array, pos: number, end: number, maxBulk: number, out: FastRequest, multi: MultiKeyScan | null): number {
  if (buf[pos] !== 0x2a /* * */) return NONE;
  const argc = lengthLine(buf, pos + 1, end);
  if (argc < 2 || (argc > MAX_ARGS && multi === null)) return NONE;
  let p = lineEnd + 2;
  // The name.
  if (p >= end || buf[p] !== 0x24 /* $ */) return NONE;
  const nameLen = lengthLine(buf, p + 1, end);
  if (nameLen < 0 || nameLen > maxBulk) return NONE;
  const nameFrom = lineEnd + 2;
  const nameTo = nameFrom + nameLen;
  if (nameTo + 2 > end || buf[nameTo] !== CR || buf[nameTo + 1] !== LF) return NONE;
  const spec = argc <= MAX_ARGS ? fastSpecOf(buf, nameFrom, nameTo) : null;
  if (spec === null) {
    if (multi === null) return NONE;
    const mspec = multiSpecOf(buf, nameFrom, nameTo);
    if (mspec === null) return NONE;
    return scanMultiKeyRest(buf, pos, argc, mspec, p, nameTo + 2, end, maxBulk, multi) ? MULTI : NONE;
  }
  const at = found;
  p = nameTo + 2;
  for (let a = 1; a < argc; a++) {
    if (p >= end || buf[p] !== 0x24 /* $ */) return NONE;
    const len = lengthLine(buf, p + 1, end);
    if (len < 0 || len > maxBulk) return NONE;
    const from = lineEnd + 2;
    const to = from + len;
    if (to + 2 > end || buf[to] !== CR || buf[to + 1] !== LF) return NONE;
    if (a === 1) {
      out.keyStart = from;
      out.keyEnd = to;
    }
    p = to + 2;
  }
  const arity = spec.arity;
  if (arity >= 0 ? argc !== arity : argc < -arity) return NONE;
  out.spec = spec;
  out.write = writes[at] === 1;
  out.readonly = readonlys[at] === 1;
  out.start = pos;
  out.end = p;
  return SINGLE;
}
