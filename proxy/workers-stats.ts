// Stats of a multi-worker proxy: a worker exports its ProxyStats in a mergeable form (counts,
// HDR histograms, recent-window buckets) and the primary sums the exports. Admin-time only: never
// on the request path.
import hdr from 'hdr-histogram-js';
import { type LatencyWindow, LogHistogram } from '../common/latency-histogram.js';
import { type ProxyStats, type RecentFigures, recentFigures } from './stats.js';

/** A recent window: its figures and its slots' histograms summed, as (bucket, count) pairs. */
export interface WindowExport {
  seconds: number;
  calls: number;
  errors: number;
  subBits: number;
  maxValue: number;
  max: number;
  buckets: number[];
}

export interface CommandExport {
  calls: number;
  errors: number;
  /** The since-start HDR histogram, hdr-histogram-js's compressed base64. */
  histogram: string;
  recent: WindowExport;
}

/** Counters small enough to send every second (the heartbeat); a dead worker's last ones are kept. */
export interface Totals {
  sessions: number;
  totalConnections: number;
  totalCommands: number;
  totalErrors: number;
  redirects: number;
  qps: number;
  /** command → [calls, errors] */
  commands: Record<string, [number, number]>;
}

export interface StatsExport {
  totals: Totals;
  recent: WindowExport;
  commands: Record<string, CommandExport>;
}

export function emptyTotals(): Totals {
  return { sessions: 0, totalConnections: 0, totalCommands: 0, totalErrors: 0, redirects: 0, qps: 0, commands: {} };
}

export function totalsOf(stats: ProxyStats, sessions: number): Totals {
  const commands: Record<string, [number, number]> = {};
  for (const [name, st] of stats.commands) commands[name] = [st.calls, st.errors];
  return {
    sessions, totalConnections: stats.totalConnections, totalCommands: stats.totalCommands,
    totalErrors: stats.totalErrors, redirects: stats.redirects, qps: stats.qps, commands,
  };
}

/** Adds `t` into `into` (sessions and qps too: callers leave them out for dead workers). */
export function addTotals(into: Totals, t: Totals): void {
  into.sessions += t.sessions;
  into.totalConnections += t.totalConnections;
  into.totalCommands += t.totalCommands;
  into.totalErrors += t.totalErrors;
  into.redirects += t.redirects;
  into.qps += t.qps;
  for (const [name, [calls, errors]] of Object.entries(t.commands)) {
    const c = (into.commands[name] ??= [0, 0]);
    c[0] += calls;
    c[1] += errors;
  }
}

export function exportStats(stats: ProxyStats, sessions: number, now = Date.now()): StatsExport {
  const commands: Record<string, CommandExport> = {};
  for (const [name, st] of stats.commands) {
    commands[name] = { calls: st.calls, errors: st.errors, histogram: hdr.encodeIntoCompressedBase64(st.histogram), recent: exportWindow(st.recent, now) };
  }
  return { totals: totalsOf(stats, sessions), recent: exportWindow(stats.recent, now), commands };
}

/**
 * A window's slots summed. Slots the window has not reached yet were never written (rotate()
 * clears a slot as it enters), so the sum over the ring is the sum over the live slots.
 */
export function exportWindow(w: LatencyWindow, now = Date.now()): WindowExport {
  const s = w.summary(now);
  const first = w.ring[0]!;
  const buckets: number[] = [];
  let max = 0;
  for (let i = 0; i < first.counts.length; i++) {
    let n = 0;
    for (const h of w.ring) n += h.counts[i]!;
    if (n > 0) buckets.push(i, n);
  }
  for (const h of w.ring) if (h.max > max) max = h.max;
  return { seconds: s.seconds, calls: s.calls, errors: s.errors, subBits: first.subBits, maxValue: first.maxValue, max, buckets };
}

/** Recent windows of several workers summed: calls and rates add, percentiles from the summed buckets. */
export class WindowSum {
  private h: LogHistogram | null = null;
  private seconds = 0;
  private calls = 0;
  private errors = 0;
  private qps = 0;

  add(e: WindowExport): void {
    const h = (this.h ??= new LogHistogram(e.subBits, e.maxValue));
    for (let k = 0; k + 1 < e.buckets.length; k += 2) {
      const i = e.buckets[k]!;
      if (i < h.counts.length) h.counts[i] = h.counts[i]! + e.buckets[k + 1]!;
      h.total += e.buckets[k + 1]!;
    }
    if (e.max > h.max) h.max = e.max;
    this.seconds = Math.max(this.seconds, e.seconds);
    this.calls += e.calls;
    this.errors += e.errors;
    this.qps += e.seconds > 0 ? e.calls / e.seconds : 0;
  }

  figures(): RecentFigures {
    const h = this.h;
    return recentFigures({
      seconds: this.seconds, calls: this.calls, errors: this.errors, qps: this.qps,
      samples: h?.total ?? 0, p50: h?.valueAtPercentile(50) ?? 0, p99: h?.valueAtPercentile(99) ?? 0, max: h?.max ?? 0,
    });
  }
}

export interface CommandFigures {
  calls: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  recent: RecentFigures;
}

/** Sums StatsExports (live workers) and Totals (dead workers' last heartbeats) into /stats figures. */
export class StatsSum {
  readonly totals = emptyTotals();
  readonly recent = new WindowSum();
  private readonly commands = new Map<string, { calls: number; errors: number; histogram: hdr.Histogram | null; recent: WindowSum }>();

  addExport(e: StatsExport): void {
    addTotals(this.totals, e.totals);
    this.recent.add(e.recent);
    for (const [name, c] of Object.entries(e.commands)) {
      const m = this.command(name);
      m.calls += c.calls;
      m.errors += c.errors;
      const h = hdr.decodeFromCompressedBase64(c.histogram);
      if (m.histogram === null) m.histogram = h;
      else m.histogram.add(h);
      m.recent.add(c.recent);
    }
  }

  /**
   * Counters without latencies: a dead worker's (its histograms went with it; sessions and qps
   * not added), or with `live` a worker's last heartbeat when it did not answer in time.
   */
  addRetired(t: Totals, live = false): void {
    addTotals(this.totals, live ? t : { ...t, sessions: 0, qps: 0 });
    for (const [name, [calls, errors]] of Object.entries(t.commands)) {
      const m = this.command(name);
      m.calls += calls;
      m.errors += errors;
    }
  }

  private command(name: string) {
    let m = this.commands.get(name);
    if (m === undefined) {
      m = { calls: 0, errors: 0, histogram: null, recent: new WindowSum() };
      this.commands.set(name, m);
    }
    return m;
  }

  commandFigures(): Record<string, CommandFigures> {
    const out: Record<string, CommandFigures> = {};
    for (const [name, m] of this.commands) {
      out[name] = {
        calls: m.calls, errors: m.errors,
        p50_us: m.histogram?.getValueAtPercentile(50) ?? 0, p99_us: m.histogram?.getValueAtPercentile(99) ?? 0, max_us: m.histogram?.maxValue ?? 0,
        recent: m.recent.figures(),
      };
    }
    return out;
  }
}
