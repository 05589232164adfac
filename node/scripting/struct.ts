// `struct` for scripts: Roberto Ierusalimschy's struct library as Redis 7.0 bundles it
// (deps/lua/src/lua_struct.c: pack, unpack, size) with Redis's x86-64 sizes (long and size_t 8,
// int 4, default alignment 8), its checks (integral sizes up to 32, "integral size overflow",
// "offset must be 1 or greater") and its C conversions (a number to a 64-bit integer as gcc's
// cvttsd2si gives it; wider integers keep only their low 8 bytes). Bounded: output grows only with
// the arguments, each option is O(its size), and unpack stops at Lua 5.1's 8,000-slot C stack as
// Redis does ("too many results").
import { lua, lauxlib, to_luastring } from './fengari-lazy.js';

const MAXINTSIZE = 32;
const MAXALIGN = 8;
const INT_MAX = 2147483647;
// Lua 5.1's LUAI_MAXCSTACK: a C function's frame in Redis's Lua holds at most this many values.
const MAX_C_STACK = 8000;
const SIZES: Record<string, number> = { b: 1, B: 1, h: 2, H: 2, l: 8, L: 8, T: 8, f: 4, d: 8, x: 1 };
const TWO32 = 4294967296;
const TWO64 = 18446744073709551616;
// Made by registerStruct: fengari's strings need fengari, loaded with the first VM.
let TOO_MANY: Uint8Array;
// Each format byte as a one-character string, made once (not per option read).
const CHARS: readonly string[] = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c));

interface Header {
  little: boolean;
  align: number;
}

/** A format being read: its bytes and the position of the next option. */
interface Fmt {
  s: Uint8Array;
  i: number;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isp2 = (x: number): boolean => x > 0 && (x & (x - 1)) === 0;

function raise(L: unknown, text: string): never {
  lauxlib.luaL_error(L, to_luastring(text));
  throw new Error('unreachable');
}

function argError(L: unknown, arg: number, text: string): never {
  lauxlib.luaL_argerror(L, arg, to_luastring(text));
  throw new Error('unreachable');
}

function getnum(L: unknown, f: Fmt, df: number): number {
  if (!isDigit(f.s[f.i])) return df;
  let a = 0;
  do {
    const d = f.s[f.i]! - 48;
    if (a > Math.floor(INT_MAX / 10) || a * 10 > INT_MAX - d) raise(L, 'integral size overflow');
    a = a * 10 + d;
    f.i++;
  } while (isDigit(f.s[f.i]));
  return a;
}

function optsize(L: unknown, opt: string, f: Fmt): number {
  const fixed = SIZES[opt];
  if (fixed !== undefined) return fixed;
  if (opt === 'c') return getnum(L, f, 1);
  if (opt === 'i' || opt === 'I') {
    const sz = getnum(L, f, 4);
    if (sz > MAXINTSIZE) raise(L, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
    return sz;
  }
  return 0;
}

/** Bytes needed to align an item of `size` at `len` (the C formula, also for sizes not powers of 2). */
function gettoalign(len: number, h: Header, opt: string, size: number): number {
  if (size === 0 || opt === 'c') return 0;
  if (size > h.align) size = h.align;
  const m = size - 1; // < 32, so len's low bits are len % 32 (len may pass 2^31)
  return (size - ((len % 32) & m)) & m;
}

function controloptions(L: unknown, opt: string, f: Fmt, h: Header): void {
  if (opt === ' ') return;
  if (opt === '>') h.little = false;
  else if (opt === '<') h.little = true;
  else if (opt === '!') {
    const a = getnum(L, f, MAXALIGN);
    if (!isp2(a)) raise(L, `alignment ${a} is not a power of 2`);
    h.align = a;
  } else {
    argError(L, 1, `invalid format option '${opt}'`);
  }
}

/** A growable byte buffer; its size follows what was packed, never a count from the format alone. */
class Sink {
  buf = new Uint8Array(64);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

/**
 * A Lua number as the 64 bits Redis's C makes of it: (uint64)(int64)n for n < 0, (uint64)n
 * otherwise, with x86-64's answers where C leaves it undefined (NaN and below -2^63: 2^63; 2^64
 * and above: 0). Returned as [low, high] 32-bit words.
 */
function toU64(n: number): [number, number] {
  if (Number.isNaN(n) || n < -9223372036854775808) return [0, 0x80000000];
  const t = Math.trunc(n);
  if (t >= TWO64) return [0, 0];
  const hi = Math.floor(t / TWO32);
  return [(t - hi * TWO32) >>> 0, hi >>> 0];
}

function putinteger(L: unknown, out: Sink, arg: number, little: boolean, size: number): void {
  const [lo, hi] = toU64(lauxlib.luaL_checknumber(L, arg));
  const byteAt = (k: number): number => (k < 4 ? (lo >>> (8 * k)) & 0xff : k < 8 ? (hi >>> (8 * (k - 4))) & 0xff : 0);
  for (let k = 0; k < size; k++) out.byte(byteAt(little ? k : size - 1 - k));
}

const floatScratch = new DataView(new ArrayBuffer(8));

function putfloat(out: Sink, n: number, size: 4 | 8, little: boolean): void {
  // x86's default NaN (0/0 in Redis's Lua) has the sign bit set; JS writes the positive one.
  if (size === 4) {
    if (Number.isNaN(n)) floatScratch.setUint32(0, 0xffc00000, little);
    else floatScratch.setFloat32(0, n, little);
  } else if (Number.isNaN(n)) {
    floatScratch.setUint32(little ? 4 : 0, 0xfff80000, little);
    floatScratch.setUint32(little ? 0 : 4, 0, little);
  } else {
    floatScratch.setFloat64(0, n, little);
  }
  for (let k = 0; k < size; k++) out.byte(floatScratch.getUint8(k));
}

function pack(L: unknown): number {
  const f: Fmt = { s: lauxlib.luaL_checklstring(L, 1), i: 0 };
  const h: Header = { little: true, align: 1 };
  const out = new Sink();
  // The C pushes a nil after the arguments (its buffer's mark): a missing first value is "got nil".
  lua.lua_pushnil(L);
  let arg = 2;
  let total = 0;
  while (f.i < f.s.length) {
    const opt = CHARS[f.s[f.i++]!]!;
    let size = optsize(L, opt, f);
    let toalign = gettoalign(total, h, opt, size);
    total += toalign;
    while (toalign-- > 0) out.byte(0);
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        putinteger(L, out, arg++, h.little, size);
        break;
      case 'x':
        out.byte(0);
        break;
      case 'f': case 'd':
        putfloat(out, lauxlib.luaL_checknumber(L, arg++), size as 4 | 8, h.little);
        break;
      case 'c': case 's': {
        const s: Uint8Array = lauxlib.luaL_checklstring(L, arg++);
        if (size === 0) size = s.length;
        if (s.length < size) argError(L, arg, 'string too short');
        out.bytes(s.subarray(0, size));
        if (opt === 's') {
          out.byte(0);
          size++;
        }
        break;
      }
      default:
        controloptions(L, opt, f, h);
    }
    total += size;
  }
  lua.lua_pushlstring(L, out.buf.subarray(0, out.len), out.len);
  return 1;
}

/** getinteger: the integer's 8 least significant bytes, sign-extended from bit size*8-1 (mod 64, x86's shift). */
function getinteger(data: Uint8Array, pos: number, little: boolean, signed: boolean, size: number): number {
  const at = (k: number): number => data[little ? pos + k : pos + size - 1 - k]!; // k-th least significant
  if (size <= 6) {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = v * 256 + at(k);
    return signed && size > 0 && v >= 2 ** (8 * size - 1) ? v - 2 ** (8 * size) : v;
  }
  let l = 0n;
  for (let k = Math.min(size, 8) - 1; k >= 0; k--) l = (l << 8n) | BigInt(at(k));
  if (!signed) return Number(l);
  const mask = BigInt.asUintN(64, ~0n << BigInt((size * 8 - 1) & 63));
  if (l & mask) l |= mask;
  return Number(BigInt.asIntN(64, l));
}

function pushNumber(L: unknown, n: number): void {
  // fengari's integers are 32-bit: others stay floats (Redis's Lua 5.1 has only doubles).
  if (n === (n | 0) && !Object.is(n, -0)) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

/** (size_t) of a Lua number, as c0 takes its length: Infinity stands for the huge values. */
function toSize(d: number): number {
  if (Number.isNaN(d)) return Infinity;
  const t = Math.trunc(d);
  if (t < 0) return Infinity;
  return t >= TWO64 ? 0 : t;
}

/** luaL_optinteger's (ptrdiff_t) of a Lua number: truncated; NaN and out of range give -2^63 (x86). */
function toPtrdiff(d: number): number {
  if (Number.isNaN(d) || d < -9223372036854775808 || d >= 9223372036854775808) return -9223372036854775808;
  return Math.trunc(d);
}

function unpack(L: unknown): number {
  const f: Fmt = { s: lauxlib.luaL_checklstring(L, 1), i: 0 };
  const data: Uint8Array = lauxlib.luaL_checklstring(L, 2);
  const ld = data.length;
  const start = lua.lua_isnoneornil(L, 3) ? 1 : toPtrdiff(lauxlib.luaL_checknumber(L, 3));
  if (start === 0) argError(L, 3, 'offset must be 1 or greater');
  // A position below 1 is a huge size_t in C: every option then finds the data too short.
  let pos = start > 0 ? start - 1 : Infinity;
  const frame: number = lua.lua_gettop(L);
  const h: Header = { little: true, align: 1 };
  let n = 0;
  while (f.i < f.s.length) {
    const opt = CHARS[f.s[f.i++]!]!;
    let size = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, size);
    if (!(size <= ld && pos <= ld - size)) argError(L, 2, 'data string too short');
    if (frame + n + 2 > MAX_C_STACK) raise(L, 'stack overflow (too many results)');
    lauxlib.luaL_checkstack(L, 2, TOO_MANY);
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        pushNumber(L, getinteger(data, pos, h.little, opt >= 'a', size));
        n++;
        break;
      case 'x':
        break;
      case 'f': case 'd': {
        const view = new DataView(data.buffer, data.byteOffset + pos, size);
        pushNumber(L, size === 4 ? view.getFloat32(0, h.little) : view.getFloat64(0, h.little));
        n++;
        break;
      }
      case 'c':
        if (size === 0) {
          if (n === 0 || !lua.lua_isnumber(L, -1)) raise(L, "format 'c0' needs a previous size");
          size = toSize(lua.lua_tonumber(L, -1));
          lua.lua_pop(L, 1);
          n--;
          if (!(size <= ld - pos)) argError(L, 2, 'data string too short');
        }
        lua.lua_pushlstring(L, data.subarray(pos, pos + size), size);
        n++;
        break;
      case 's': {
        const e = data.indexOf(0, pos);
        if (e < 0) raise(L, 'unfinished string in data');
        size = e - pos + 1;
        lua.lua_pushlstring(L, data.subarray(pos, e), size - 1);
        n++;
        break;
      }
      default:
        controloptions(L, opt, f, h);
    }
    pos += size;
  }
  // Only an empty format gets here with a position below 1: C hands it back unchanged.
  pushNumber(L, pos === Infinity ? start : pos + 1);
  return n + 1;
}

function size(L: unknown): number {
  const f: Fmt = { s: lauxlib.luaL_checklstring(L, 1), i: 0 };
  const h: Header = { little: true, align: 1 };
  let pos = 0;
  while (f.i < f.s.length) {
    const c = f.s[f.i++]!;
    const opt = CHARS[c]!;
    const sz = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, sz);
    if (opt === 's') argError(L, 1, "option 's' has no fixed size");
    else if (opt === 'c' && sz === 0) argError(L, 1, "option 'c0' has no fixed size");
    if (!isAlnum(c)) controloptions(L, opt, f, h);
    pos += sz;
  }
  pushNumber(L, pos);
  return 1;
}

/** Adds the global `struct` table (pack, unpack, size). */
export function registerStruct(L: unknown): void {
  TOO_MANY ??= to_luastring('too many results');
  lua.lua_newtable(L);
  for (const [name, fn] of [['pack', pack], ['unpack', unpack], ['size', size]] as const) {
    lua.lua_pushcfunction(L, fn);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_setglobal(L, to_luastring('struct'));
}
