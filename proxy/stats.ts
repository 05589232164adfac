// Proxy counters: per-command calls, errors and latency (HDR histograms since start, plus a
// rolling window of the last RECENT_SLOTS seconds), totals and QPS, for /stats, /metrics and INFO.
import hdr from 'hdr-histogram-js';
import { LatencyWindow, type WindowSummary } from '../common/latency-histogram.js';

const LATENCY_SAMPLE = 8;
/** The recent window: RECENT_SLOTS slots of RECENT_SLOT_MS, rotated by the stats timer. */
export const RECENT_SLOTS = 10;
const RECENT_SLOT_MS = 1000;
// Recent windows in µs with 32 exact values and 16 buckets per power of two (≤ 6 % error), up
// to 60 s: 368 buckets a slot, so a command's window is about 30 KB.
const RECENT_SUB_BITS = 5;
const MAX_US = 60_000_000;

export interface CommandStats {
  calls: number;
  errors: number;
  /** Requests seen by shouldTime(). */
  sampled: number;
  histogram: hdr.Histogram;
  recent: LatencyWindow;
}

export interface RecentFigures {
  windowSeconds: number;
  calls: number;
  errors: number;
  qps: number;
  /** Timed requests behind the percentiles (one in LATENCY_SAMPLE). */
  samples: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

export function newWindow(now = Date.now()): LatencyWindow {
  return new LatencyWindow(RECENT_SLOTS, RECENT_SLOT_MS, RECENT_SUB_BITS, MAX_US, now);
}

export function recentFigures(w: WindowSummary): RecentFigures {
  return {
    windowSeconds: Math.round(w.seconds * 10) / 10, calls: w.calls, errors: w.errors, qps: Math.round(w.qps),
    samples: w.samples, p50_us: w.p50, p99_us: w.p99, max_us: w.max,
  };
}

export class ProxyStats {
  readonly startedAt = Date.now();
  totalCommands = 0;
  totalErrors = 0;
  totalConnections = 0;
  redirects = 0;
  readonly commands = new Map<string, CommandStats>();
  /** Every command's recent latency and calls together. */
  readonly recent = newWindow();
  private qpsWindow: number[] = [];
  private lastTotal = 0;
  private timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(), RECENT_SLOT_MS);
    this.timer.unref();
  }

  private tick(): void {
    this.qpsWindow.push(this.totalCommands - this.lastTotal);
    this.lastTotal = this.totalCommands;
    if (this.qpsWindow.length > 5) this.qpsWindow.shift();
    const now = Date.now();
    this.recent.rotate(now);
    for (const st of this.commands.values()) st.recent.rotate(now);
  }

  /** Requests per second over the last few seconds. */
  get qps(): number {
    if (this.qpsWindow.length === 0) return 0;
    return Math.round(this.qpsWindow.reduce((a, b) => a + b, 0) / this.qpsWindow.length);
  }

  /** The counters of a command (created on first use). */
  entry(command: string): CommandStats {
    let st = this.commands.get(command);
    if (!st) {
      st = {
        calls: 0, errors: 0, sampled: 0,
        histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: 2 }),
        recent: newWindow(),
      };
      this.commands.set(command, st);
    }
    return st;
  }

  /**
   * Whether to time the next request of this command: latency percentiles come from one request
   * in LATENCY_SAMPLE (clock reads and histogram updates per request were a visible share of the
   * proxy's CPU); the first request of a command is always timed. Counts stay exact.
   */
  shouldTime(st: CommandStats): boolean {
    return st.sampled++ % LATENCY_SAMPLE === 0;
  }

  /** Counts a settled request; `ms` is its latency, or -1 when it was not timed. */
  record(st: CommandStats, ms: number, error: boolean): void {
    this.totalCommands++;
    st.calls++;
    if (error) {
      this.totalErrors++;
      st.errors++;
    }
    st.recent.count(error);
    this.recent.count(error);
    if (ms < 0) return;
    const us = Math.max(1, Math.round(ms * 1000)); // microseconds
    st.histogram.recordValue(us);
    // Both windows share one shape, so one bucket index serves them.
    const h = st.recent.current;
    const v = h.clamp(us);
    const i = h.indexOf(v);
    h.recordAt(i, v);
    this.recent.current.recordAt(i, v);
  }

  /** The recent window over all commands. */
  recentSummary(now = Date.now()): RecentFigures {
    return recentFigures(this.recent.summary(now));
  }

  snapshot(now = Date.now()): Record<string, { calls: number; errors: number; p50_us: number; p99_us: number; max_us: number; recent: RecentFigures }> {
    const out: Record<string, { calls: number; errors: number; p50_us: number; p99_us: number; max_us: number; recent: RecentFigures }> = {};
    for (const [name, st] of this.commands) {
      out[name] = {
        calls: st.calls,
        errors: st.errors,
        p50_us: st.histogram.getValueAtPercentile(50),
        p99_us: st.histogram.getValueAtPercentile(99),
        max_us: st.histogram.maxValue,
        recent: recentFigures(st.recent.summary(now)),
      };
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
