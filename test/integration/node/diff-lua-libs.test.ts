// Scripts' `struct` and `bit` libraries on our node vs real redis-server 7.0: the same EVALs, the
// same replies (bytes packed, values unpacked, next positions, sizes, error texts).
import { describe, it } from 'vitest';
import { usePair } from '../../helpers/differential.js';

const ev = (script: string, ...args: string[]): string[] => ['EVAL', script, '0', ...args];
/** pcall'd, so the error text itself (without the script's sha) is compared as a reply. */
const pc = (call: string): string[] => ev(`return {pcall(${call})}`);

describe('Lua struct and bit libraries match redis-server', () => {
  const p = usePair();

  it('struct.pack packs the same bytes', async () => {
    const packs = [
      "'>i', 1", "'<i', -2", "'b', -1", "'B', 255", "'B', 256", "'h', -300", "'>H', 65535", "'<l', -1", "'>L', 2^40 + 3",
      "'T', 12345", "'<i3', -5", "'>I3', 70000", "'<i16', -2", "'>i16', -2", "'<I16', 2^63 + 1024", "'i0', 9", "'i1i2i4i8', 1, 2, 3, 4",
      "'b', 3.7", "'b', -3.7", "'<L', 2^63", "'<L', 2^64", "'<L', 2^70", "'<L', -2^70", "'<L', 1/0", "'<L', -1/0", "'<L', 0/0",
      "'<L', 2^63 + 2^62", "'I', '0x10'", "'I', ' 12 '", "'<f', 1.5", "'>f', 0.1", "'<d', -0.1", "'>d', 2^70", "'d', 1/0", "'f', -1/0",
      "'d', 0/0", "'f', 1e300", "'x'", "'xxbx', 7", "'!8bd', 1, 2", "'!bd', 1, 2", "'!2bd', 1, 2", "'!4i3b', 1, 2", "'!16i3b', 1, 2",
      "'!8i3i', 1, 2", "'!8bi0b', 1, 2, 3", "'!8bhbT', 1, 2, 3, 4", "'!8bf', 1, 2", "'>!4 b h l', 1, 2, 3", "'c0', 123", "'c0', 'abc'",
      "'s', 'a\\0b'", "'c2s', 'abc', 'q'", "'c', 'abc'", "'c3', 'abc'", "'s', ''", "'bsb', 1, 'hello', 2", "''", "'   '", "'<>!'",
    ];
    await p.same(...packs.map((a) => ev(`return struct.pack(${a})`)));
  });

  it('struct.unpack reads values and the next position back', async () => {
    await p.same(
      ev("return {struct.unpack('>i', struct.pack('>i', 1))}"), ev("return {struct.unpack('<i', struct.pack('<i', -123456))}"),
      ev("return {struct.unpack('bBhHlL', struct.pack('bBhHlL', -1, 255, -300, 65535, -2^40, 2^40))}"),
      ev("return {struct.unpack('i3', 'abc')}"), ev("return {struct.unpack('<i16', string.rep('\\255', 16))}"),
      ev("local v, n = struct.unpack('<I16', string.rep('\\255', 16)); return {v == 2^64, n}"), ev("return struct.unpack('<I8', string.rep('\\255', 8)) == 2^64"),
      ev("return {struct.unpack('<i9', string.rep('\\255', 9))}"), ev("return {struct.unpack('>i12', '\\0\\0\\0\\0\\0\\0\\0\\0\\128\\0\\0\\0')}"),
      ev("return {struct.unpack('>i7', '\\255\\0\\0\\0\\0\\0\\1')}"), ev("return {struct.unpack('>I6', '\\255\\255\\255\\255\\255\\255')}"),
      ev("return {struct.unpack('>l', '\\255\\255\\255\\255\\255\\255\\255\\254')}"), ev("return {struct.unpack('i0b', 'a')}"),
      ev("return {struct.unpack('b', 'ab', 2)}"), ev("return {struct.unpack('b', 'ab', 2.9)}"), ev("return {struct.unpack('b', 'ab', '2')}"),
      ev("return {struct.unpack('x', 'abc')}"), ev("return {struct.unpack('', 'abc')}"), ev("return {struct.unpack('', 'abc', 4)}"),
      ev("return {struct.unpack('', 'abc', 5)}"), ev("return {struct.unpack('', 'abc', -5)}"),
      ev("return {struct.unpack('bc0', '\\5abcdefg')}"), ev("return {struct.unpack('c2c0', '02abc')}"), ev("return {struct.unpack('bc0b', '\\0\\7')}"),
      ev("return {struct.unpack('sbs', 'hello\\0\\3x\\0tail')}"), ev("return {struct.unpack('c3c2', 'abcdefg')}"),
      ev("local a, b, c = struct.unpack('fd', struct.pack('fd', 1.5, -0.25)); return {tostring(a), tostring(b), c}"),
      ev("return tostring(struct.unpack('>f', struct.pack('>f', 0.1)))"), ev("return tostring(struct.unpack('>d', struct.pack('>d', 0.1)))"),
      ev("return struct.unpack('<d', struct.pack('<d', 1e300)) == 1e300"), ev("return struct.unpack('f', struct.pack('f', 1/0)) == 1/0"),
      ev("return {struct.unpack('!8bd', struct.pack('!8bd', 7, 2))}"), ev("return {struct.unpack('!4bi3b', struct.pack('!4bi3b', 1, -2, 3))}"),
      ev("return {struct.unpack('>!2 b h', struct.pack('>!2 b h', 1, -2))}"), ev("return {struct.unpack('<h', 'abcd', 3)}"),
      ev("return #{struct.unpack(string.rep('b', 7997), string.rep('a', 10000))}"),
      ev("return #{struct.unpack(string.rep('b', 7996), string.rep('a', 10000), 1)}"),
      ev("return #{struct.unpack(string.rep('x', 9000) .. 'b', string.rep('a', 10000))}"),
      ev("local s = struct.pack('<I', 2^32 - 1); return {#s, struct.unpack('<I', s)}"),
      ev("return {struct.unpack('!4bi', 'abcdefghij', 2)}"), ev("return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2.5), 1)}"),
      ev("return {struct.unpack('>T<T', struct.pack('>T<T', 2^40, 7))}"), ev("return {struct.unpack('fc0', struct.pack('f', 2.7) .. 'xyz')}"),
      ev("return {struct.unpack('s', struct.pack('s', 12))}"), ev("return {struct.unpack('c0', 'abc', 2)}"),
    );
  });

  it('struct.size gives the same sizes', async () => {
    const sizes = ["'bhilTfdxc3!4 <>'", "'!8bd'", "'!8bi3'", "'!bd'", "'!2bhd'", "'i16'", "'c100'", "'z'", '12', "''", "'>!4 b h l'"];
    await p.same(...sizes.map((a) => ev(`return struct.size(${a})`)));
  });

  it('struct errors carry Redis texts, also for hostile formats and data', async () => {
    await p.same(
      pc("struct.pack, 'z', 1"), pc("struct.unpack, 'b', ''"), pc("struct.unpack, 'i99', ''"), pc("struct.unpack, 'i99999999999', ''"),
      pc("struct.pack, 'c2147483648', ''"), pc("struct.pack, 'c2147483647', 'x'"), pc("struct.pack, '!3', ''"), pc("struct.pack, '!0', ''"),
      pc("struct.pack, 'i33', 1"), pc("struct.unpack, 'c0', 'abc'"), pc("struct.unpack, 's', 'abc'"), pc("struct.size, 's'"),
      pc("struct.size, 'c0'"), pc("struct.size, '!5'"), pc("struct.size, 'i40'"), pc("struct.size"), pc("struct.pack, 'c5', 'ab'"),
      pc("struct.pack, 'bc5', 1, 'ab'"), pc("struct.pack, 'b', 'x'"), pc("struct.pack, 'b'"), pc("struct.pack, 'ii'"), pc('struct.pack'),
      pc("struct.pack, 12, 3"), pc("struct.pack, 'b5', 1"), pc("struct.pack, 's', {}"), pc("struct.unpack, 'b'"), pc("struct.unpack, 'b', 'a', 0"),
      pc("struct.unpack, 'b', 'a', 3"), pc("struct.unpack, 'b', 'a', 2"), pc("struct.unpack, 'b', 'a', 0.5"), pc("struct.unpack, 'b', 'ab', -1"),
      pc("struct.unpack, '<', 'abc', 5"), pc("struct.unpack, 'b', 'ab', 'x'"), pc("struct.unpack, 'c', ''"), pc("struct.unpack, 'bc0', '\\255abc'"),
      pc("struct.unpack, 'c1c0', 'xabc'"), pc("struct.unpack, 'c2000000000', 'abc'"), pc("struct.unpack, 'q', 'abc'"),
      pc("struct.unpack, string.rep('b', 7998), string.rep('a', 10000)"), pc("struct.unpack, string.rep('b', 7997), string.rep('a', 10000), 1"),
      pc("struct.unpack, string.rep('c1', 20000), string.rep('a', 20000)"),
      ev("return struct.pack('z', 1)"), ev("return struct.unpack('b', '')"), ev("return struct.unpack('c0', 'abc')"),
      ev("return struct.size('s')"), ev("return struct.unpack(string.rep('b', 9000), string.rep('a', 9000))"),
    );
  });

  it('functions see struct and bit; a library loading does not', async () => {
    const lib = "#!lua name=jlib\nredis.register_function('jf', function(keys, args) return {struct.size('bh'), struct.pack('>h', 258), bit.tohex(255), struct.unpack('>h', args[1])} end)";
    try {
      await p.same(
        ['FUNCTION', 'LOAD', 'REPLACE', lib], ['FCALL', 'jf', '0', 'AB'],
        ['FUNCTION', 'LOAD', "#!lua name=jbad\nlocal n = struct.size('b')\nredis.register_function('jg', function() return n end)"],
      );
    } finally {
      await p.both('FUNCTION', 'FLUSH');
    }
  });

  it('bit ops give LuaBitOp 32-bit results on edge values', async () => {
    await p.same(
      ev('return {bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(-2.5), bit.tobit(0.5), bit.tobit(2^53 + 3), bit.tobit(2^60 + 2^33 + 7)}'),
      ev('return {bit.tobit(2^31), bit.tobit(2^32 + 5), bit.tobit(-2^31 - 1), bit.tobit(0xffffffff), bit.tobit(1/0), bit.tobit(0/0), bit.tobit(-2^63)}'),
      ev("return {bit.band(0xff, -1), bit.band(0.5, 1), bit.band(2^32 + 3, 7), bit.bor(1, 2, 4, 8.6), bit.bxor(5, 3, -1), bit.band('7', 3)}"),
      ev('return {bit.bnot(0), bit.bnot(-1), bit.bnot(2^31), bit.bnot(1.5)}'),
      ev('return {bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, -1), bit.lshift(3, 33.7), bit.rshift(-1, 28), bit.rshift(-1, 0), bit.rshift(2^31, 31)}'),
      ev('return {bit.arshift(-256, 4), bit.arshift(2^31, 31), bit.arshift(-1, 63), bit.arshift(7, -31)}'),
      ev('return {bit.rol(0x12345678, 4), bit.rol(-1, 0), bit.rol(1, 32), bit.ror(0x12345678, 4), bit.ror(1, 1), bit.ror(1, -1)}'),
      ev('return {bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(2^31), bit.bswap(0xff)}'),
      ev("return {bit.tohex(-1), bit.tohex(255, -4), bit.tohex(255, 2), bit.tohex(0x12345678, 12), bit.tohex(1, 0), bit.tohex(255, -2147483648), bit.tohex(2^32 + 10)}"),
      pc("bit.band, 1, 'x', 'y'"), pc("bit.tohex, 1, nil"), pc("bit.band, 'x'"), pc('bit.bnot'), pc("bit.lshift, 1"), pc("bit.bor, {}"),
      ev("return bit.band('x')"),
    );
  });
});
