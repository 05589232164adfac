// redis.register_function, as Redis 7.0's function_lua.c reads it: positional (name, callback) or
// one table of named arguments (function_name, callback, description, flags). Runs only while a
// library's code runs inside FUNCTION LOAD; what it registers goes to the LoadCollector.
import { lua, lauxlib } from './fengari-lazy.js';
import { luaString, pushErrorTable } from './lua-values.js';

/** Script flags a function may declare (scripts_flags_def order: FUNCTION LIST prints them so). */
export const SCRIPT_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'] as const;
export type ScriptFlag = (typeof SCRIPT_FLAGS)[number];

export interface RegisteredFunction {
  readonly name: string;
  readonly description: string | null;
  readonly flags: ReadonlySet<ScriptFlag>;
  /** Registry reference of the callback. */
  readonly ref: number;
}

/** The functions one library registers while it loads. */
export class LoadCollector {
  readonly functions: RegisteredFunction[] = [];
}

const NAME_ERR = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** functionsVerifyName: [a-zA-Z0-9_]+ */
export function validName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

type Parsed = { name: string; description: string | null; flags: Set<ScriptFlag>; ref: number } | { error: string };

/** The C function behind redis.register_function; `current` is the library loading now, if any. */
export function registerFunction(L: unknown, current: LoadCollector | null): number {
  if (current === null) return raise(L, 'redis.register_function can only be called on FUNCTION LOAD command');
  const argc: number = lua.lua_gettop(L);
  let parsed: Parsed;
  if (argc < 1 || argc > 2) parsed = { error: 'wrong number of arguments to redis.register_function' };
  else parsed = argc === 1 ? readNamed(L) : readPositional(L);
  if ('error' in parsed) return raise(L, parsed.error);
  let err: string | null = null;
  const name = parsed.name;
  if (!validName(name)) err = NAME_ERR;
  // Case-sensitive within a library (libraryFunctionDictType), unlike FCALL's lookup.
  else if (current.functions.some((f) => f.name === name)) err = 'Function already exists in the library';
  if (err !== null) {
    lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, parsed.ref);
    return raise(L, err);
  }
  current.functions.push(parsed);
  return 0;
}

/** luaGetStringSds: a string or a number (lua_isstring), else null. */
function stringAt(L: unknown, idx: number): string | null {
  return lua.lua_isstring(L, idx) ? luaString(L, idx) : null;
}

function readPositional(L: unknown): Parsed {
  const name = stringAt(L, 1);
  if (name === null) return { error: 'first argument to redis.register_function must be a string' };
  if (!lua.lua_isfunction(L, 2)) return { error: 'second argument to redis.register_function must be a function' };
  const ref: number = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX); // pops the callback
  return { name, description: null, flags: new Set(), ref };
}

function readNamed(L: unknown): Parsed {
  if (!lua.lua_istable(L, 1)) {
    return { error: 'calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).' };
  }
  let name: string | null = null;
  let description: string | null = null;
  let flags = new Set<ScriptFlag>();
  let ref = -1;
  const fail = (error: string): Parsed => {
    if (ref >= 0) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, ref);
    return { error };
  };
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    // Stack: table, key, value.
    if (!lua.lua_isstring(L, -2)) return fail('named argument key given to redis.register_function is not a string');
    const key = (luaString(L, -2) ?? '').toLowerCase();
    if (key === 'function_name') {
      if ((name = stringAt(L, -1)) === null) return fail('function_name argument given to redis.register_function must be a string');
    } else if (key === 'description') {
      if ((description = stringAt(L, -1)) === null) return fail('description argument given to redis.register_function must be a string');
    } else if (key === 'callback') {
      if (!lua.lua_isfunction(L, -1)) return fail('callback argument given to redis.register_function must be a function');
      if (ref >= 0) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, ref);
      ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX); // pops the value
      continue;
    } else if (key === 'flags') {
      if (!lua.lua_istable(L, -1)) return fail('flags argument to redis.register_function must be a table representing function flags');
      const read = readFlags(L);
      if (read === null) return fail('unknown flag given');
      flags = read;
    } else {
      return fail('unknown argument given to redis.register_function');
    }
    lua.lua_pop(L, 1);
  }
  if (name === null) return fail('redis.register_function must get a function name argument');
  if (ref < 0) return fail('redis.register_function must get a callback argument');
  return { name, description, flags, ref };
}

/** The flags table at the top of the stack: t[1], t[2] … until nil; null on an unknown flag. */
function readFlags(L: unknown): Set<ScriptFlag> | null {
  const flags = new Set<ScriptFlag>();
  for (let j = 1; ; j++) {
    lua.lua_pushinteger(L, j);
    lua.lua_gettable(L, -2);
    if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1);
      return flags;
    }
    const text = stringAt(L, -1)?.toLowerCase();
    lua.lua_pop(L, 1);
    const flag = SCRIPT_FLAGS.find((f) => f === text);
    if (flag === undefined) return null;
    flags.add(flag);
  }
}

function raise(L: unknown, text: string): number {
  pushErrorTable(L, text);
  return lua.lua_error(L);
}
