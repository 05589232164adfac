// Watches the garbage collector of Node processes the bench started with gcTraceFlags(): reads
// their stdout lines (V8's --trace-gc-nvp and heap-probe.ts's marks, possibly from several worker
// processes sharing one pipe), and measures a window by signalling a mark before and after it.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { addGcWindows, emptyGcWindow, GcAccumulator, parseGcLine, parseHeapMark, type GcWindow } from './gc-trace.js';

/** Node flags for a measured process: one trace line per collection, and the heap probe preloaded. */
export function gcTraceFlags(repoRoot: string): string[] {
  return ['--trace-gc-nvp', `--import=${pathToFileURL(join(repoRoot, 'dist', 'bench', 'heap-probe.js')).href}`];
}

/** A mark not printed by then means the process is stuck or stopped: fail, do not hang. */
const MARK_TIMEOUT_MS = 5000;

interface Waiter {
  pid: number;
  seq: number;
  resolve(window: GcWindow): void;
}

export class GcMonitor {
  private readonly accumulators = new Map<number, GcAccumulator>();
  /** Highest mark seq seen per pid, and the window that mark closed. */
  private readonly seen = new Map<number, { seq: number; window: GcWindow }>();
  /** SIGUSR2s sent per pid. */
  private readonly requested = new Map<number, number>();
  private readonly waiters = new Set<Waiter>();

  /** Feed every stdout line of the watched processes, in order. */
  readonly onLine = (line: string): void => {
    const event = parseGcLine(line);
    if (event !== null) return this.accumulator(event.pid).onEvent(event);
    const mark = parseHeapMark(line);
    if (mark === null) return;
    const window = this.accumulator(mark.pid).onMark(mark) ?? emptyGcWindow();
    this.seen.set(mark.pid, { seq: mark.seq, window });
    for (const w of this.waiters) {
      if (w.pid === mark.pid && mark.seq >= w.seq) {
        this.waiters.delete(w);
        w.resolve(window);
      }
    }
  };

  /** The pids among `pids` whose probe announced itself (only those may be sent SIGUSR2). */
  probed(pids: readonly number[]): number[] {
    return pids.filter((pid) => this.seen.has(pid));
  }

  /**
   * Marks every probed process of `pids` and returns what their collectors did since the previous
   * mark, summed over them. Rejects if one does not answer within MARK_TIMEOUT_MS.
   */
  async mark(pids: readonly number[]): Promise<GcWindow> {
    const windows = await Promise.all(this.probed(pids).map((pid) => this.markOne(pid)));
    return windows.reduce(addGcWindows, emptyGcWindow());
  }

  private markOne(pid: number): Promise<GcWindow> {
    const seq = (this.requested.get(pid) ?? 0) + 1;
    this.requested.set(pid, seq);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`process ${pid} printed no heap mark within ${MARK_TIMEOUT_MS} ms`));
      }, MARK_TIMEOUT_MS);
      const waiter: Waiter = { pid, seq, resolve: (w) => { clearTimeout(timer); resolve(w); } };
      this.waiters.add(waiter);
      try {
        process.kill(pid, 'SIGUSR2');
      } catch (err) {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  private accumulator(pid: number): GcAccumulator {
    let acc = this.accumulators.get(pid);
    if (acc === undefined) {
      acc = new GcAccumulator();
      this.accumulators.set(pid, acc);
    }
    return acc;
  }
}
