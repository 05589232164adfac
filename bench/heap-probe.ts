// Preloaded into a measured Node process (`node --import <this file's URL> …`) by the bench: on
// SIGUSR2 it prints one line with the V8 heap's used bytes, so the harness can tell exactly what
// was allocated between two signals (used-heap growth + what the collections in between freed,
// from --trace-gc-nvp on the same stdout). It prints a first mark when loaded, which also tells
// the harness that this process may be sent SIGUSR2 (without a handler the signal kills it).
// Writes go to fd 1 synchronously (a pipe is written synchronously on Linux), so they stay in
// order with V8's trace lines on the same pipe.
import { writeSync } from 'node:fs';
import v8 from 'node:v8';
import { HEAP_MARK_PREFIX } from './gc-trace.js';

let seq = 0;

function printMark(): void {
  const h = v8.getHeapStatistics();
  writeSync(1, `${HEAP_MARK_PREFIX} pid=${process.pid} seq=${seq} used=${h.used_heap_size} external=${h.external_memory}\n`);
}

process.on('SIGUSR2', () => {
  seq++;
  printMark();
});
printMark();
