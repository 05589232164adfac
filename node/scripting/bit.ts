// `bit` for scripts: LuaBitOp 1.0 as Redis bundles it (deps/lua/src/lua_bit.c). 32-bit results;
// every argument is normalised by LuaBitOp's barg: add 2^52+2^51 to the double and keep the low 32
// bits of its representation, which rounds fractions to nearest-even (tobit(1.5) = 2, not 1 as
// ToInt32 would) and wraps big numbers as the C library does.
import { lua, lauxlib, to_luastring } from './fengari-lazy.js';
import { pushString } from './lua-values.js';

// One shared scratch double: barg runs synchronously, nothing else touches it in between.
const scratch = new Float64Array(1);
const scratchWords = new Int32Array(scratch.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** LuaBitOp's barg: the argument's 32 bits (signed), or a "number expected" argument error. */
function barg(L: unknown, i: number): number {
  scratch[0] = lua.lua_tonumber(L, i) + 6755399441055744.0;
  const b = scratchWords[LOW_WORD]!;
  if (b === 0 && !lua.lua_isnumber(L, i)) lauxlib.luaL_checknumber(L, i); // raises the typed error
  return b;
}

function ret(L: unknown, b: number): number {
  lua.lua_pushinteger(L, b | 0);
  return 1;
}

/** band/bor/bxor: arg 1 first, then from the last down to 2 (LuaBitOp's order, so the same bad arg is named). */
const fold = (op: (a: number, b: number) => number) => (L: unknown): number => {
  let b = barg(L, 1);
  for (let i = lua.lua_gettop(L) as number; i > 1; i--) b = op(b, barg(L, i));
  return ret(L, b);
};

const shift = (op: (x: number, n: number) => number) => (L: unknown): number => {
  const x = barg(L, 1);
  return ret(L, op(x, barg(L, 2) & 31));
};

function tohex(L: unknown): number {
  const b = barg(L, 1);
  let n = lua.lua_isnone(L, 2) ? 8 : barg(L, 2);
  const upper = n < 0;
  if (upper) n = -n;
  if (n > 8 || n < 0) n = 8; // -(-2^31) overflows in C; Redis's build prints 8 digits
  const hex = (b >>> 0).toString(16).padStart(8, '0').slice(8 - n);
  pushString(L, upper ? hex.toUpperCase() : hex);
  return 1;
}

const FUNCTIONS: Record<string, (L: unknown) => number> = {
  tobit: (L) => ret(L, barg(L, 1)),
  bnot: (L) => ret(L, ~barg(L, 1)),
  band: fold((a, b) => a & b),
  bor: fold((a, b) => a | b),
  bxor: fold((a, b) => a ^ b),
  lshift: shift((x, n) => x << n),
  rshift: shift((x, n) => x >>> n),
  arshift: shift((x, n) => x >> n),
  rol: shift((x, n) => (x << n) | (x >>> (32 - n))),
  ror: shift((x, n) => (x >>> n) | (x << (32 - n))),
  bswap: (L) => {
    const x = barg(L, 1);
    return ret(L, ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24));
  },
  tohex,
};

/** Adds the global `bit` table. */
export function registerBit(L: unknown): void {
  lua.lua_newtable(L);
  for (const [name, f] of Object.entries(FUNCTIONS)) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_setglobal(L, to_luastring('bit'));
}
