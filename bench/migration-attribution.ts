// Where the migration scenario's slow probe requests waited: every process's main thread is
// sampled from /proc/<pid>/schedstat (CPU time run, time runnable but waiting for a CPU), and each
// probe request over the target's line (3 × idle p99) is lined up with what the processes on its
// path (harness → proxy 1 → source or target master) did during it. A process that ran for most
// of the request's time had its event loop busy; one that waited for a CPU most of it shared a
// core; a request during which no process on its path was busy waited for something else (a key
// lock of the mover, an ASK hop). Plus the mover's own count of how long batches held keys locked.
import { readFileSync } from 'node:fs';

/** Sampling period; a slow request lasts several of them. */
const SAMPLE_MS = 5;
/** Samples kept per process (10 min at SAMPLE_MS): a very long run keeps its first 10 minutes. */
const MAX_SAMPLES = 120_000;
/** A process counts as the cause when it ran (or waited for a CPU) this share of a request's time. */
const DOMINANT_SHARE = 0.5;

export interface SampledProcess {
  name: string;
  pid: number;
}

/** One request of the probe: when it was sent (performance.now()), how long it took, on what. */
export interface ProbeRequest {
  startedAt: number;
  ms: number;
  slot: number;
}

/** Cumulative run and wait ms of each process's main thread, every SAMPLE_MS. */
export class SchedSampler {
  private readonly at = new Float64Array(MAX_SAMPLES);
  private readonly run: Float64Array[];
  private readonly wait: Float64Array[];
  private n = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly procs: readonly SampledProcess[]) {
    this.run = procs.map(() => new Float64Array(MAX_SAMPLES));
    this.wait = procs.map(() => new Float64Array(MAX_SAMPLES));
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    if (this.n >= MAX_SAMPLES) return;
    const i = this.n++;
    this.at[i] = performance.now();
    for (let p = 0; p < this.procs.length; p++) {
      const [run, wait] = schedstat(this.procs[p]!.pid);
      this.run[p]![i] = run;
      this.wait[p]![i] = wait;
    }
  }

  /** Run and wait ms of process `p` between two performance.now() times (interpolated). */
  between(p: number, from: number, to: number): { run: number; wait: number } {
    return { run: this.valueAt(this.run[p]!, to) - this.valueAt(this.run[p]!, from), wait: this.valueAt(this.wait[p]!, to) - this.valueAt(this.wait[p]!, from) };
  }

  private valueAt(series: Float64Array, t: number): number {
    const n = this.n;
    if (n === 0) return 0;
    if (t <= this.at[0]!) return series[0]!;
    if (t >= this.at[n - 1]!) return series[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const span = this.at[hi]! - this.at[lo]!;
    const f = span > 0 ? (t - this.at[lo]!) / span : 0;
    return series[lo]! + f * (series[hi]! - series[lo]!);
  }
}

/** /proc/<pid>/schedstat of the main thread: ns on a CPU, ns runnable but waiting; in ms. 0s when gone. */
function schedstat(pid: number): [number, number] {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  } catch {
    return [0, 0];
  }
}

/** The mover's lock counters (TESSERA.MIGRATE STATUS of the source) over the move. */
export interface LockCounters {
  batches: number;
  keyMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Attribution {
  /** Whether the processes were sampled (--attribute); without, causes and processes are empty. */
  sampled: boolean;
  /** The line: 3 × idle p99. */
  thresholdMs: number;
  requests: number;
  over: number;
  /** Slow requests by what dominated them (a process busy or waiting for a CPU, else "other"). */
  causes: Array<{ cause: string; requests: number; ms: number }>;
  /** Per process: its run and CPU-wait ms summed over the slow requests' windows, and their share of those requests' time. */
  processes: Array<{ name: string; runMs: number; waitMs: number; runShare: number; waitShare: number; baselineRunShare: number }>;
  /** Source mover: batches locked, and the share of the moved keys locked at a random moment of the move. */
  locks: (LockCounters & { lockedShare: number }) | null;
  /** The slowest requests with their window's numbers (the first 30). */
  slowest: Array<{ atMs: number; ms: number; slot: number; cause: string; busy: Record<string, number> }>;
}

/**
 * `paths[i]` are the indexes (into the sampler's processes) on request i's path; the rest are shown
 * but not blamed. Without a sampler (the default run: sampling 9 processes every 5 ms costs the
 * harness ~9% of a CPU, which on this 2-CPU machine competes with what it measures) only the count
 * of slow requests and the mover's lock numbers are given.
 */
export function attribute(
  sampler: SchedSampler | null, requests: readonly ProbeRequest[], thresholdMs: number, pathOf: (r: ProbeRequest) => readonly number[],
  moveStartedAt: number, locks: LockCounters | null, keysMoved: number, moveMs: number,
): Attribution {
  const names = sampler === null ? [] : sampler.procs.map((p) => p.name);
  const totals = names.map(() => ({ run: 0, wait: 0 }));
  const baseline = names.map(() => 0);
  let baselineMs = 0;
  const causes = new Map<string, { requests: number; ms: number }>();
  const slowest: Attribution['slowest'] = [];
  let overMs = 0;
  const slow = requests.filter((r) => r.ms > thresholdMs).sort((a, b) => b.ms - a.ms);
  for (const r of requests) {
    baselineMs += r.ms;
    for (let p = 0; p < names.length; p++) baseline[p] += sampler!.between(p, r.startedAt, r.startedAt + r.ms).run;
  }
  for (const r of slow) {
    overMs += r.ms;
    const end = r.startedAt + r.ms;
    const busy: Record<string, number> = {};
    let cause = sampler === null ? 'not sampled (run with --attribute)' : 'other (no process on its path busy: key lock, redirect, network)';
    let best = DOMINANT_SHARE;
    const path = new Set(pathOf(r));
    for (let p = 0; p < names.length; p++) {
      const { run, wait } = sampler!.between(p, r.startedAt, end);
      totals[p]!.run += run;
      totals[p]!.wait += wait;
      busy[names[p]!] = Math.round(run);
      if (!path.has(p)) continue;
      if (run / r.ms > best) { best = run / r.ms; cause = `${names[p]} busy`; }
      if (wait / r.ms > best) { best = wait / r.ms; cause = `${names[p]} waiting for a CPU`; }
    }
    if (sampler !== null) {
      const c = causes.get(cause) ?? { requests: 0, ms: 0 };
      c.requests++;
      c.ms += r.ms;
      causes.set(cause, c);
    }
    if (slowest.length < 30) slowest.push({ atMs: Math.round(r.startedAt - moveStartedAt), ms: Math.round(r.ms), slot: r.slot, cause, busy });
  }
  return {
    sampled: sampler !== null, thresholdMs, requests: requests.length, over: slow.length,
    causes: [...causes].map(([cause, c]) => ({ cause, requests: c.requests, ms: Math.round(c.ms) })).sort((a, b) => b.requests - a.requests),
    processes: names.map((name, p) => ({
      name, runMs: Math.round(totals[p]!.run), waitMs: Math.round(totals[p]!.wait),
      runShare: overMs > 0 ? totals[p]!.run / overMs : 0, waitShare: overMs > 0 ? totals[p]!.wait / overMs : 0,
      baselineRunShare: baselineMs > 0 ? baseline[p]! / baselineMs : 0,
    })),
    locks: locks === null ? null : { ...locks, lockedShare: keysMoved > 0 && moveMs > 0 ? locks.keyMs / (keysMoved * moveMs) : 0 },
    slowest,
  };
}
