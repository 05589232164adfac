// Proxy counters: per-command calls, errors and latency (HDR histograms), totals and QPS, for
// /stats, /metrics and INFO.
import hdr from 'hdr-histogram-js';

const LATENCY_SAMPLE = 8;

export interface CommandStats {
  calls: number;
  errors: number;
  /** Requests seen by shouldTime(). */
  sampled: number;
  histogram: hdr.Histogram;
}

export class ProxyStats {
  readonly startedAt = Date.now();
  totalCommands = 0;
  totalErrors = 0;
  totalConnections = 0;
  redirects = 0;
  readonly commands = new Map<string, CommandStats>();
  private qpsWindow: number[] = [];
  private lastTotal = 0;
  private timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      this.qpsWindow.push(this.totalCommands - this.lastTotal);
      this.lastTotal = this.totalCommands;
      if (this.qpsWindow.length > 5) this.qpsWindow.shift();
    }, 1000);
    this.timer.unref();
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
      st = { calls: 0, errors: 0, sampled: 0, histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 }) };
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
    if (ms >= 0) st.histogram.recordValue(Math.max(1, Math.round(ms * 1000))); // microseconds
  }

  snapshot(): Record<string, { calls: number; errors: number; p50_us: number; p99_us: number; max_us: number }> {
    const out: Record<string, { calls: number; errors: number; p50_us: number; p99_us: number; max_us: number }> = {};
    for (const [name, st] of this.commands) {
      out[name] = {
        calls: st.calls,
        errors: st.errors,
        p50_us: st.histogram.getValueAtPercentile(50),
        p99_us: st.histogram.getValueAtPercentile(99),
        max_us: st.histogram.maxValue,
      };
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
