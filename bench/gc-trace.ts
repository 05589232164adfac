// What a Node process's garbage collector did, per measured window, from two line kinds on its
// stdout: V8's `--trace-gc-nvp` lines (one per collection: kind, pause, heap object bytes before and
// after) and the marks bench/heap-probe.ts prints on SIGUSR2 (the heap's used bytes right then).
// Pure: lines in, counters out; gc-monitor.ts does the process and signal plumbing.

/** One collection, from a `--trace-gc-nvp` line. */
export interface GcEvent {
  pid: number;
  /** "s" scavenge and "mmc" minor mark-compact are young-generation; "mc"/"ms" full collections. */
  kind: string;
  pauseMs: number;
  /** V8's SizeOfObjects before and after the collection (the same measure as used_heap_size). */
  sizeBeforeBytes: number;
  sizeAfterBytes: number;
}

/** A mark from heap-probe.ts: `seq` counts the probe's SIGUSR2s; null used/external on its ready line. */
export interface HeapMark {
  pid: number;
  seq: number;
  usedHeapBytes: number;
  externalBytes: number;
}

/** The prefix heap-probe.ts prints; shared so the two never drift apart. */
export const HEAP_MARK_PREFIX = 'tessera-bench-heap';

// "[1268:0xc198eb0]       29 ms: pause=2.9 mutator=20.1 gc=s … total_size_before=N total_size_after=M …"
const NVP_LINE = /^\[(\d+):0x[0-9a-f]+\]\s+[\d.]+ ms: pause=([\d.]+) .*?\bgc=(\w+) .*?\btotal_size_before=(\d+) total_size_after=(\d+)/;
const MARK_LINE = new RegExp(`^${HEAP_MARK_PREFIX} pid=(\\d+) seq=(\\d+) used=(\\d+) external=(\\d+)$`);

export function parseGcLine(line: string): GcEvent | null {
  const m = NVP_LINE.exec(line);
  if (m === null) return null;
  return { pid: Number(m[1]), pauseMs: Number(m[2]), kind: m[3], sizeBeforeBytes: Number(m[4]), sizeAfterBytes: Number(m[5]) };
}

export function parseHeapMark(line: string): HeapMark | null {
  const m = MARK_LINE.exec(line);
  if (m === null) return null;
  return { pid: Number(m[1]), seq: Number(m[2]), usedHeapBytes: Number(m[3]), externalBytes: Number(m[4]) };
}

export const isYoung = (kind: string): boolean => kind === 's' || kind === 'mmc';

/** What the collector did between two marks of one process (or summed over processes and runs). */
export interface GcWindow {
  /** Young-generation collections (scavenges). */
  young: number;
  /** Full (old-generation) collections. */
  old: number;
  pauseTotalMs: number;
  /** Longest single pause. */
  pauseMaxMs: number;
  /** Bytes the scavenges freed: --trace-gc's view of allocation, blind to what has not been collected yet. */
  scavengeFreedBytes: number;
  /**
   * Bytes allocated on the V8 heap: freed by every collection in the window + growth of used
   * heap between the marks. Exact at the marks, whatever the young generation's size.
   */
  allocatedBytes: number;
}

export const emptyGcWindow = (): GcWindow => ({ young: 0, old: 0, pauseTotalMs: 0, pauseMaxMs: 0, scavengeFreedBytes: 0, allocatedBytes: 0 });

export function addGcWindows(a: GcWindow, b: GcWindow): GcWindow {
  return {
    young: a.young + b.young,
    old: a.old + b.old,
    pauseTotalMs: a.pauseTotalMs + b.pauseTotalMs,
    pauseMaxMs: Math.max(a.pauseMaxMs, b.pauseMaxMs),
    scavengeFreedBytes: a.scavengeFreedBytes + b.scavengeFreedBytes,
    allocatedBytes: a.allocatedBytes + b.allocatedBytes,
  };
}

/**
 * Per-process accumulator: feed it the process's lines in order; each mark closes the window
 * opened by the previous one. Bounded state (counters only, no event list).
 */
export class GcAccumulator {
  private current = emptyGcWindow();
  private freedSinceMark = 0;
  private lastMark: HeapMark | null = null;

  /** Adds a collection to the open window. */
  onEvent(e: GcEvent): void {
    const freed = Math.max(0, e.sizeBeforeBytes - e.sizeAfterBytes);
    this.freedSinceMark += freed;
    if (isYoung(e.kind)) {
      this.current.young++;
      this.current.scavengeFreedBytes += freed;
    } else {
      this.current.old++;
    }
    this.current.pauseTotalMs += e.pauseMs;
    this.current.pauseMaxMs = Math.max(this.current.pauseMaxMs, e.pauseMs);
  }

  /** Closes the open window at `mark` and returns it (null for the first mark: nothing to compare with). */
  onMark(mark: HeapMark): GcWindow | null {
    const previous = this.lastMark;
    const window = this.current;
    window.allocatedBytes = previous === null ? 0 : Math.max(0, this.freedSinceMark + mark.usedHeapBytes - previous.usedHeapBytes);
    this.lastMark = mark;
    this.current = emptyGcWindow();
    this.freedSinceMark = 0;
    return previous === null ? null : window;
  }
}
