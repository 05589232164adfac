// Throughput scenario: for each test × pipeline, size the run, warm every target, then alternate
// runs target by target and keep the medians, so slow drifts in machine noise hit all of them equally.
import { prepareBackends } from './bench-keyspace.js';
import { cpuSeconds } from './cpu-usage.js';
import type { GcWindow } from './gc-trace.js';
import { runRedisBenchmark, type BenchSample, type BenchTest } from './redis-benchmark.js';
import { waitForPong } from './net-util.js';
import { summarize, type SummaryStats } from './stats.js';
import type { RunningTarget } from './targets.js';

/** One redis-benchmark run plus how busy the server was during it. */
export type RunSample = BenchSample & {
  /** redis-benchmark's -n for this run. */
  requests: number;
  /** Server CPU seconds / wall seconds of the redis-benchmark process, in %. ~100 = server-bound. */
  serverCpuPercent: number;
  /** Server CPU seconds of the run / requests, in µs: the server's own cost per request. */
  serverCpuMicrosPerRequest: number;
  /** What the target's garbage collector did during the run (targets started with gcTrace only). */
  gc?: GcWindow;
  /** The same for a proxy target's backends (absent for a target without backends). */
  backendCpuPercent?: number;
};

export interface ThroughputSettings {
  tests: readonly BenchTest[];
  pipelines: readonly number[];
  repeats: number;
  clients: number;
  randomKeys: number;
  fixedRequests: number | null;
  targetRunSeconds: number;
  /** CPU for redis-benchmark, or undefined for no pinning. */
  clientCpu?: number;
}

export interface TestResult {
  test: string;
  pipeline: number;
  requests: number;
  candidate: SummaryStats & { samples: RunSample[] };
  baseline: SummaryStats & { samples: RunSample[] };
  /** candidate rps / baseline rps (medians). */
  ratio: number;
  /** candidate best rps / baseline best rps: the ratio least affected by outside interference. */
  bestRatio: number;
}

/** Something that could not be measured (e.g. a command our node does not support yet). */
export interface CellFailure {
  test: string;
  /** null for the memory test. */
  pipeline: number | null;
  message: string;
}

const MIN_REQUESTS = 10_000;
const MAX_REQUESTS = 20_000_000;
/** Short first run: warms both servers (JIT, allocator) and measures the baseline's speed for sizing. */
const CALIBRATION_SECONDS_GUESS = 0.15;
const CALIBRATION_RPS_GUESS = { 1: 100_000, many: 600_000 };

/** Request count that makes a run take about `seconds` at `rps`, rounded to 1000, clamped. */
export function requestsForDuration(rps: number, seconds: number): number {
  const raw = Math.round((rps * seconds) / 1000) * 1000;
  return Math.min(MAX_REQUESTS, Math.max(MIN_REQUESTS, raw));
}

/**
 * Measures every test × pipeline cell. A failing cell is recorded and skipped, so one command
 * the candidate does not support yet does not hide the others' numbers.
 */
export async function runThroughput(
  candidate: RunningTarget,
  baseline: RunningTarget,
  settings: ThroughputSettings,
  log: (line: string) => void,
): Promise<{ results: TestResult[]; failures: CellFailure[] }> {
  const results: TestResult[] = [];
  const failures: CellFailure[] = [];
  let filled = false;
  for (const test of settings.tests) {
    // GET must read hits on both servers whatever ran before it (with --tests=get alone it would
    // otherwise measure the nil path: 0.79× where the filled keyspace gives 0.46×).
    if (test.tName === 'get' && !filled) {
      log(`keyspace: filling both servers with the ${settings.randomKeys} keys GET draws from`);
      await prepareBackends([candidate.port, baseline.port], 'filled', settings.randomKeys);
      filled = true;
    }
    for (const pipeline of settings.pipelines) {
      try {
        const result = await measureCell(candidate, baseline, test, pipeline, settings);
        results.push(result);
        log(`${test.id} -P ${pipeline} -n ${result.requests}: ${Math.round(result.candidate.rps)} vs ${Math.round(result.baseline.rps)} rps (ratio ${result.ratio.toFixed(2)}, best-run ratio ${result.bestRatio.toFixed(2)})`);
      } catch (err) {
        failures.push({ test: test.id, pipeline, message: (err as Error).message });
        log(`${test.id} -P ${pipeline} FAILED: ${(err as Error).message}`);
      }
    }
  }
  return { results, failures };
}

/**
 * One redis-benchmark run against `target`, with the CPU its processes (and backends) used and,
 * for a GC-traced target, a heap mark just before and just after it.
 */
async function timedRun(target: RunningTarget, test: BenchTest, pipeline: number, requests: number, settings: ThroughputSettings): Promise<RunSample> {
  const backendPids = target.backendPids ?? [];
  await target.gc?.mark(target.pids); // opens the run's window
  const cpuBefore = await cpuSeconds(target.pids);
  const backendBefore = await cpuSeconds(backendPids);
  const started = process.hrtime.bigint();
  const sample = await runRedisBenchmark({
    port: target.port, test, pipeline, requests,
    clients: settings.clients, randomKeys: settings.randomKeys, cpu: settings.clientCpu,
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpu = (await cpuSeconds(target.pids)) - cpuBefore;
  const backendCpu = (await cpuSeconds(backendPids)) - backendBefore;
  const gc = await target.gc?.mark(target.pids);
  return {
    ...sample,
    requests,
    serverCpuPercent: (serverCpu / wallSeconds) * 100,
    serverCpuMicrosPerRequest: (serverCpu / requests) * 1e6,
    ...(backendPids.length === 0 ? {} : { backendCpuPercent: (backendCpu / wallSeconds) * 100 }),
    ...(gc === undefined ? {} : { gc }),
  };
}

const RESUME_DEADLINE_MS = 10_000;

function signalAll(pids: readonly number[], signal: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of pids) process.kill(pid, signal);
}

/** Freezes every freezable target but `active` and makes sure `active` runs and answers PING. */
async function focusOn(targets: readonly RunningTarget[], active: RunningTarget): Promise<void> {
  for (const t of targets) if (t !== active && t.freezeWhenIdle) signalAll(t.pids, 'SIGSTOP');
  if (active.freezeWhenIdle) {
    signalAll(active.pids, 'SIGCONT');
    await waitForPong(active.port, RESUME_DEADLINE_MS, () => false);
  }
}

function thawAll(targets: readonly RunningTarget[]): void {
  for (const t of targets) if (t.freezeWhenIdle) signalAll(t.pids, 'SIGCONT');
}

/**
 * Warm-up + sizing, then `repeats` rounds of one run per target in list order. The target at
 * `sizeBy` warms up first and its warm-up rate sizes every run; samples[i] belong to targets[i].
 */
export async function sampleAlternating(
  targets: readonly RunningTarget[],
  sizeBy: number,
  test: BenchTest,
  pipeline: number,
  settings: ThroughputSettings,
): Promise<{ requests: number; samples: RunSample[][] }> {
  const runOn = async (target: RunningTarget, requests: number): Promise<RunSample> => {
    await focusOn(targets, target);
    return timedRun(target, test, pipeline, requests, settings);
  };
  try {
    const guessRps = pipeline === 1 ? CALIBRATION_RPS_GUESS[1] : CALIBRATION_RPS_GUESS.many;
    const warmupRequests = requestsForDuration(guessRps, CALIBRATION_SECONDS_GUESS);
    const sizingWarmup = await runOn(targets[sizeBy], warmupRequests);
    for (const [i, target] of targets.entries()) {
      if (i !== sizeBy) await runOn(target, warmupRequests);
    }
    const requests = settings.fixedRequests ?? requestsForDuration(sizingWarmup.rps, settings.targetRunSeconds);
    const samples: RunSample[][] = targets.map(() => []);
    for (let round = 0; round < settings.repeats; round++) {
      for (const [i, target] of targets.entries()) samples[i].push(await runOn(target, requests));
    }
    return { requests, samples };
  } finally {
    // A frozen process would ignore SIGTERM at shutdown and outlive its cell's measurements.
    thawAll(targets);
  }
}

/** Warm-up + sizing on the baseline, then `repeats` alternating runs (candidate first), medians. */
async function measureCell(
  candidate: RunningTarget,
  baseline: RunningTarget,
  test: BenchTest,
  pipeline: number,
  settings: ThroughputSettings,
): Promise<TestResult> {
  const { requests, samples: [candidateSamples, baselineSamples] } = await sampleAlternating([candidate, baseline], 1, test, pipeline, settings);
  const c = summarize(candidateSamples);
  const b = summarize(baselineSamples);
  return {
    test: test.id, pipeline, requests,
    candidate: { ...c, samples: candidateSamples },
    baseline: { ...b, samples: baselineSamples },
    ratio: b.rps === 0 ? 0 : c.rps / b.rps,
    bestRatio: b.bestRps === 0 ? 0 : c.bestRps / b.bestRps,
  };
}
