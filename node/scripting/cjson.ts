// `cjson` for scripts (encode/decode, as lua-cjson 2.1 which Redis bundles, default settings):
// tables with only positive integer keys are arrays (empty tables are objects), cjson.null is
// JSON null, numbers are printed with %.14g, '/' is escaped. Strings are bytes (latin1 here).
import { lua, lauxlib, to_luastring } from './fengari-lazy.js';
import { luaString, pushString } from './lua-values.js';

const MAX_DEPTH = 1000;

class EncodeError extends Error {}

/** %.14g, lua-cjson's default number format. */
function formatG14(d: number): string {
  if (Number.isInteger(d) && Math.abs(d) < 1e14) return Object.is(d, -0) ? '-0' : String(d);
  const exp = Math.floor(Math.log10(Math.abs(d)));
  if (exp < -4 || exp >= 14) {
    const [m, e] = d.toExponential(13).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = d.toPrecision(14);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\/\u0000-\u001f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** The JSON text of the value at the top of the stack (left in place). */
function encodeTop(L: unknown, nullRef: unknown, depth: number): string {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TNIL:
      return 'null';
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, -1) ? 'true' : 'false';
    case lua.LUA_TNUMBER: {
      const d: number = lua.lua_tonumber(L, -1);
      if (!Number.isFinite(d)) throw new EncodeError('Cannot serialise number: must not be NaN or Inf');
      return formatG14(d);
    }
    case lua.LUA_TSTRING:
      return quote(luaString(L, -1)!);
    case lua.LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, -1) === nullRef) return 'null';
      throw new EncodeError('Cannot serialise userdata: type not supported');
    case lua.LUA_TTABLE:
      if (depth >= MAX_DEPTH) throw new EncodeError(`Cannot serialise, excessive nesting (${depth + 1})`);
      return encodeTable(L, nullRef, depth + 1);
    default:
      throw new EncodeError(`Cannot serialise ${Buffer.from(lua.lua_typename(L, lua.lua_type(L, -1))).latin1Slice()}: type not supported`);
  }
}

/** Largest index when every key is a positive integer, -1 otherwise (lua-cjson's lua_array_length). */
function arrayLength(L: unknown): { max: number; items: number } | null {
  let max = 0;
  let items = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    if (lua.lua_type(L, -1) !== lua.LUA_TNUMBER) {
      lua.lua_pop(L, 1);
      return null;
    }
    const k: number = lua.lua_tonumber(L, -1);
    if (!Number.isInteger(k) || k < 1) {
      lua.lua_pop(L, 1);
      return null;
    }
    if (k > max) max = k;
    items++;
  }
  return { max, items };
}

function encodeTable(L: unknown, nullRef: unknown, depth: number): string {
  const arr = arrayLength(L);
  if (arr !== null && arr.max > 0) {
    // lua-cjson's default sparse rule: ratio 2, safe 10.
    if (arr.max > 10 && arr.max > arr.items * 2) throw new EncodeError('Cannot serialise table: excessively sparse array');
    const parts: string[] = [];
    for (let i = 1; i <= arr.max; i++) {
      lua.lua_rawgeti(L, -1, i);
      parts.push(encodeTop(L, nullRef, depth));
      lua.lua_pop(L, 1);
    }
    return `[${parts.join(',')}]`;
  }
  const parts: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const kt = lua.lua_type(L, -2);
    let key: string;
    if (kt === lua.LUA_TSTRING) key = luaString(L, -2)!;
    else if (kt === lua.LUA_TNUMBER) key = formatG14(lua.lua_tonumber(L, -2));
    else throw new EncodeError('Cannot serialise table: table key must be a number or string');
    parts.push(`${quote(key)}:${encodeTop(L, nullRef, depth)}`);
    lua.lua_pop(L, 1);
  }
  return `{${parts.join(',')}}`;
}

// Raw bytes 0x80-0xff of the input ride through JSON.parse as lone low surrogates U+DC80-U+DCFF,
// so afterwards they are told apart from characters written as \u escapes (which become UTF-8).
const RAW_BASE = 0xdc00;

function protectRawBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0080-\u00ff]/.test(text) ? text.replace(/[\u0080-\u00ff]/g, (c) => String.fromCharCode(RAW_BASE + c.charCodeAt(0))) : text;
}

/** A string from JSON.parse back to Lua bytes: raw bytes as they were, escaped characters as UTF-8. */
function jsonStringToBytes(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u007f]/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (code < 0x80) out += ch;
    else if (ch.length === 1 && code >= RAW_BASE + 0x80 && code <= RAW_BASE + 0xff) out += String.fromCharCode(code - RAW_BASE);
    else out += Buffer.from(ch, 'utf8').latin1Slice();
  }
  return out;
}

function pushJson(L: unknown, v: unknown, nullRef: unknown): void {
  lauxlib.luaL_checkstack(L, 3, null);
  if (v === null) return lua.lua_pushlightuserdata(L, nullRef);
  if (typeof v === 'boolean') return lua.lua_pushboolean(L, v);
  if (typeof v === 'number') return v === (v | 0) ? lua.lua_pushinteger(L, v) : lua.lua_pushnumber(L, v);
  if (typeof v === 'string') return pushString(L, jsonStringToBytes(v));
  if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    for (let i = 0; i < v.length; i++) {
      pushJson(L, v[i], nullRef);
      lua.lua_rawseti(L, -2, i + 1);
    }
    return;
  }
  lua.lua_newtable(L);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    pushString(L, jsonStringToBytes(k));
    pushJson(L, val, nullRef);
    lua.lua_rawset(L, -3);
  }
}

/** Adds the global `cjson` table (encode, decode, null). */
export function registerCjson(L: unknown): void {
  const nullRef = {}; // cjson.null: a light userdata no other value equals
  lua.lua_newtable(L);
  lua.lua_pushcfunction(L, (l: unknown) => {
    lauxlib.luaL_argcheck(l, lua.lua_gettop(l) === 1, 1, to_luastring('expected 1 argument'));
    let text: string;
    try {
      text = encodeTop(l, nullRef, 0);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      return lauxlib.luaL_error(l, to_luastring(err.message));
    }
    pushString(l, text);
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('encode'));
  lua.lua_pushcfunction(L, (l: unknown) => {
    lauxlib.luaL_argcheck(l, lua.lua_gettop(l) === 1, 1, to_luastring('expected 1 argument'));
    const text = luaString(l, 1);
    if (text === null) return lauxlib.luaL_error(l, to_luastring('bad argument #1 to \'decode\' (string expected)'));
    let value: unknown;
    try {
      value = JSON.parse(protectRawBytes(text));
    } catch (err) {
      // lua-cjson's wording, at the position JSON.parse reports (its own scanner may stop elsewhere).
      const at = /position (\d+)/.exec((err as Error).message);
      return lauxlib.luaL_error(l, to_luastring(`Expected value but found invalid token at character ${at ? Number(at[1]) + 1 : 1}`));
    }
    pushJson(l, value, nullRef);
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('decode'));
  lua.lua_pushlightuserdata(L, nullRef);
  lua.lua_setfield(L, -2, to_luastring('null'));
  lua.lua_setglobal(L, to_luastring('cjson'));
}
