// Proxy counters: per-command calls, errors and latency (HDR histograms), totals and QPS, for
// /stats, /metrics and INFO.
import hdr from 'hdr-histogram-js';

export interface CommandStats {
  calls: number;
  errors: number;
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

  record(command: string, ms: number, error: boolean): void {
    this.totalCommands++;
    if (error) this.totalErrors++;
    let st = this.commands.get(command);
    if (!st) {
      st = { calls: 0, errors: 0, histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 }) };
      this.commands.set(command, st);
    }
    st.calls++;
    if (error) st.errors++;
    st.histogram.recordValue(Math.max(1, Math.round(ms * 1000))); // microseconds
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
