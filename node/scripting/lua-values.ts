// Conversions between Redis replies and Lua values, as Redis 7's script_lua.c does them: replies
// a command gave to redis.call become Lua values, and a script's return value becomes the reply.
import { lua } from './fengari-lazy.js';
import { MapValue, type Reply, ReplyErrorValue, SimpleString } from '../../common/resp/reply-decoder.js';
import type { ReplyWriter } from '../../common/resp/reply-writer.js';
import { INT64_MIN } from '../keyspace/types/canonical-int.js';

/** Bytes of a latin1 ("binary") JS string, as the Lua strings fengari keeps. */
export function luaBytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** A Lua string (bytes) at `idx` as a latin1 JS string; null when not a string or number. */
export function luaString(L: unknown, idx: number): string | null {
  const u8: Uint8Array | null = lua.lua_tolstring(L, idx);
  if (u8 === null) return null;
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length).latin1Slice();
}

export function pushString(L: unknown, s: string): void {
  lua.lua_pushlstring(L, luaBytes(s), s.length);
}

function setField(L: unknown, field: string, pushValue: () => void): void {
  pushString(L, field);
  pushValue();
  lua.lua_settable(L, -3);
}

/**
 * Redis's luaPushErrorBuff: "-CODE msg" keeps its code, a bare message gets ERR; the table is
 * {err = "CODE msg"} with the line ending trimmed.
 */
export function pushErrorTable(L: unknown, text: string): void {
  let code = 'ERR';
  let msg = text;
  if (text.startsWith('-')) {
    const space = text.indexOf(' ');
    if (space < 0) msg = text.slice(1);
    else {
      code = text.slice(1, space);
      msg = text.slice(space + 1);
    }
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, '');
  lua.lua_newtable(L);
  setField(L, 'err', () => pushString(L, `${code} ${msg}`));
}

/** A decoded command reply as the Lua value redis.call returns (redisProtocolToLuaType). */
export function pushReply(L: unknown, r: Reply): void {
  lua.luaL_checkstack?.(L, 4, null);
  if (typeof r === 'string') return pushString(L, r);
  // fengari's integers are 32-bit: wider integers become floats (Lua 5.1 has only floats anyway).
  if (typeof r === 'number') return r === (r | 0) ? lua.lua_pushinteger(L, r) : lua.lua_pushnumber(L, r);
  if (typeof r === 'bigint') return lua.lua_pushnumber(L, Number(r));
  if (r === null) return lua.lua_pushboolean(L, false);
  if (typeof r === 'boolean') return lua.lua_pushboolean(L, r);
  if (r instanceof SimpleString) {
    lua.lua_newtable(L);
    return setField(L, 'ok', () => pushString(L, r.value));
  }
  if (r instanceof ReplyErrorValue) return pushErrorTable(L, `-${r.message}`);
  if (r instanceof MapValue) {
    lua.lua_newtable(L);
    return setField(L, 'map', () => {
      lua.lua_newtable(L);
      for (const [k, v] of r.pairs) {
        pushReply(L, k);
        pushReply(L, v);
        lua.lua_settable(L, -3);
      }
    });
  }
  lua.lua_createtable(L, r.length, 0);
  for (let i = 0; i < r.length; i++) {
    pushReply(L, r[i]!);
    lua.lua_rawseti(L, -2, i + 1);
  }
}

/** A table's string field, or null (raw access: no metamethods, as Redis's lua_rawget). */
function rawStringField(L: unknown, field: string): string | null {
  pushString(L, field);
  lua.lua_rawget(L, -2);
  const out = lua.lua_type(L, -1) === lua.LUA_TSTRING ? luaString(L, -1) : null;
  lua.lua_pop(L, 1);
  return out;
}

function rawTableField(L: unknown, field: string): boolean {
  pushString(L, field);
  lua.lua_rawget(L, -2);
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) return true;
  lua.lua_pop(L, 1);
  return false;
}

const TWO_63 = 2 ** 63;

/**
 * Lua number → integer reply, as Redis's (long long) cast of the double on x86-64: toward zero,
 * exact however wide (a double past 2^53 is an integer already), and LLONG_MIN ("integer
 * indefinite") for NaN, infinities and anything outside the long long range. Never `:1e+19`.
 */
function writeNumber(L: unknown, w: ReplyWriter): void {
  if (lua.lua_isinteger(L, -1)) return w.integer(lua.lua_tointeger(L, -1));
  const t = Math.trunc(lua.lua_tonumber(L, -1) as number);
  if (Number.isSafeInteger(t)) return w.integer(t + 0); // + 0: -0 prints as 0
  if (!(t >= -TWO_63 && t < TWO_63)) return w.bigInteger(INT64_MIN);
  w.bigInteger(BigInt(t));
}

/**
 * Writes the value on top of the stack as the reply (luaReplyToRedisReply) and pops it.
 * `resp` is the script's protocol (redis.setresp): under 2 false is a null reply, under 3 a boolean.
 */
export function writeLuaValue(L: unknown, w: ReplyWriter, resp: 2 | 3): void {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TSTRING:
      w.bulk(luaString(L, -1)!);
      break;
    case lua.LUA_TBOOLEAN: {
      const b = lua.lua_toboolean(L, -1);
      if (resp === 3) w.boolean(b);
      else if (b) w.integer(1);
      else w.null();
      break;
    }
    case lua.LUA_TNUMBER:
      writeNumber(L, w);
      break;
    case lua.LUA_TTABLE:
      writeTable(L, w, resp);
      break;
    default:
      w.null();
  }
  lua.lua_pop(L, 1);
}

/**
 * The table cases, in Redis's order: {err=}, {ok=}, {double=}, {big_number=}, {map=}, {set=},
 * {verbatim_string={format=, string=}}, else an array up to the first nil.
 */
function writeTable(L: unknown, w: ReplyWriter, resp: 2 | 3): void {
  const err = rawStringField(L, 'err');
  // A returned error table answers its bare text; raised errors get the script's position (runner.ts).
  if (err !== null) return w.error(err.replace(/[\r\n]/g, ' '));
  const ok = rawStringField(L, 'ok');
  if (ok !== null) return w.simple(ok.replace(/[\r\n]/g, ' '));
  pushString(L, 'double');
  lua.lua_rawget(L, -2);
  if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
    w.double(lua.lua_tonumber(L, -1));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  const bigNumber = rawStringField(L, 'big_number');
  if (bigNumber !== null) return w.bigNumber(bigNumber.replace(/[\r\n]/g, ' '));
  if (rawTableField(L, 'map')) return writePairs(L, w, resp, 'map');
  if (rawTableField(L, 'set')) return writePairs(L, w, resp, 'set');
  if (rawTableField(L, 'verbatim_string')) {
    const format = rawStringField(L, 'format');
    const text = format === null ? null : rawStringField(L, 'string');
    lua.lua_pop(L, 1);
    // Redis copies exactly 3 bytes of the format (a shorter one: NUL-padded here).
    if (text !== null) return w.verbatim(text, format!.slice(0, 3).padEnd(3, '\0'));
  }
  let n = 0;
  while (lua.lua_rawgeti(L, -1, n + 1) !== lua.LUA_TNIL) {
    lua.lua_pop(L, 1);
    n++;
  }
  lua.lua_pop(L, 1);
  w.array(n);
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, -1, i);
    writeLuaValue(L, w, resp);
  }
}

/** {map={k=v…}} and {set={k=true…}}, the inner table on top of the stack (popped here). */
function writePairs(L: unknown, w: ReplyWriter, resp: 2 | 3, kind: 'map' | 'set'): void {
  let n = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    n++;
  }
  if (kind === 'map') w.map(n);
  else w.set(n);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    if (kind === 'map') {
      lua.lua_pushvalue(L, -2);
      writeLuaValue(L, w, resp); // the key
      writeLuaValue(L, w, resp); // the value
    } else {
      lua.lua_pop(L, 1);
      lua.lua_pushvalue(L, -1);
      writeLuaValue(L, w, resp);
    }
  }
  lua.lua_pop(L, 1);
}
