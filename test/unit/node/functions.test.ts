// The function library registry on a real Lua VM, without a server: metadata parsing, the
// all-or-none installs RESTORE and the RDB loaders rely on, case rules of names, and the RDB
// FUNCTION2 round trip through the file writer and parser.
import { describe, expect, it } from 'vitest';
import { RDB_OPCODE } from '../../../node/persistence/rdb-constants.js';
import { parseRdb, RdbOutput, writeRdbHeader } from '../../../node/persistence/rdb-file.js';
import { FunctionLibraries } from '../../../node/scripting/functions.js';
import { LuaVm } from '../../../node/scripting/lua-vm.js';

const vm = new LuaVm({ call: () => ({ refused: 'no server in this test' }), log: () => undefined });
const lib = (name: string, ...fns: string[]) =>
  `#!lua name=${name}\n${fns.map((f) => `redis.register_function('${f}', function() return '${name}.${f}' end)`).join('\n')}`;

function names(libs: FunctionLibraries): string[] {
  return [...libs.all()].map((l) => `${l.name}:${l.functions.map((f) => f.name).join(',')}`).sort();
}

describe('function libraries', () => {
  it('reads the shebang as sdssplitargs does', () => {
    const libs = new FunctionLibraries(vm);
    expect(libs.load(`#!lua   "name=quoted"\n${lib('x', 'f').split('\n')[1]}`, false, 500)).toBe('quoted');
    expect(libs.load(`#!lua "name=open\nx`, false, 500)).toEqual({ error: 'Invalid library metadata' });
    expect(libs.load('#!lua name=a', false, 500)).toEqual({ error: 'Invalid library metadata' });
    expect(libs.load(`#!lua NAME=upper\nredis.register_function('g', function() end)`, false, 500)).toBe('upper');
  });

  it('function names are case-insensitive across libraries, library names are not', () => {
    const libs = new FunctionLibraries(vm);
    expect(libs.load(lib('Lib', 'Fn'), false, 500)).toBe('Lib');
    expect(libs.load(lib('lib', 'other'), false, 500)).toBe('lib');
    expect(libs.load(lib('third', 'FN'), false, 500)).toEqual({ error: 'Function FN already exists' });
    expect(libs.lookup('fn')?.library.name).toBe('Lib');
    expect(libs.delete('LIB')).toBe(false);
    expect(libs.delete('Lib')).toBe(true);
    expect(libs.lookup('FN')).toBeUndefined();
  });

  it('REPLACE keeps the old library when the new one fails', () => {
    const libs = new FunctionLibraries(vm);
    libs.load(lib('a', 'f1'), false, 500);
    libs.load(lib('b', 'f2'), false, 500);
    expect(libs.load(lib('a', 'f2'), true, 500)).toEqual({ error: 'Function f2 already exists' });
    expect(libs.load('#!lua name=a\nreturn 1 +', true, 500)).toMatchObject({ error: expect.stringMatching(/^Error compiling function: /) });
    expect(names(libs)).toEqual(['a:f1', 'b:f2']);
    expect(libs.load(lib('a', 'g1', 'g2'), true, 500)).toBe('a');
    expect(names(libs)).toEqual(['a:g1,g2', 'b:f2']);
  });

  it('RESTORE installs all libraries of a payload or none', () => {
    const src = new FunctionLibraries(vm);
    src.load(lib('p', 'pf'), false, 500);
    src.load(lib('q', 'qf'), false, 500);
    const payload = src.dump(true);
    const dst = new FunctionLibraries(vm);
    dst.load(lib('q', 'old'), false, 500);
    expect(dst.restore(payload, 'append')).toBe('Library q already exists');
    expect(names(dst)).toEqual(['q:old']);
    dst.load(lib('z', 'pf'), false, 500);
    expect(dst.restore(payload, 'replace')).toBe('Function pf already exists');
    expect(names(dst)).toEqual(['q:old', 'z:pf']);
    expect(dst.restore(payload, 'flush')).toBeNull();
    expect(names(dst)).toEqual(['p:pf', 'q:qf']);
    const corrupt = Buffer.from(payload);
    corrupt[3] ^= 1;
    expect(dst.restore(corrupt, 'flush')).toBe('DUMP payload version or checksum are wrong');
    expect(dst.replaceWith([lib('ok', 'okf'), '#!lua name=bad\nreturn 1 +'], 'flush')).toMatch(/^Error compiling function/);
    expect(names(dst)).toEqual(['p:pf', 'q:qf']);
  });

  it('the RDB carries each library as FUNCTION2 + payload after the AUX fields', () => {
    const libs = new FunctionLibraries(vm);
    libs.load(lib('r1', 'a'), false, 500);
    libs.load(lib('r2', 'b'), false, 500);
    const out = new RdbOutput(true);
    writeRdbHeader(out.w, {
      redisVersion: '7.0.15', ctimeSec: 0, usedMemBytes: 0, replStreamDb: 0, replId: 'x'.repeat(40), replOffset: 0, aofBase: 0,
      functions: libs.codes(),
    });
    const file = out.finish(true);
    expect(file.includes(Buffer.from([RDB_OPCODE.FUNCTION2]))).toBe(true);
    const parsed = parseRdb(file, { databases: 16, verifyChecksum: true }, () => undefined);
    expect(parsed.functions).toEqual(libs.codes());
  });
});
