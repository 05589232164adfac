// `cmsgpack` for scripts (pack/unpack, as the lua-cmsgpack Redis bundles): integers in the smallest
// MessagePack form, other numbers as float32 when exact else float64, strings as fixstr/str8/16/32,
// tables with keys 1..n as arrays, others as maps, nesting past 16 as nil. Job-queue libraries
// (BullMQ) pass their options to scripts this way.
import { lua, lauxlib, to_luastring } from './fengari-lazy.js';
import { luaString, pushString } from './lua-values.js';

const MAX_NESTING = 16;

class Out {
  private parts: Buffer[] = [];
  bytes(...b: number[]): void {
    this.parts.push(Buffer.from(b));
  }
  buf(b: Buffer): void {
    this.parts.push(b);
  }
  take(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function header(out: Out, code: number, size: 1 | 2 | 4, n: number): void {
  const b = Buffer.alloc(1 + size);
  b[0] = code;
  if (size === 1) b.writeUInt8(n, 1);
  else if (size === 2) b.writeUInt16BE(n, 1);
  else b.writeUInt32BE(n, 1);
  out.buf(b);
}

function packInteger(out: Out, n: number): void {
  const b = Buffer.alloc(9);
  if (n >= 0) {
    if (n < 128) return out.bytes(n);
    if (n < 0x100) return out.bytes(0xcc, n);
    if (n < 0x10000) return header(out, 0xcd, 2, n);
    if (n < 0x100000000) return header(out, 0xce, 4, n);
    b[0] = 0xcf;
    b.writeBigUInt64BE(BigInt(n), 1);
  } else {
    if (n >= -32) return out.bytes(n & 0xff);
    if (n >= -128) return out.bytes(0xd0, n & 0xff);
    if (n >= -32768) {
      const h = Buffer.alloc(3);
      h[0] = 0xd1;
      h.writeInt16BE(n, 1);
      return out.buf(h);
    }
    if (n >= -2147483648) {
      const h = Buffer.alloc(5);
      h[0] = 0xd2;
      h.writeInt32BE(n, 1);
      return out.buf(h);
    }
    b[0] = 0xd3;
    b.writeBigInt64BE(BigInt(n), 1);
  }
  out.buf(b);
}

function packNumber(out: Out, d: number): void {
  if (Number.isInteger(d) && Math.abs(d) <= Number.MAX_SAFE_INTEGER) return packInteger(out, d);
  if (Math.fround(d) === d || Number.isNaN(d)) {
    const b = Buffer.alloc(5);
    b[0] = 0xca;
    b.writeFloatBE(d, 1);
    return out.buf(b);
  }
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(d, 1);
  out.buf(b);
}

function packString(out: Out, s: string): void {
  const n = s.length;
  if (n < 32) out.bytes(0xa0 | n);
  else if (n <= 0xff) out.bytes(0xd9, n);
  else if (n <= 0xffff) header(out, 0xda, 2, n);
  else header(out, 0xdb, 4, n);
  out.buf(Buffer.from(s, 'latin1'));
}

/** Keys exactly 1..n (lua-cmsgpack's table_is_an_array), or -1. */
function arrayCount(L: unknown): number {
  let max = 0;
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    const k: number = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : NaN;
    if (!Number.isInteger(k) || k < 1) {
      lua.lua_pop(L, 1);
      return -1;
    }
    if (k > max) max = k;
    count++;
  }
  return max === count ? count : -1;
}

function packTable(out: Out, L: unknown, level: number): void {
  const n = arrayCount(L);
  if (n >= 0) {
    if (n < 16) out.bytes(0x90 | n);
    else if (n <= 0xffff) header(out, 0xdc, 2, n);
    else header(out, 0xdd, 4, n);
    for (let i = 1; i <= n; i++) {
      lua.lua_rawgeti(L, -1, i);
      packTop(out, L, level + 1);
      lua.lua_pop(L, 1);
    }
    return;
  }
  let pairs = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    pairs++;
  }
  if (pairs < 16) out.bytes(0x80 | pairs);
  else if (pairs <= 0xffff) header(out, 0xde, 2, pairs);
  else header(out, 0xdf, 4, pairs);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pushvalue(L, -2);
    packTop(out, L, level + 1); // key
    lua.lua_pop(L, 1);
    packTop(out, L, level + 1); // value
    lua.lua_pop(L, 1);
  }
}

/** Packs the value at the top of the stack (left in place). */
function packTop(out: Out, L: unknown, level: number): void {
  lauxlib.luaL_checkstack(L, 4, null);
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TBOOLEAN:
      return out.bytes(lua.lua_toboolean(L, -1) ? 0xc3 : 0xc2);
    case lua.LUA_TNUMBER:
      return packNumber(out, lua.lua_tonumber(L, -1));
    case lua.LUA_TSTRING:
      return packString(out, luaString(L, -1)!);
    case lua.LUA_TTABLE:
      if (level === MAX_NESTING) return out.bytes(0xc0);
      return packTable(out, L, level);
    default:
      return out.bytes(0xc0);
  }
}

class MissingBytes extends Error {}
class BadFormat extends Error {}

/** Decodes one object at `pos`, pushing it; returns the next position. */
function unpackOne(L: unknown, b: Buffer, pos: number): number {
  const need = (n: number) => {
    if (pos + n > b.length) throw new MissingBytes();
  };
  need(1);
  const c = b[pos++]!;
  const pushNum = (n: number) => (n === (n | 0) ? lua.lua_pushinteger(L, n) : lua.lua_pushnumber(L, n));
  const str = (n: number) => {
    need(n);
    pushString(L, b.latin1Slice(pos, pos + n));
    return pos + n;
  };
  const array = (n: number) => {
    lua.lua_createtable(L, n, 0);
    for (let i = 1; i <= n; i++) {
      pos = unpackOne(L, b, pos);
      lua.lua_rawseti(L, -2, i);
    }
    return pos;
  };
  const map = (n: number) => {
    lua.lua_createtable(L, 0, n);
    for (let i = 0; i < n; i++) {
      pos = unpackOne(L, b, pos);
      pos = unpackOne(L, b, pos);
      lua.lua_settable(L, -3);
    }
    return pos;
  };
  const u = (size: 1 | 2 | 4) => {
    need(size);
    const v = size === 1 ? b.readUInt8(pos) : size === 2 ? b.readUInt16BE(pos) : b.readUInt32BE(pos);
    pos += size;
    return v;
  };
  lauxlib.luaL_checkstack(L, 4, null);
  if (c < 0x80) return pushNum(c), pos;
  if (c >= 0xe0) return pushNum(c - 256), pos;
  if ((c & 0xf0) === 0x80) return map(c & 0x0f);
  if ((c & 0xf0) === 0x90) return array(c & 0x0f);
  if ((c & 0xe0) === 0xa0) return str(c & 0x1f);
  switch (c) {
    case 0xc0: lua.lua_pushnil(L); return pos;
    case 0xc2: lua.lua_pushboolean(L, false); return pos;
    case 0xc3: lua.lua_pushboolean(L, true); return pos;
    case 0xcc: return pushNum(u(1)), pos;
    case 0xcd: return pushNum(u(2)), pos;
    case 0xce: return pushNum(u(4)), pos;
    case 0xcf: need(8); pushNum(Number(b.readBigUInt64BE(pos))); return pos + 8;
    case 0xd0: need(1); pushNum(b.readInt8(pos)); return pos + 1;
    case 0xd1: need(2); pushNum(b.readInt16BE(pos)); return pos + 2;
    case 0xd2: need(4); pushNum(b.readInt32BE(pos)); return pos + 4;
    case 0xd3: need(8); pushNum(Number(b.readBigInt64BE(pos))); return pos + 8;
    case 0xca: need(4); lua.lua_pushnumber(L, b.readFloatBE(pos)); return pos + 4;
    case 0xcb: need(8); lua.lua_pushnumber(L, b.readDoubleBE(pos)); return pos + 8;
    case 0xd9: case 0xc4: return str(u(1));
    case 0xda: case 0xc5: return str(u(2));
    case 0xdb: case 0xc6: return str(u(4));
    case 0xdc: return array(u(2));
    case 0xdd: return array(u(4));
    case 0xde: return map(u(2));
    case 0xdf: return map(u(4));
    default: throw new BadFormat();
  }
}

/** Adds the global `cmsgpack` table (pack, unpack). */
export function registerCmsgpack(L: unknown): void {
  lua.lua_newtable(L);
  lua.lua_pushcfunction(L, (l: unknown) => {
    const argc: number = lua.lua_gettop(l);
    if (argc === 0) return lauxlib.luaL_argerror(l, 0, to_luastring('MessagePack pack needs input.'));
    const out = new Out();
    for (let i = 1; i <= argc; i++) {
      lua.lua_pushvalue(l, i);
      packTop(out, l, 0);
      lua.lua_pop(l, 1);
    }
    pushString(l, out.take().latin1Slice());
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('pack'));
  lua.lua_pushcfunction(L, (l: unknown) => {
    const text = luaString(l, 1);
    if (text === null) return lauxlib.luaL_error(l, to_luastring('MessagePack unpack needs a string.'));
    const b = Buffer.from(text, 'latin1');
    lua.lua_settop(l, 0);
    let pos = 0;
    let n = 0;
    try {
      while (pos < b.length) {
        pos = unpackOne(l, b, pos);
        n++;
      }
    } catch (err) {
      if (err instanceof MissingBytes) return lauxlib.luaL_error(l, to_luastring('Missing bytes in input.'));
      if (err instanceof BadFormat) return lauxlib.luaL_error(l, to_luastring('Bad data format in input.'));
      throw err;
    }
    return n;
  });
  lua.lua_setfield(L, -2, to_luastring('unpack'));
  lua.lua_setglobal(L, to_luastring('cmsgpack'));
}
