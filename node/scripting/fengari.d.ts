// fengari ships no types: the Lua C API it mirrors is used through these loose bindings, kept to
// node/scripting/ (loaded on first use by fengari-lazy.ts) so the rest of the node never sees them.
declare module 'fengari' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fengari: { lua: any; lauxlib: any; lualib: any; to_luastring(s: string): Uint8Array };
  export default fengari;
}
