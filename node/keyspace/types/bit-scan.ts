// Bit counting and searching over byte ranges of latin1 string values (BITCOUNT, BITPOS). Large
// ranges go through a 64 KB window into a tiny WebAssembly module (i64.popcnt, 8-byte compares),
// so a 512 MB string costs about what it costs Redis (~0.1 s), linear, with no big allocation.

// Hand-assembled module: memory "mem" (2 pages); count(len) = Σ popcnt(i64 at 0, 8, … < len);
// scan(len, skip) = offset of the first i64 word ≠ skip below len, else ≥ len. Its text form:
//   (module (memory (export "mem") 2)
//     (func (export "count") (param $len i32) (result i32) (local $i i32) (local $acc i64)
//       (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
//         (local.set $acc (i64.add (local.get $acc) (i64.popcnt (i64.load (local.get $i)))))
//         (local.set $i (i32.add (local.get $i) (i32.const 8))) (br 0)))
//       (i32.wrap_i64 (local.get $acc)))
//     (func (export "scan") (param $len i32) (param $skip i64) (result i32) (local $i i32)
//       (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
//         (br_if 1 (i64.ne (i64.load (local.get $i)) (local.get $skip)))
//         (local.set $i (i32.add (local.get $i) (i32.const 8))) (br 0)))
//       (local.get $i)))
const WASM_HEX =
  '0061736d01000000' +
  '010c0260017f017f60027f7e017f' + // types: (i32)→i32, (i32,i64)→i32
  '0303020001' + // functions: count, scan
  '0503010002' + // memory: 2 pages
  '071603036d656d020005636f756e740000047363616e0001' + // exports: mem, count, scan
  '0a53' + '02' +
  '2a' + '02017f017e' + '0240034020012000' + '4f0d01' + '200220012903007b7c2102' + '200141086a2101' + '0c000b0b' + '2002a70b' +
  '26' + '01017f' + '0240034020022000' + '4f0d01' + '2002290300200152' + '0d01' + '200241086a2102' + '0c000b0b' + '20020b';

const WINDOW = 65536;
/** Below this many bytes a plain loop beats copying into the window. */
const SMALL = 256;

interface BitKernel {
  view: Buffer;
  count(len: number): number;
  scan(len: number, skip: bigint): number;
}

/** The slice of the WebAssembly API used here (this project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let kernel: BitKernel | null = null;

function bitKernel(): BitKernel {
  if (kernel !== null) return kernel;
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const instance = new wasm.Instance(new wasm.Module(Buffer.from(WASM_HEX, 'hex')), {});
  const exports = instance.exports as {
    mem: { buffer: ArrayBuffer };
    count(len: number): number;
    scan(len: number, skip: bigint): number;
  };
  kernel = { view: Buffer.from(exports.mem.buffer, 0, WINDOW), count: exports.count, scan: exports.scan };
  return kernel;
}

const BITS_IN_BYTE = new Uint8Array(256);
for (let i = 1; i < 256; i++) BITS_IN_BYTE[i] = (i & 1) + BITS_IN_BYTE[i >> 1]!;

/** Set bits in one byte. */
export function popcountByte(byte: number): number {
  return BITS_IN_BYTE[byte & 0xff]!;
}

/** Set bits in bytes start..end (inclusive, already clamped to the string). */
export function popcountRange(s: string, start: number, end: number): number {
  let total = 0;
  if (end - start + 1 < SMALL) {
    for (let i = start; i <= end; i++) total += BITS_IN_BYTE[s.charCodeAt(i)]!;
    return total;
  }
  const k = bitKernel();
  for (let off = start; off <= end; off += WINDOW) {
    const n = Math.min(WINDOW, end - off + 1);
    k.view.latin1Write(s.slice(off, off + n), 0, n);
    const words = n & ~7;
    total += k.count(words);
    for (let i = words; i < n; i++) total += BITS_IN_BYTE[k.view[i]!]!;
  }
  return total;
}

/** Position (MSB first) of the first bit equal to `bit` in a byte that holds one. */
function firstBitIn(byte: number, bit: 0 | 1): number {
  return Math.clz32(bit === 1 ? byte : ~byte & 0xff) - 24;
}

/**
 * redisBitpos over `count` bytes from `start`: the bit offset (from `start`) of the first bit equal
 * to `bit`; when none, count·8 for 0 (the string is zero-padded on the right) and -1 for 1.
 */
export function bitposRange(s: string, start: number, count: number, bit: 0 | 1): number {
  const skip = bit === 1 ? 0 : 0xff;
  if (count < SMALL) {
    for (let i = 0; i < count; i++) {
      const byte = s.charCodeAt(start + i);
      if (byte !== skip) return i * 8 + firstBitIn(byte, bit);
    }
    return bit === 1 ? -1 : count * 8;
  }
  const k = bitKernel();
  const skipWord = bit === 1 ? 0n : -1n;
  for (let off = 0; off < count; off += WINDOW) {
    const n = Math.min(WINDOW, count - off);
    k.view.latin1Write(s.slice(start + off, start + off + n), 0, n);
    const words = n & ~7;
    let i = k.scan(words, skipWord);
    if (i > words) i = words;
    for (; i < n; i++) {
      const byte = k.view[i]!;
      if (byte !== skip) return (off + i) * 8 + firstBitIn(byte, bit);
    }
  }
  return bit === 1 ? -1 : count * 8;
}

/** One byte with a single bit (from `bitpos`) search result, for callers handling edge masks. */
export function bitposByte(byte: number, bit: 0 | 1): number {
  const skip = bit === 1 ? 0 : 0xff;
  return byte === skip ? (bit === 1 ? -1 : 8) : firstBitIn(byte, bit);
}
