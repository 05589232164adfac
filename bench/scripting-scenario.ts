// Scripting scenario: redis-benchmark of EVALSHA of a 2-command script (INCR then GET of one random
// key) against our node and redis-server, started side by side on the server CPU like the node
// scenario, runs alternating target by target, medians and ratios printed.
import os from 'node:os';
import { resolve } from 'node:path';
import type { BenchOptions } from './options.js';
import { canPinTo, spawnManaged } from './processes.js';
import { parseBenchCsv, type BenchSample } from './redis-benchmark.js';
import { consoleTable, fmtMs, fmtRps, writeJson } from './report.js';
import { RespClient } from './resp-client.js';
import { summarize, type SummaryStats } from './stats.js';
import { assertTesseraCliExists, redisServerTarget, redisStandInTarget, repoRoot, tesseraNodeTarget, type RunningTarget, type Target } from './targets.js';
import { requestsForDuration } from './throughput.js';

/** Same layout as the node scenario: servers on CPU 1, redis-benchmark on CPU 0. */
const SERVER_CPU = 1;
const CLIENT_CPU = 0;
/** Two commands in one script: the round trip through the VM, not the command work, dominates. */
export const SCRIPT = "redis.call('incr', KEYS[1]) return redis.call('get', KEYS[1])";
const KEY = 'script:__rand_int__';
const WARMUP_REQUESTS = 20_000;
/** A run that has not finished by then is hung, not slow. */
const RUN_TIMEOUT_MS = 180_000;

interface Cell {
  pipeline: number;
  requests: number;
  candidate: SummaryStats & { samples: BenchSample[] };
  baseline: SummaryStats & { samples: BenchSample[] };
  ratio: number;
  bestRatio: number;
}

export interface ScriptingBenchReport {
  startedAt: string;
  scenario: 'scripting';
  script: string;
  candidate: string;
  baseline: string;
  environment: { cpus: number; cpuModel: string; node: string; loadAverage: number[]; pinning: string };
  settings: { clients: number; randomKeys: number; repeats: number; targetRunSeconds: number | null; fixedRequests: number | null };
  cells: Cell[];
  failures: string[];
}

interface Settings { clients: number; randomKeys: number; clientCpu?: number }

/** One redis-benchmark run of `EVALSHA sha 1 script:__rand_int__`; rejects on the first error reply. */
async function runEvalsha(port: number, sha: string, pipeline: number, requests: number, s: Settings): Promise<BenchSample> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(s.clients), '-n', String(requests), '-r', String(s.randomKeys),
    '-P', String(pipeline), '--csv', 'EVALSHA', sha, '1', KEY];
  const proc = spawnManaged('redis-benchmark', args, { cpu: s.clientCpu, captureStdout: true });
  const timer = setTimeout(() => void proc.stop(1000), RUN_TIMEOUT_MS);
  const status = await proc.exited;
  clearTimeout(timer);
  if (status !== 0) throw new Error(`redis-benchmark EVALSHA -P ${pipeline} exited with ${status}: ${proc.outputTail()}`);
  // redis-benchmark names a custom command's row by its whole command line.
  return parseBenchCsv(proc.stdout(), `EVALSHA ${sha} 1 ${KEY}`);
}

/** Loads the script and checks one call answers as redis-server would (INCR then GET → the new value). */
async function loadScript(port: number): Promise<string> {
  const client = await RespClient.connect(port);
  try {
    const sha = await client.sendForString(['SCRIPT', 'LOAD', SCRIPT]);
    await client.send(['DEL', 'script:check']);
    const reply = await client.send(['EVALSHA', sha, '1', 'script:check']);
    if (reply !== '1') throw new Error(`EVALSHA on port ${port} answered ${String(reply)}, expected "1"`);
    return sha;
  } finally {
    client.close();
  }
}

async function measureCell(targets: readonly RunningTarget[], sha: string, pipeline: number, options: BenchOptions, s: Settings): Promise<Cell> {
  // Warm both (JIT, allocator); the baseline's warm-up rate sizes every run.
  const sizing = await runEvalsha(targets[1]!.port, sha, pipeline, WARMUP_REQUESTS, s);
  await runEvalsha(targets[0]!.port, sha, pipeline, WARMUP_REQUESTS, s);
  const requests = options.fixedRequests ?? requestsForDuration(sizing.rps, options.targetRunSeconds);
  const samples: BenchSample[][] = [[], []];
  for (let round = 0; round < options.repeats; round++) {
    for (const [i, t] of targets.entries()) samples[i]!.push(await runEvalsha(t.port, sha, pipeline, requests, s));
  }
  const c = summarize(samples[0]!);
  const b = summarize(samples[1]!);
  return {
    pipeline, requests,
    candidate: { ...c, samples: samples[0]! }, baseline: { ...b, samples: samples[1]! },
    ratio: c.rps / b.rps, bestRatio: c.bestRps / b.bestRps,
  };
}

function rows(report: ScriptingBenchReport): string[][] {
  const header = ['test', 'pipeline', 'ours rps', 'redis rps', 'ours/redis', 'best-run ratio', 'ours p50/p99 ms', 'redis p50/p99 ms'];
  return [header, ...report.cells.map((c) => [
    'EVALSHA (INCR+GET)', String(c.pipeline), fmtRps(c.candidate.rps), fmtRps(c.baseline.rps), c.ratio.toFixed(2), c.bestRatio.toFixed(2),
    `${fmtMs(c.candidate.p50Ms)} / ${fmtMs(c.candidate.p99Ms)}`, `${fmtMs(c.baseline.p50Ms)} / ${fmtMs(c.baseline.p99Ms)}`,
  ])];
}

function renderMarkdown(report: ScriptingBenchReport): string {
  const [header, ...body] = rows(report);
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  const e = report.environment;
  return [line(header!), line(header!.map(() => '---')), ...body.map(line), '',
    `${e.cpus} CPUs (${e.cpuModel}), Node ${e.node}, ${e.pinning}; load average ${e.loadAverage.map((l) => l.toFixed(2)).join(', ')} at the start; ` +
    `${report.settings.clients} clients, ${report.settings.randomKeys} random keys, median of ${report.settings.repeats} alternating runs.`,
  ].join('\n');
}

export async function mainScripting(options: BenchOptions, log: (line: string) => void): Promise<void> {
  if (options.ours === 'tessera') assertTesseraCliExists();
  const cpus = os.availableParallelism();
  const pinned = options.pin && canPinTo(SERVER_CPU, cpus) && canPinTo(CLIENT_CPU, cpus);
  if (!pinned) log(options.pin ? 'fewer than 2 CPUs or no taskset: running unpinned, numbers will be noisier' : '--no-pin: running unpinned');
  const candidateTarget: Target = options.ours === 'tessera' ? tesseraNodeTarget : redisStandInTarget;
  const report: ScriptingBenchReport = {
    startedAt: new Date().toISOString(), scenario: 'scripting', script: SCRIPT,
    candidate: candidateTarget.name, baseline: redisServerTarget.name,
    environment: {
      cpus, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: os.loadavg(),
      pinning: pinned ? `servers pinned to CPU ${SERVER_CPU}, redis-benchmark to CPU ${CLIENT_CPU}` : 'unpinned',
    },
    settings: {
      clients: options.clients, randomKeys: options.randomKeys, repeats: options.repeats,
      targetRunSeconds: options.fixedRequests === null ? options.targetRunSeconds : null, fixedRequests: options.fixedRequests,
    },
    cells: [], failures: [],
  };
  const cpu = pinned ? SERVER_CPU : undefined;
  const targets = [await candidateTarget.start({ cpu }), await redisServerTarget.start({ cpu })];
  try {
    const shas = await Promise.all(targets.map((t) => loadScript(t.port)));
    if (shas[0] !== shas[1]) throw new Error(`SCRIPT LOAD answered ${shas[0]} vs ${shas[1]}`);
    const s: Settings = { clients: options.clients, randomKeys: options.randomKeys, clientCpu: pinned ? CLIENT_CPU : undefined };
    for (const pipeline of options.pipelines) {
      try {
        const cell = await measureCell(targets, shas[0]!, pipeline, options, s);
        report.cells.push(cell);
        log(`EVALSHA -P ${pipeline} -n ${cell.requests}: ${Math.round(cell.candidate.rps)} vs ${Math.round(cell.baseline.rps)} rps (ratio ${cell.ratio.toFixed(2)})`);
      } catch (err) {
        report.failures.push(`-P ${pipeline}: ${(err as Error).message}`);
        log(`EVALSHA -P ${pipeline} FAILED: ${(err as Error).message}`);
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(`${consoleTable(rows(report))}\n`);
  for (const f of report.failures) process.stdout.write(`Not measured: ${f}\n`);
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderMarkdown(report)}\n`);
  log(`results written to ${jsonPath}`);
  if (report.failures.length > 0) process.exitCode = 1;
}
