// fengari (the Lua VM, ~10 MiB of RSS) is loaded by the first LuaVm, not when the node starts:
// importing the whole node leaves it out of the CommonJS module cache; the first VM loads it and
// the scripting libraries (struct, cjson, cmsgpack, bit) work through the lazily bound API.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ReplyWriter } from '../../../common/resp/reply-writer.js';

const cjsCache = createRequire(import.meta.url).cache;
const fengariModules = (): string[] => Object.keys(cjsCache).filter((path) => path.includes('/fengari/'));

describe('lazy fengari', () => {
  it('the node imports without fengari; the first LuaVm loads it and scripts run', async () => {
    await import('../../../node/server.js');
    await import('../../../node/handlers/index.js');
    const lazy = await import('../../../node/scripting/fengari-lazy.js');
    expect(lazy.fengariLoaded()).toBe(false);
    expect(fengariModules()).toEqual([]);

    const { LuaVm } = await import('../../../node/scripting/lua-vm.js');
    const vm = new LuaVm({ call: () => ({ refused: 'no server in this test' }), log: () => undefined });
    expect(lazy.fengariLoaded()).toBe(true);
    expect(fengariModules().length).toBeGreaterThan(0);

    // Two VMs share the lazily bound API; each runs a script using the libraries registered with it.
    const second = new LuaVm({ call: () => ({ refused: 'no server in this test' }), log: () => undefined });
    const script = "return {struct.size('>I4'), cjson.encode({1, 2}), #cmsgpack.pack(7), bit.band(7, 12), tostring(1.5)}";
    for (const v of [vm, second]) {
      const ref = v.compile(script);
      expect(typeof ref).toBe('number');
      v.begin(ref as number, [], [], 0);
      const w = new ReplyWriter();
      expect(v.resume(w, 'sha', 0)).toBe(true);
      expect(w.take().toString('latin1')).toBe('*5\r\n:4\r\n$5\r\n[1,2]\r\n:1\r\n:4\r\n$3\r\n1.5\r\n');
    }
  });
});
