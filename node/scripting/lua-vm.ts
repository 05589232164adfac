// The node's one Lua VM (fengari: Lua 5.3 in plain JS, so a script and every redis.call it makes
// run synchronously inside one command, which is what makes scripts atomic). Holds the compiled
// scripts as registry references and the `redis` API; what a redis.call runs is the host's job.
import { createHash } from 'node:crypto';
import { lua, lauxlib, lualib, to_luastring, loadFengari } from './fengari-lazy.js';
import { type Reply, ReplyErrorValue } from '../../common/resp/reply-decoder.js';
import type { ReplyWriter } from '../../common/resp/reply-writer.js';
import type { LogLevel } from '../log.js';
import { registerBit } from './bit.js';
import { registerCjson } from './cjson.js';
import { registerCmsgpack } from './cmsgpack.js';
import { LoadCollector, type RegisteredFunction, registerFunction } from './library-load.js';
import { luaString, pushErrorTable, pushReply, pushString, writeLuaValue } from './lua-values.js';
import { PRELUDE } from './prelude.js';
import { registerStruct } from './struct.js';

/** What a redis.call asks of the node: a decoded reply, or `{ refused }` before anything ran. */
export type CallResult = Reply | { refused: string };

export interface ScriptHost {
  /** Runs one command for the running script. */
  call(args: string[]): CallResult;
  log(level: LogLevel, message: string): void;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'verbose', 'notice', 'warning'];
// Made by the first VM: fengari's strings need fengari, which the constructor loads.
let CHUNK_NAME: Uint8Array;
let LIBRARY_CHUNK_NAME: Uint8Array;
// Instructions between two looks at the clock while a library loads (Redis: 100000).
const LOAD_HOOK_EVERY = 100_000;
// Instructions between two looks at the clock while a script may pause.
const HOOK_EVERY = 10_000;

export function sha1hex(text: string): string {
  return createHash('sha1').update(text, 'latin1').digest('hex');
}

/** %.17g, as Redis formats a Lua float argument of redis.call. */
export function formatG17Arg(d: number): string {
  if (!Number.isFinite(d)) return Number.isNaN(d) ? (Object.is(d, NaN) ? 'nan' : '-nan') : d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(d)));
  if (exp < -4 || exp >= 17) {
    const [m, e] = d.toExponential(16).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = d.toPrecision(17);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

export class LuaVm {
  private readonly L: unknown;
  /** The running script's protocol for its redis.call replies and its own reply (redis.setresp). */
  resp: 2 | 3 = 2;

  constructor(private readonly host: ScriptHost) {
    loadFengari();
    CHUNK_NAME ??= to_luastring('@user_script');
    LIBRARY_CHUNK_NAME ??= to_luastring('@user_function');
    const L = lauxlib.luaL_newstate();
    this.L = L;
    for (const [name, open] of [
      ['_G', lualib.luaopen_base], ['table', lualib.luaopen_table], ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math], ['debug', lualib.luaopen_debug], ['coroutine', lualib.luaopen_coroutine],
    ] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    this.registerRedisApi();
    registerBit(L);
    registerStruct(L);
    registerCjson(L);
    registerCmsgpack(L);
    const prelude = to_luastring(PRELUDE);
    if (lauxlib.luaL_loadbuffer(L, prelude, prelude.length, to_luastring('=prelude')) !== lua.LUA_OK || lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) {
      throw new Error(`Lua prelude failed: ${luaString(L, -1)}`);
    }
    this.registerLoadApi();
  }

  /** The library loading now (redis.register_function adds to it), else null. */
  private loading: LoadCollector | null = null;
  private loadDeadline = 0;

  /**
   * Runs a library's code (the part after its shebang line) so it registers its functions
   * (luaEngineCreate): compile errors and errors raised while it runs come back as Redis's texts.
   * `timeoutMs` 0 = no limit (a master's or the AOF's FUNCTION LOAD).
   */
  loadLibrary(code: string, timeoutMs: number): RegisteredFunction[] | { error: string } {
    const L = this.L;
    const bytes = Buffer.from(code, 'latin1');
    if (lauxlib.luaL_loadbuffer(L, bytes, bytes.length, LIBRARY_CHUNK_NAME) !== lua.LUA_OK) {
      const msg = luaString(L, -1) ?? '';
      lua.lua_pop(L, 1);
      return { error: `Error compiling function: ${msg.replace(/ near <eof>$/, " near '<eof>'")}` };
    }
    lua.lua_getglobal(L, to_luastring('__redis__fenv'));
    lua.lua_setupvalue(L, -2, 1); // the chunk's _ENV: library code never sees the real globals
    const collector = new LoadCollector();
    this.loading = collector;
    this.loadDeadline = timeoutMs > 0 ? performance.now() + timeoutMs : 0;
    this.callSetLoading(true);
    lua.lua_sethook(L, this.loadHook, lua.LUA_MASKCOUNT, LOAD_HOOK_EVERY);
    const status = lua.lua_pcall(L, 0, 0, 0);
    lua.lua_sethook(L, null, 0, 0);
    this.callSetLoading(false);
    this.loading = null;
    if (status === lua.LUA_OK) return collector.functions;
    const msg = errorMessage(L);
    lua.lua_pop(L, 1);
    for (const f of collector.functions) this.release(f.ref);
    return { error: `Error registering functions: ${msg}` };
  }

  private readonly loadHook = (l: unknown): void => {
    if (this.loadDeadline > 0 && performance.now() > this.loadDeadline) {
      pushErrorTable(l, 'FUNCTION LOAD timeout');
      lua.lua_error(l);
    }
  };

  private callSetLoading(on: boolean): void {
    const L = this.L;
    lua.lua_getglobal(L, to_luastring('__redis__set_loading'));
    lua.lua_pushboolean(L, on);
    lua.lua_call(L, 1, 0);
  }

  /** The load API's `redis`: register_function, log and the version fields (function_lua.c). */
  private registerLoadApi(): void {
    const L = this.L;
    lua.lua_getglobal(L, to_luastring('__redis__load_api'));
    lua.lua_newtable(L);
    lua.lua_pushcfunction(L, (l: unknown) => registerFunction(l, this.loading));
    lua.lua_setfield(L, -2, to_luastring('register_function'));
    lua.lua_pushcfunction(L, (l: unknown) => this.logFn(l));
    lua.lua_setfield(L, -2, to_luastring('log'));
    setRedisConstants(L);
    lua.lua_getglobal(L, to_luastring('__redis__missing_meta'));
    lua.lua_setmetatable(L, -2);
    lua.lua_setfield(L, -2, to_luastring('redis'));
    lua.lua_pop(L, 1);
  }

  /** Compiles a script body; its registry reference, or Redis's compile error text. */
  compile(body: string): number | { error: string } {
    const L = this.L;
    const bytes = Buffer.from(body, 'latin1');
    if (lauxlib.luaL_loadbuffer(L, bytes, bytes.length, CHUNK_NAME) !== lua.LUA_OK) {
      const msg = luaString(L, -1) ?? '';
      lua.lua_pop(L, 1);
      // Lua 5.1 quotes the end of input in its messages; 5.3 does not.
      return { error: `ERR Error compiling script (new function): ${msg.replace(/ near <eof>$/, " near '<eof>'")}` };
    }
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  release(ref: number): void {
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  }

  /**
   * Starts a compiled script with KEYS/ARGV set, in a fresh coroutine. With `pauseAt` (a
   * performance.now() time, 0 = never) a count hook pauses it there; resume() runs it on.
   */
  begin(ref: number, keys: readonly string[], argv: readonly string[], pauseAt: number, asFunction = false): void {
    const L = this.L;
    this.resp = 2;
    this.killRequested = false;
    if (!asFunction) {
      this.setGlobalArray('KEYS', keys);
      this.setGlobalArray('ARGV', argv);
    }
    const T = lua.lua_newthread(L);
    this.threadRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX); // keeps the thread alive
    // A function gets its keys and arguments as its two parameters instead of globals.
    lua.lua_getglobal(T, to_luastring(asFunction ? '__redis__run_fn' : '__redis__run'));
    lua.lua_rawgeti(T, lua.LUA_REGISTRYINDEX, ref);
    if (asFunction) {
      pushArray(T, keys);
      pushArray(T, argv);
    }
    this.startArgs = asFunction ? 3 : 1;
    this.thread = T;
    this.started = false;
    this.pauseAt = pauseAt;
    if (pauseAt > 0) lua.lua_sethook(T, this.hook, lua.LUA_MASKCOUNT, HOOK_EVERY);
  }

  /** Runs the started script until it ends (reply or error written to `w`: true) or pauses (false). */
  resume(w: ReplyWriter, sha: string, pauseAt: number): boolean {
    const T = this.thread;
    this.pauseAt = pauseAt;
    const status = lua.lua_resume(T, this.L, this.started ? 0 : this.startArgs);
    this.started = true;
    if (status === lua.LUA_YIELD) return false;
    if (status === lua.LUA_OK) {
      lua.lua_settop(T, 2); // xpcall's status and the value (nil when the script returned none)
      if (lua.lua_toboolean(T, 1)) writeLuaValue(T, w, this.resp);
      else writeRaisedError(T, w, sha);
    } else {
      w.error(`ERR ${luaString(T, -1) ?? 'unknown error'}`);
    }
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, this.threadRef);
    this.thread = null;
    return true;
  }

  /** SCRIPT KILL: the paused script fails at its next hook. */
  kill(): void {
    this.killRequested = true;
  }

  private thread: unknown = null;
  private threadRef = 0;
  private started = false;
  private startArgs = 1;
  private pauseAt = 0;
  private killRequested = false;

  private readonly hook = (l: unknown): void => {
    if (this.killRequested) {
      pushErrorTable(l, 'Script killed by user with SCRIPT KILL...');
      lua.lua_error(l);
      return;
    }
    // Not from inside a JS callback (table.sort's comparator …): Lua cannot yield across it.
    if (this.pauseAt > 0 && performance.now() >= this.pauseAt && lua.lua_isyieldable(l)) lua.lua_yield(l, 0);
  };

  private setGlobalArray(name: string, items: readonly string[]): void {
    const L = this.L;
    lua.lua_pushglobaltable(L);
    pushString(L, name);
    pushArray(L, items);
    lua.lua_rawset(L, -3); // raw: the globals are locked for scripts, not for the server
    lua.lua_pop(L, 1);
  }

  private registerRedisApi(): void {
    const L = this.L;
    lua.lua_newtable(L);
    const fn = (name: string, f: (L: unknown) => number): void => {
      lua.lua_pushcfunction(L, f);
      lua.lua_setfield(L, -2, to_luastring(name));
    };
    fn('call', (l) => this.redisCall(l, true));
    fn('pcall', (l) => this.redisCall(l, false));
    fn('sha1hex', (l) => this.sha1hexFn(l));
    fn('error_reply', (l) => singleField(l, 'err'));
    fn('status_reply', (l) => singleField(l, 'ok'));
    fn('log', (l) => this.logFn(l));
    fn('setresp', (l) => this.setRespFn(l));
    // Redis 7 always replicates effects; these stay for old scripts.
    fn('replicate_commands', (l) => {
      lua.lua_pushboolean(l, true);
      return 1;
    });
    setRedisConstants(L);
    lua.lua_setglobal(L, to_luastring('redis'));
  }

  /** redis.call / redis.pcall (luaRedisGenericCommand): errors are raised, or returned as {err=}. */
  private redisCall(L: unknown, raise: boolean): number {
    const argc: number = lua.lua_gettop(L);
    const args: string[] = [];
    let refused: string | null = argc === 0 ? 'Please specify at least one argument for this redis lib call' : null;
    for (let i = 1; i <= argc && refused === null; i++) {
      if (lua.lua_type(L, i) === lua.LUA_TNUMBER) {
        args.push(lua.lua_isinteger(L, i) ? String(lua.lua_tointeger(L, i)) : formatG17Arg(lua.lua_tonumber(L, i)));
        continue;
      }
      const s = lua.lua_type(L, i) === lua.LUA_TSTRING ? luaString(L, i) : null;
      if (s === null) refused = 'Lua redis lib command arguments must be strings or integers';
      else args.push(s);
    }
    lua.lua_settop(L, 0);
    const result: CallResult = refused === null ? this.host.call(args) : { refused };
    if (result !== null && typeof result === 'object' && 'refused' in result) {
      pushErrorTable(L, result.refused);
      return raise ? lua.lua_error(L) : 1;
    }
    pushReply(L, result);
    if (raise && result instanceof ReplyErrorValue) return lua.lua_error(L);
    return 1;
  }

  private sha1hexFn(L: unknown): number {
    if (lua.lua_gettop(L) !== 1) {
      pushErrorTable(L, 'wrong number of arguments');
      return lua.lua_error(L);
    }
    pushString(L, sha1hex(luaString(L, 1) ?? ''));
    return 1;
  }

  private logFn(L: unknown): number {
    const argc: number = lua.lua_gettop(L);
    if (argc < 2) return raiseText(L, 'redis.log() requires two arguments or more.');
    if (!lua.lua_isnumber(L, 1)) return raiseText(L, 'First argument must be a number (log level).');
    const level = Math.trunc(lua.lua_tonumber(L, 1));
    if (level < 0 || level > 3) return raiseText(L, 'Invalid debug level.');
    const parts: string[] = [];
    for (let i = 2; i <= argc; i++) {
      const s = luaString(L, i);
      if (s !== null) parts.push(s);
    }
    this.host.log(LOG_LEVELS[level]!, parts.join(' '));
    return 0;
  }

  private setRespFn(L: unknown): number {
    if (lua.lua_gettop(L) !== 1) return raiseText(L, 'redis.setresp() requires one argument.');
    const resp = Math.trunc(lua.lua_tonumber(L, 1));
    if (resp !== 2 && resp !== 3) return raiseText(L, 'RESP version must be 2 or 3.');
    this.resp = resp;
    return 0;
  }
}

/** A raised error: "<err> script: <sha>, on <source>:<line>." as Redis's luaCallFunction. */
function writeRaisedError(L: unknown, w: ReplyWriter, sha: string): void {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    w.error(`ERR ${luaString(L, -1) ?? 'unknown error'}`);
    return;
  }
  const field = (name: string): string | null => {
    lua.lua_getfield(L, -1, to_luastring(name));
    const v = lua.lua_isnil(L, -1) ? null : luaString(L, -1);
    lua.lua_pop(L, 1);
    return v;
  };
  const err = field('err') ?? 'ERR unknown error';
  const source = field('source');
  const line = field('line');
  w.error(source !== null && line !== null ? `${err} script: ${sha}, on ${source}:${line}.` : err);
}

function pushArray(L: unknown, items: readonly string[]): void {
  lua.lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    pushString(L, items[i]!);
    lua.lua_rawseti(L, -2, i + 1);
  }
}

/** luaExtractErrorInformation's message: a string gets ERR in front, a table gives its err field. */
function errorMessage(L: unknown): string {
  if (lua.lua_type(L, -1) === lua.LUA_TSTRING || lua.lua_type(L, -1) === lua.LUA_TNUMBER) return `ERR ${luaString(L, -1)}`;
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) return 'ERR unknown error';
  lua.lua_getfield(L, -1, to_luastring('err'));
  const msg = lua.lua_isstring(L, -1) ? luaString(L, -1) : null;
  lua.lua_pop(L, 1);
  return msg ?? 'ERR unknown error';
}

function raiseText(L: unknown, text: string): number {
  pushErrorTable(L, text);
  return lua.lua_error(L);
}

/** redis.error_reply / redis.status_reply: {err="…"} (with ERR added when no code) / {ok="…"}. */
function singleField(L: unknown, field: 'err' | 'ok'): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    pushErrorTable(L, 'wrong number or type of arguments');
    return 1;
  }
  const text = luaString(L, 1)!;
  if (field === 'err') {
    pushErrorTable(L, text.startsWith('-') ? text : `-${text}`);
    return 1;
  }
  lua.lua_newtable(L);
  pushString(L, 'ok');
  pushString(L, text);
  lua.lua_settable(L, -3);
  return 1;
}

/** The redis table's version and LOG_* fields, the same for scripts and the load API. */
function setRedisConstants(L: unknown): void {
  for (const [i, level] of LOG_LEVELS.entries()) {
    lua.lua_pushinteger(L, i);
    lua.lua_setfield(L, -2, to_luastring(`LOG_${level.toUpperCase()}`));
  }
  pushString(L, '7.0.15');
  lua.lua_setfield(L, -2, to_luastring('REDIS_VERSION'));
  lua.lua_pushinteger(L, 0x07000f);
  lua.lua_setfield(L, -2, to_luastring('REDIS_VERSION_NUM'));
}
