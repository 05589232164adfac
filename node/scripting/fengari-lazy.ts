// fengari (Lua 5.3 in JS) loaded on first use instead of at start: it costs an idle node ~10 MiB
// of RSS and most nodes never run a script. The scripting modules import the bindings below in
// place of `fengari` itself; they are ESM live bindings, so every importer sees the real objects
// once loadFengari() ran. LuaVm's constructor calls it, and no Lua state exists without a LuaVm,
// so code taking a Lua state `L` can use them freely. fengari is CommonJS: require() loads it
// synchronously inside the command (EVAL, FCALL, FUNCTION LOAD, SCRIPT LOAD, an RDB's libraries).
import { createRequire } from 'node:module';
import type Fengari from 'fengari';

type FengariModule = typeof Fengari;

// Until loaded these are undefined; typed as loaded so call sites stay as they were.
export let lua: FengariModule['lua'] = undefined;
export let lauxlib: FengariModule['lauxlib'] = undefined;
export let lualib: FengariModule['lualib'] = undefined;
export let to_luastring: FengariModule['to_luastring'] = undefined as unknown as FengariModule['to_luastring'];

/** Whether fengari is loaded (for tests of the lazy load). */
export function fengariLoaded(): boolean {
  return lua !== undefined;
}

/** Loads fengari once (synchronously); later calls return at once. */
export function loadFengari(): void {
  if (lua !== undefined) return;
  const f = createRequire(import.meta.url)('fengari') as FengariModule;
  lauxlib = f.lauxlib;
  lualib = f.lualib;
  to_luastring = f.to_luastring;
  lua = f.lua; // last: fengariLoaded() is true only once every binding is set
}
