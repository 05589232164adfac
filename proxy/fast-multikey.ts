// The proxy's fast path for per-key commands (MSET, MGET, DEL, UNLINK, EXISTS, TOUCH: the command
// table's perKey:* policies): a request lying whole inside one read is scanned once from its
// bytes — each key's frame offset and slot, no string, no per-key closure — and split by the
// splitter's own per-key plan (Splitter.perKeyOf), each piece built by copying the byte ranges of
// its keys' (and values') frames behind a new header. Anything unusual (a frame split across
// reads, a wrong argument count, more arguments than MAX_MULTI_ARGS, a non-canonical length) is
// left to the general decoder, which gives it its exact reply; nothing here answers a client.
import type { CommandSpec } from '../common/commands/spec.js';
import { COMMANDS } from '../common/commands/table.js';
import { copyBytes } from '../common/bytes.js';
import { slotOfBytes } from '../common/slots.js';
import { lengthLine, lineEnd } from './frame-scan.js';
import type { PerKeyRequest } from './splitter.js';

/** Arguments a fast-path per-key request may have (512 MSET pairs); more go the general way. */
export const MAX_MULTI_ARGS = 1025;
const MAX_KEYS = MAX_MULTI_ARGS - 1;
const CR = 13;
const LF = 10;
const DOLLAR = 0x24;

/** Whether the per-key fast path may take `spec`: keys from argument 1 to the end, every keyStep. */
export function isMultiKeySpec(spec: CommandSpec): boolean {
  return spec.proxy.startsWith('perKey:') && spec.firstKey === 1 && spec.lastKey === -1 &&
    spec.keyStep >= 1 && spec.movableKeys === undefined && spec.subcommands === undefined && !spec.name.includes('|');
}

// The few per-key commands, by name (compared folded; a handful, so a list, not a table).
const multiNames: Uint8Array[] = [];
const multiSpecs: CommandSpec[] = [];
for (const spec of COMMANDS.values()) {
  if (!isMultiKeySpec(spec)) continue;
  multiNames.push(Buffer.from(spec.name, 'latin1'));
  multiSpecs.push(spec);
}

/** The per-key command named by bytes [start, end) in any letter case, or null. */
export function multiSpecOf(buf: Uint8Array, start: number, end: number): CommandSpec | null {
  const len = end - start;
  for (let n = 0; n < multiNames.length; n++) {
    const name = multiNames[n]!;
    if (name.length !== len) continue;
    let k = 0;
    for (; k < len; k++) {
      let c = buf[start + k]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== name[k]) break;
    }
    if (k === len) return multiSpecs[n]!;
  }
  return null;
}

/** Where one fast-path per-key request lies in its read buffer (filled by the scanner; reused). */
export interface MultiKeyScan {
  spec: CommandSpec | null;
  /** The command name's bulk frame: bytes [nameStart, nameEnd) ("$4\r\nMSET\r\n"). */
  nameStart: number;
  nameEnd: number;
  keyCount: number;
  /** The frame: bytes [start, end). */
  start: number;
  end: number;
}

export function newMultiKeyScan(): MultiKeyScan {
  return { spec: null, nameStart: 0, nameEnd: 0, keyCount: 0, start: 0, end: 0 };
}

// Scratch of the last scan, two numbers per key: where key k's frame begins (its '$', at [2k]) and
// its slot ([2k + 1]); [2 * keyCount] = the frame's end, so key k with its values is
// [at[2k], at[2k + 2]). Plain small integers: one slice() per started request copies them.
const scratch: number[] = new Array<number>(2 * MAX_KEYS + 1).fill(0);

/**
 * The rest of a per-key request whose header ("*argc") and name (`spec`, bulk frame
 * [nameStart, nameEnd)) were read at buf[pos, nameEnd): each argument's frame once, in order, each
 * key's slot from its bytes. True, with `out` and the scratch filled, when the frame lies whole in
 * buf[pos, end) with a valid count; false for anything else (nothing consumed).
 */
export function scanMultiKeyRest(buf: Uint8Array, pos: number, argc: number, spec: CommandSpec, nameStart: number, nameEnd: number, end: number, maxBulk: number, out: MultiKeyScan): boolean {
  const step = spec.keyStep;
  const arity = spec.arity;
  if (argc > MAX_MULTI_ARGS || (arity >= 0 ? argc !== arity : argc < -arity) || (argc - 1) % step !== 0) return false;
  let p = nameEnd;
  let k = 0;
  for (let a = 1; a < argc; a++) {
    if (p >= end || buf[p] !== DOLLAR) return false;
    const len = lengthLine(buf, p + 1, end);
    if (len < 0 || len > maxBulk) return false;
    const from = lineEnd + 2;
    const to = from + len;
    if (to + 2 > end || buf[to] !== CR || buf[to + 1] !== LF) return false;
    if ((a - 1) % step === 0) {
      scratch[2 * k] = p;
      scratch[2 * k + 1] = slotOfBytes(buf, from, to);
      k++;
    }
    p = to + 2;
  }
  scratch[2 * k] = p;
  out.spec = spec;
  out.nameStart = nameStart;
  out.nameEnd = nameEnd;
  out.keyCount = k;
  out.start = pos;
  out.end = p;
  return true;
}

/** The last scanned request as a PerKeyRequest over `buf` (which must not change while it is split). */
export function frameKeysOf(buf: Buffer, scan: MultiKeyScan): FrameKeys {
  return new FrameKeys(buf, scan.start, scan.nameStart, scan.nameEnd, scratch.slice(0, 2 * scan.keyCount + 1), scan.keyCount, scan.spec!.keyStep);
}

/** A per-key request read from bytes: pieces are its header, name and keys' byte ranges copied. */
export class FrameKeys implements PerKeyRequest {
  constructor(
    private readonly buf: Buffer,
    /** The frame's first byte (its end is at[2 * keyCount]). */
    private readonly start: number,
    private readonly nameStart: number,
    private readonly nameEnd: number,
    /** Key k's frames (the key and its values) are [at[2k], at[2k + 2]); its slot is at[2k + 1]. */
    private readonly at: readonly number[],
    readonly keyCount: number,
    private readonly step: number,
  ) {}

  slotOfKey(k: number): number {
    return this.at[2 * k + 1]!;
  }

  whole(): Buffer {
    return this.buf.subarray(this.start, this.at[2 * this.keyCount]);
  }

  /** "*N\r\n" + the client's name frame + each key's frames, in `keys` order (adjacent runs copied at once). */
  piece(keys: readonly number[]): Buffer {
    const at = this.at;
    const argc = 1 + keys.length * this.step;
    const digits = argc < 10 ? 1 : argc < 100 ? 2 : argc < 1000 ? 3 : argc < 10000 ? 4 : String(argc).length;
    let size = 3 + digits + this.nameEnd - this.nameStart;
    for (let j = 0; j < keys.length; j++) size += at[2 * keys[j]! + 2]! - at[2 * keys[j]!]!;
    const out = Buffer.allocUnsafe(size);
    out[0] = 0x2a; // *
    for (let d = digits, n = argc; d > 0; d--, n = Math.floor(n / 10)) out[d] = 0x30 + (n % 10);
    out[digits + 1] = CR;
    out[digits + 2] = LF;
    let o = copyBytes(this.buf, this.nameStart, this.nameEnd, out, digits + 3);
    for (let j = 0; j < keys.length;) {
      const first = keys[j]!;
      let last = first;
      while (++j < keys.length && keys[j] === last + 1) last++;
      o = copyBytes(this.buf, at[2 * first]!, at[2 * last + 2]!, out, o);
    }
    return out;
  }
}
