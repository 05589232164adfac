// Medians over repeated benchmark runs. Pure functions.
import { addGcWindows, emptyGcWindow, type GcWindow } from './gc-trace.js';
import type { BenchSample } from './redis-benchmark.js';

type Sample = BenchSample & { requests?: number; serverCpuPercent?: number; serverCpuMicrosPerRequest?: number; backendCpuPercent?: number; gc?: GcWindow };

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface SummaryStats {
  /** Median over runs of each metric, taken independently. */
  rps: number;
  /** Highest rps over runs: interference only ever slows a run, so the best run is the least disturbed. */
  bestRps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median server CPU % over runs, or null when not measured. */
  serverCpuPercent: number | null;
  /** Median CPU % of a proxy target's backends, or null when not measured. */
  backendCpuPercent: number | null;
  /** Median over runs of the server's CPU µs per request (run CPU time / requests), or null. */
  serverCpuMicrosPerRequest: number | null;
  /** The GC of every run summed (GC-traced targets only), or null. */
  gc: GcSummary | null;
  /** (max − min) / median of rps over runs: how noisy this cell was. */
  rpsSpread: number;
}

/** GC windows of a cell's runs added up, with the per-request figures the targets use. */
export interface GcSummary extends GcWindow {
  requests: number;
  /** allocatedBytes / requests: heap-mark deltas + bytes freed (exact at the marks). */
  allocatedBytesPerRequest: number;
  /** scavengeFreedBytes / requests: --trace-gc's view alone (counts only what scavenges freed). */
  scavengeFreedBytesPerRequest: number;
}

/** Sums the runs' GC windows; null unless every run has one and a request count. */
export function summarizeGc(samples: readonly Sample[]): GcSummary | null {
  if (samples.length === 0 || samples.some((s) => s.gc === undefined || s.requests === undefined)) return null;
  const total = samples.reduce((acc, s) => addGcWindows(acc, s.gc!), emptyGcWindow());
  const requests = samples.reduce((n, s) => n + s.requests!, 0);
  return {
    ...total,
    requests,
    allocatedBytesPerRequest: requests === 0 ? 0 : total.allocatedBytes / requests,
    scavengeFreedBytesPerRequest: requests === 0 ? 0 : total.scavengeFreedBytes / requests,
  };
}

function medianIfMeasured(values: ReadonlyArray<number | undefined>): number | null {
  return values.every((v) => v !== undefined) ? median(values as number[]) : null;
}

export function summarize(samples: readonly Sample[]): SummaryStats {
  const rpsValues = samples.map((s) => s.rps);
  const rps = median(rpsValues);
  return {
    rps,
    bestRps: Math.max(...rpsValues),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    serverCpuPercent: medianIfMeasured(samples.map((s) => s.serverCpuPercent)),
    backendCpuPercent: medianIfMeasured(samples.map((s) => s.backendCpuPercent)),
    serverCpuMicrosPerRequest: medianIfMeasured(samples.map((s) => s.serverCpuMicrosPerRequest)),
    gc: summarizeGc(samples),
    rpsSpread: rps === 0 ? 0 : (Math.max(...rpsValues) - Math.min(...rpsValues)) / rps,
  };
}
