// PFSELFTEST (hyperloglog.c's pfselftestCommand): register access over random values, then 10M
// elements added to a dense and a sparse HLL whose estimates must agree and stay within 6 σ.
// Like Redis it runs to completion in one call (about a second): an admin command, not for proxies.
import {
  HLL_HDR_SIZE,
  HLL_REGISTERS,
  HLL_REGISTER_MAX,
  HLL_SPARSE,
  HllBuffer,
  denseGet,
  denseSet,
  emptyHllBytes,
  estimateFromHistogram,
  hllPatLenOf64,
} from '../keyspace/types/hyperloglog.js';
import type { Session } from '../session.js';

const TEST_CYCLES = 1000;
const ELEMENTS = 10_000_000;

function newDense(): HllBuffer {
  const h = HllBuffer.from(emptyHllBytes());
  h.toDense();
  return h;
}

function count(h: HllBuffer): number {
  return estimateFromHistogram(h.histogram()!);
}

/** Test 1: every register keeps its value and leaves its neighbours alone. */
function registerTest(): string | null {
  const h = newDense();
  const expected = new Uint8Array(HLL_REGISTERS);
  for (let j = 0; j < TEST_CYCLES; j++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = Math.floor(Math.random() * 65536) & HLL_REGISTER_MAX;
      expected[i] = r;
      denseSet(h.b, HLL_HDR_SIZE, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(h.b, HLL_HDR_SIZE, i);
      if (v !== expected[i]) return `TESTFAILED Register ${i} should be ${expected[i]} but is ${v}`;
    }
  }
  return null;
}

/** Test 2: dense and sparse agree, the sparse form is used while small, the error is bounded. */
function approximationTest(sparseMaxBytes: number): string | null {
  const dense = newDense();
  const sparse = HllBuffer.from(emptyHllBytes());
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLo = Math.floor(Math.random() * 2 ** 32);
  const seedHi = Math.floor(Math.random() * 2 ** 32);
  let checkpoint = 1;
  for (let j = 1; j <= ELEMENTS; j++) {
    // The element is the 8 little-endian bytes of j ^ seed.
    const packed = hllPatLenOf64(seedHi, (j ^ seedLo) >>> 0); // one hash for both forms
    dense.addHashed(packed, sparseMaxBytes);
    sparse.addHashed(packed, sparseMaxBytes);
    if (j !== checkpoint) continue;
    if (j < sparseMaxBytes / 2 && sparse.encoding !== HLL_SPARSE) return 'TESTFAILED sparse encoding not used';
    const estimate = count(dense);
    if (estimate !== count(sparse)) return 'TESTFAILED dense/sparse disagree';
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    const abserr = Math.abs(checkpoint - estimate);
    if (abserr > maxerr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`;
    checkpoint *= 10;
  }
  return null;
}

export function pfselftestCommand(s: Session): void {
  const failure = registerTest() ?? approximationTest(s.server.config.getInt('hll-sparse-max-bytes'));
  if (failure !== null) s.w.error(failure);
  else s.w.ok();
}
