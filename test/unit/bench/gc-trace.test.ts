import { describe, expect, it } from 'vitest';
import { GcAccumulator, parseGcLine, parseHeapMark } from '../../../bench/gc-trace.js';

// Lines as Node 20's V8 prints them with --trace-gc-nvp (fields between the ones we read cut short).
const scavenge = (pid: number, pause: number, before: number, after: number): string =>
  `[${pid}:0x1d5a5490]       29 ms: pause=${pause} mutator=23.1 gc=s reduce_memory=0 scavenge=2.15 total_size_before=${before} total_size_after=${after} holes_size_before=7248 allocated=3960536 promoted=0`;
const markCompact = `[7:0xc198eb0]       50 ms: pause=11.1 mutator=0.6 gc=mc reduce_memory=0 heap.prologue=0.00 total_size_before=9000 total_size_after=4000 holes_size_before=1`;

describe('parseGcLine / parseHeapMark', () => {
  it('reads pid, kind, pause and heap sizes from a --trace-gc-nvp line, and nothing from other lines', () => {
    expect(parseGcLine(scavenge(31847, 2.3, 3960536, 3563720))).toEqual({ pid: 31847, kind: 's', pauseMs: 2.3, sizeBeforeBytes: 3960536, sizeAfterBytes: 3563720 });
    expect(parseGcLine(markCompact)).toMatchObject({ pid: 7, kind: 'mc', pauseMs: 11.1 });
    expect(parseGcLine('[31877:0x37101490]       18 ms: Scavenge 3.8 (4.0) -> 3.4 (5.0) MB, 0.84 / 0.00 ms')).toBeNull();
    expect(parseGcLine('{"level":30,"msg":"proxy listening"}')).toBeNull();
  });

  it('reads heap-probe marks', () => {
    expect(parseHeapMark('tessera-bench-heap pid=12 seq=3 used=1000 external=20')).toEqual({ pid: 12, seq: 3, usedHeapBytes: 1000, externalBytes: 20 });
    expect(parseHeapMark('tessera-bench-heap pid=12 seq=x used=1 external=2')).toBeNull();
  });
});

describe('GcAccumulator', () => {
  it('a window between two marks: collections by generation, pauses, and allocation = freed + used-heap growth', () => {
    const acc = new GcAccumulator();
    expect(acc.onMark({ pid: 1, seq: 0, usedHeapBytes: 5000, externalBytes: 0 })).toBeNull();
    acc.onEvent(parseGcLine(scavenge(1, 0.4, 6000, 4000))!);
    acc.onEvent(parseGcLine(scavenge(1, 0.9, 7000, 4500))!);
    acc.onEvent(parseGcLine(markCompact)!);
    const w = acc.onMark({ pid: 1, seq: 1, usedHeapBytes: 4800, externalBytes: 0 })!;
    // freed 2000 + 2500 + 5000; used went 5000 → 4800.
    expect(w).toEqual({ young: 2, old: 1, pauseTotalMs: 12.4, pauseMaxMs: 11.1, scavengeFreedBytes: 4500, allocatedBytes: 9300 });
    // The next window starts empty.
    expect(acc.onMark({ pid: 1, seq: 2, usedHeapBytes: 4900, externalBytes: 0 })).toEqual({ young: 0, old: 0, pauseTotalMs: 0, pauseMaxMs: 0, scavengeFreedBytes: 0, allocatedBytes: 100 });
  });
});
