// `npm run bench -- --scenario=failover`: runs failover.ts, prints the tables and the pass/fail
// checks, writes JSON. Exit code 1 when a check fails or the scenario could not run.
import os from 'node:os';
import { resolve } from 'node:path';
import type { BenchOptions } from './options.js';
import { buildFailoverReport, renderFailoverConsole, renderFailoverMarkdown, type FailoverIdleResult, type FailoverRunResult } from './failover-report.js';
import { runFailoverScenario } from './failover.js';
import { writeJson } from './report.js';
import { assertTesseraCliExists, repoRoot } from './targets.js';

// The coordinator's defaults the scenario runs with (docs/failover.md "Health checks").
const DOWN_AFTER_MS = 1000;
const HEALTH_INTERVAL_MS = 250;
const WAIT_TIMEOUT_MS = 100;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

export async function mainFailover(options: BenchOptions): Promise<void> {
  assertTesseraCliExists();
  const settings = { runs: options.failover.runs, idleSeconds: options.failover.idleSeconds, waitTimeoutMs: WAIT_TIMEOUT_MS };
  const failures: string[] = [];
  let runs: FailoverRunResult[] = [];
  let idle: FailoverIdleResult | null = null;
  const loadAtStart = os.loadavg()[0]!;
  try {
    ({ runs, idle } = await runFailoverScenario(settings, log));
  } catch (err) {
    failures.push((err as Error).message);
    log(`failover FAILED: ${(err as Error).message}`);
  }
  const report = buildFailoverReport({
    startedAt: new Date().toISOString(),
    environment: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAvg: [loadAtStart, os.loadavg()[0]!] },
    settings: { ...settings, downAfterMs: DOWN_AFTER_MS, healthIntervalMs: HEALTH_INTERVAL_MS },
  }, runs, idle, failures);
  const jsonPath = resolve(repoRoot(), options.resultsPath);
  await writeJson(jsonPath, report);
  process.stdout.write(renderFailoverConsole(report));
  process.stdout.write(`\n--- markdown for docs/performance.md ---\n\n${renderFailoverMarkdown(report)}\n`);
  log(`results written to ${jsonPath}`);
  if (!report.pass) process.exitCode = 1;
}
